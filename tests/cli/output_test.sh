#!/usr/bin/env bash
# Output that is never corrupt and write errors that are errors (label `output`).
#   output_test.sh CASE KSLAB MISBEHAVE_WAVEPCI.so
# Cases:
#   full        a full device as stdout or as a file: exit 2 with a message
#   special     a FIFO and a character device are written directly, never replaced by a regular
#               file; a directory or a socket is refused; a symbolic link's file is replaced
#   kept        a failed run leaves an existing output byte for byte; no temporary file is left
#   trace       no trace after exit 2, none (and a warning) when the run does not finish
#   signal-TERM, signal-INT   a stopped campaign: exit 143 / 130, the partial summary, no
#               temporary file, no worker left, earlier outputs intact
set -uo pipefail

case_name=$1 kslab=$2 misbehave=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-output.XXXXXX")
cleanup() { [ -n "${bg:-}" ] && kill -9 "$bg" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$tmp" || exit 1

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
run() { # EXPECTED_RC OUT CMD...
  local want=$1 out=$2
  shift 2
  "$@" >"$out" 2>"$out.err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "--- stdout"; head -c 2000 "$out"; echo "--- stderr"; head -c 2000 "$out.err"
    fail "'$*' exited $rc, expected $want"
  fi
}
no_temporaries() { ! ls -A . | grep -q 'kslab-tmp' || fail "a temporary file was left: $(ls -A)"; }
QUICK=(--scenario steady --schedules 5)

case "$case_name" in
full)
  [ -w /dev/full ] || { echo "skipped: no /dev/full"; exit 0; }
  "$kslab" stress ac97 "${QUICK[@]}" --json >/dev/full 2>err.txt
  rc=$?
  [ "$rc" -eq 2 ] || fail "stress --json >/dev/full exited $rc, expected 2"
  grep -q "No space left on device" err.txt || fail "no message: $(cat err.txt)"
  "$kslab" stress ac97 "${QUICK[@]}" >/dev/full 2>err.txt
  [ $? -eq 2 ] || fail "the human report to /dev/full did not exit 2"
  "$kslab" rules >/dev/full 2>err.txt
  [ $? -eq 2 ] || fail "kslab rules >/dev/full did not exit 2"
  run 2 out.txt "$kslab" play --seconds 1 -o /dev/full
  grep -q "cannot write '/dev/full'" out.txt.err || fail "-o /dev/full: $(cat out.txt.err)"
  run 2 out.txt "$kslab" stress ac97 "${QUICK[@]}" --sarif /dev/full
  grep -q "No space left on device" out.txt.err || fail "--sarif /dev/full: $(cat out.txt.err)"
  echo "ok: write errors on stdout and files exit 2 with a message"
  ;;
special)
  # A FIFO: written directly (a reader gets the whole WAV), and still a FIFO afterwards.
  mkfifo out.fifo
  cat out.fifo >got.wav &
  reader=$!
  run 0 out.txt "$kslab" play --seconds 1 -o out.fifo
  wait "$reader"
  [ -p out.fifo ] || fail "out.fifo is no longer a FIFO"
  run 0 ref.txt "$kslab" play --seconds 1 -o ref.wav
  cmp got.wav ref.wav || fail "the WAV read from the FIFO differs from the file"
  mkfifo sarif.fifo
  cat sarif.fifo >got.sarif &
  reader=$!
  run 0 out.txt "$kslab" stress ac97 "${QUICK[@]}" --sarif sarif.fifo
  wait "$reader"
  python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["version"]=="2.1.0"' got.sarif ||
    fail "the SARIF read from the FIFO is not complete"
  # A character device of our own (root only): written, not replaced.
  if mknod null c 1 3 2>/dev/null; then
    run 0 out.txt "$kslab" stress ac97 "${QUICK[@]}" --sarif null
    run 0 out.txt "$kslab" play --seconds 1 -o null --trace null
    [ -c null ] || fail "the device node was replaced by a regular file"
  else
    echo "(not root: the device-node part is skipped)"
  fi
  # Refused: a directory, a socket.  Nothing written.
  mkdir adir
  run 2 out.txt "$kslab" play --seconds 1 -o adir
  grep -q "it is a directory" out.txt.err || fail "-o DIR: $(cat out.txt.err)"
  python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.bind("sock")'
  run 2 out.txt "$kslab" stress ac97 "${QUICK[@]}" --sarif sock
  grep -q "it is a socket" out.txt.err || fail "--sarif SOCKET: $(cat out.txt.err)"
  [ -S sock ] || fail "the socket was replaced"
  # A symbolic link to a file: the file it names is replaced, the link stays a link.
  echo old >target.sarif
  ln -s target.sarif link.sarif
  run 0 out.txt "$kslab" stress ac97 "${QUICK[@]}" --sarif link.sarif
  [ -L link.sarif ] || fail "the link was replaced by a file"
  grep -q '"version": "2.1.0"' target.sarif || fail "the linked file was not written"
  no_temporaries
  echo "ok: FIFOs and devices written directly, directories and sockets refused, links followed"
  ;;
kept)
  printf 'OLD SARIF\n' >s.sarif
  printf 'OLD WAV\n' >o.wav
  cp s.sarif s.before && cp o.wav o.before
  run 2 out.txt "$kslab" stress no-such-driver --sarif s.sarif
  run 2 out.txt "$kslab" play --driver no-such-driver --seconds 1 -o o.wav
  run 2 out.txt "$kslab" play --cpus 0 -o o.wav
  KSLAB_MISBEHAVE=crash run 1 out.txt "$kslab" play --driver "$misbehave" --seconds 1 -o o.wav
  cmp s.sarif s.before || fail "a failed run changed s.sarif"
  cmp o.wav o.before || fail "a failed run changed o.wav"
  run 2 out.txt "$kslab" play --seconds 1 --sarif nodir/x.sarif
  [ ! -e nodir ] || fail "a missing folder was created"
  no_temporaries
  echo "ok: failed runs leave earlier outputs as they were"
  ;;
trace)
  run 2 out.txt "$kslab" play --driver isr-dpc-pio --trace t1.json
  [ ! -e t1.json ] || fail "a trace was written by a run that exited 2"
  KSLAB_MISBEHAVE=crash run 1 out.txt "$kslab" play --driver "$misbehave" --seconds 1 --trace t2.json
  [ ! -e t2.json ] || fail "a partial trace was left by a crashed run"
  grep -q "no trace written for K.driver-crash" out.txt.err || fail "no warning about the trace: $(cat out.txt.err)"
  run 0 out.txt "$kslab" play --seconds 1 --cancel-every 3 --trace t3.json
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' t3.json || fail "the trace of a clean run is not JSON"
  no_temporaries
  echo "ok: traces only from runs that ended with a verdict"
  ;;
signal-TERM|signal-INT)
  sig=${case_name#signal-}
  want=$([ "$sig" = TERM ] && echo 143 || echo 130)
  printf 'OLD\n' >s.sarif
  printf 'OLD\n' >t.json
  seed=$((100000 + $$)) # a command line of its own: pgrep must not see another test's kslab
  "$kslab" stress ac97 --schedules 1000000 --jobs 2 --seed "$seed" --sarif s.sarif --trace t.json >out.txt 2>err.txt &
  bg=$!
  for _ in $(seq 100); do # until it has started its workers
    [ "$(pgrep -c -P "$bg")" -ge 2 ] && break
    sleep 0.05
  done
  sleep 1
  kill -"$sig" "$bg"
  wait "$bg"
  rc=$?
  bg=
  [ "$rc" -eq "$want" ] || fail "exited $rc after SIG$sig, expected $want ($(cat err.txt))"
  grep -Eq "result   interrupted by signal [0-9]+ after [0-9]+ executions" out.txt ||
    fail "no partial summary: $(cat out.txt)"
  grep -q '^  steady  ' out.txt && fail "the interrupted scenario was reported as clean"
  sleep 0.3
  ! pgrep -f "kslab stress ac97 --schedules 1000000 --jobs 2 --seed $seed" >/dev/null || fail "worker processes were left behind"
  [ "$(cat s.sarif)" = OLD ] && [ "$(cat t.json)" = OLD ] || fail "an earlier output changed"
  no_temporaries
  # --json: one complete document, its result "interrupted".
  "$kslab" stress ac97 --schedules 1000000 --json >out.json 2>err.txt &
  bg=$!
  sleep 1.5
  kill -"$sig" "$bg"
  wait "$bg"
  rc=$?
  bg=
  [ "$rc" -eq "$want" ] || fail "--json: exited $rc"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["result"]=="interrupted" and d["executions"]>0, d' out.json ||
    fail "--json: not one interrupted result: $(head -c 300 out.json)"
  echo "ok: SIG$sig stops the campaign: exit $want, partial summary, nothing left behind"
  ;;
*)
  fail "unknown case"
  ;;
esac
