#!/usr/bin/env bash
# Drivers that misbehave (tests/misbehave/misbehave.h), under every command that runs a driver.
#   misbehave_test.sh CASE KSLAB WAVEPCI.so STREAM.so
# Cases:
#   running-HOW   HOW in exit, abort, crash, spin, closefds, fork-crash: the driver misbehaves in its entry point, in
#                 `stress`, `play`, `capture` (WavePci) and `stress`, `stream` (stream class): each
#                 exits 1 with the finding (K.driver-exit, K.driver-crash, K.hang) and a token,
#                 never clean, and `replay TOKEN --driver PLUGIN` reproduces the finding.
#   loading-HOW   HOW in exit, crash, spin, closefds, fork-crash: the plugin's constructor
#                 misbehaves: an input error, exit 2, with a message naming the plugin and what
#                 happened, in every command, well within the time limit where kslab can tell.
#   stderr-closed kslab run with its stderr (and stdin) closed: a clean driver is still clean.
#   constructor   a plugin's constructor never runs in the kslab process itself.
#   output        what a driver prints reaches neither --json's stdout nor the report unlabelled.
set -uo pipefail

case_name=$1 kslab=$2 wp=$3 st=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-misbehave.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
unset KSLAB_MISBEHAVE KSLAB_MISBEHAVE_LOAD

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
# run EXPECTED_RC OUT CMD...: stdout to OUT, stderr to OUT.err, check the exit status.
run() {
  local want=$1 out=$2
  shift 2
  "$@" >"$out" 2>"$out.err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "--- stdout"; head -c 3000 "$out"; echo "--- stderr"; head -c 3000 "$out.err"
    fail "'$*' exited $rc, expected $want"
  fi
}
field() { # FILE KEY: a top-level field of a JSON result
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"
}
TIMEOUT=(--timeout 2)

# finding WANT-RULE LABEL PLUGIN CMD...: the command exits 1 with WANT-RULE and a token that
# replays to the same rule with --driver PLUGIN.
finding() {
  local want=$1 label=$2 plugin=$3
  shift 3
  run 1 "$label.json" "$kslab" "$@" --json "${TIMEOUT[@]}"
  local rule token
  rule=$(field "$label.json" rule)
  token=$(field "$label.json" replay)
  [ "$rule" = "$want" ] || fail "$label: rule '$rule', expected '$want'"
  [ "$(field "$label.json" result)" = violation ] || fail "$label: not a violation"
  case "$token" in ksl1-*) ;; *) fail "$label: no replay token" ;; esac
  run 1 "$label.replay.json" "$kslab" replay "$token" --driver "$plugin" --json "${TIMEOUT[@]}"
  [ "$(field "$label.replay.json" rule)" = "$want" ] || fail "$label: the replay gave $(field "$label.replay.json" rule)"
  echo "ok: $label -> $want, replayed"
}

case "$case_name" in
running-*)
  how=${case_name#running-}
  case "$how" in
  exit) want=K.driver-exit ;;
  abort|crash|closefds|fork-crash) want=K.driver-crash ;;
  spin) want=K.hang ;;
  *) fail "unknown way to misbehave '$how'" ;;
  esac
  export KSLAB_MISBEHAVE=$how
  finding "$want" "stress-wavepci" "$wp" stress "$wp" --scenario steady --schedules 3
  finding "$want" "play" "$wp" play --driver "$wp" --seconds 1
  finding "$want" "capture" "$wp" capture --driver "$wp" --seconds 1
  finding "$want" "stress-stream" "$st" stress "$st" --scenario steady --schedules 3
  finding "$want" "stream" "$st" stream --driver "$st" --frames 10
  # The human report names the rule and prints the token with the plugin to give again.
  run 1 human.txt "$kslab" play --driver "$wp" --seconds 1 "${TIMEOUT[@]}"
  grep -q "finding  $want" human.txt || fail "the report does not name $want"
  grep -qF -- "kslab replay ksl1-" human.txt || fail "the report has no replay command"
  grep -qF -- "--driver $wp" human.txt || fail "the replay command does not name the plugin"
  ;;
loading-*)
  how=${case_name#loading-}
  export KSLAB_MISBEHAVE_LOAD=$how
  case "$how" in
  exit) words="it called exit() while loading" ;;
  crash|fork-crash) words="it crashed while loading (" ;; # signal 11, or 6 when a sanitizer aborts
  spin) words="it did not finish loading within 1 s" ;;
  closefds) words="it closed kslab's pipe to the worker process while loading" ;;
  *) fail "unknown way to misbehave '$how'" ;;
  esac
  # closefds and fork-crash are told apart from a hang at once, not at the time limit (20 s here).
  limit=1
  case "$how" in closefds|fork-crash) limit=20 ;; esac
  for cmd in "stress $wp" "play --driver $wp" "capture --driver $wp" "stress $st" "stream --driver $st"; do
    # shellcheck disable=SC2086 # the command's words
    start=$SECONDS
    run 2 out.txt "$kslab" $cmd --timeout $limit
    [ $((SECONDS - start)) -lt 10 ] || fail "$cmd: took $((SECONDS - start)) s to see what the plugin did"
    grep -qF "cannot load driver plugin '" out.txt.err || fail "$cmd: no message naming the plugin: $(cat out.txt.err)"
    grep -qF "$words" out.txt.err || fail "$cmd: the message does not say '$words': $(cat out.txt.err)"
    [ ! -s out.txt ] || grep -qv '^kslab' out.txt || true
  done
  echo "ok: a plugin whose constructor does '$how' is refused, exit 2, in every command"
  ;;
stderr-closed)
  # pipe() hands out the numbers of closed standard descriptors; the workers' must not collide.
  run 0 closed.json bash -c 'exec "$@" 2>&-' _ "$kslab" stress "$wp" --scenario steady --schedules 20 --json
  [ "$(field closed.json result)" = clean ] || fail "with stderr closed, the clean driver was not clean"
  run 0 closed2.txt bash -c '"$@" <&- 2>&-; echo "exit $?"' _ "$kslab" stream --driver "$st" --frames 10
  grep -q "verifier clean" closed2.txt && grep -q "^exit 0$" closed2.txt ||
    fail "with stdin and stderr closed, the stream driver was not clean: $(cat closed2.txt)"
  echo "ok: closed standard descriptors do not confuse the workers"
  ;;
constructor)
  export KSLAB_MISBEHAVE_LOAD=pid KSLAB_MISBEHAVE_PIDFILE=$tmp/pids
  for cmd in "stress $wp --scenario steady --schedules 2" "play --driver $wp --seconds 1" "stream --driver $st --frames 5"; do
    rm -f pids
    # shellcheck disable=SC2086
    bash -c 'echo $$ > self.pid; exec "$@" >out.txt 2>&1' _ "$kslab" $cmd || fail "$cmd failed: $(cat out.txt)"
    self=$(cat self.pid)
    [ -s pids ] || fail "$cmd: the constructor never ran"
    while read -r pid parent; do
      [ "$pid" != "$self" ] || fail "$cmd: the plugin's constructor ran in the kslab process itself"
      [ "$parent" = "$self" ] || fail "$cmd: the constructor ran in process $pid, not a worker of kslab ($self)"
    done <pids
  done
  echo "ok: constructors run only in worker processes"
  ;;
output)
  export KSLAB_MISBEHAVE=print
  for cmd in "play --driver $wp --seconds 1" "stress $wp --scenario steady --schedules 2" "stream --driver $st --frames 5"; do
    # shellcheck disable=SC2086
    run 0 out.json "$kslab" $cmd --json
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' out.json || fail "$cmd --json: stdout is not one JSON document"
    ! grep -q "printing into kslab" out.json || fail "$cmd --json: the driver's output is in the JSON"
  done
  run 0 human.txt "$kslab" play --driver "$wp" --seconds 1
  grep -q "driver output (stdout and stderr, head and tail):" human.txt || fail "no labelled driver output in the report"
  grep -q '^    | {"a driver": "printing into kslab' human.txt || fail "the driver's first line is not shown, labelled"
  grep -q '^    | the driver complains on stderr' human.txt || fail "the driver's stderr is not shown"
  grep -q '^    | \[\.\.\. [0-9]* bytes not shown \.\.\.\]' human.txt || fail "long output is not cut to head and tail"
  grep -q '^    | line 1999 of chatter' human.txt || fail "the tail of the driver's output is not shown"
  grep -q "verifier clean" human.txt || fail "a chatty driver is not clean"
  echo "ok: driver output is captured, bounded and labelled, never in the JSON"
  ;;
*)
  fail "unknown case"
  ;;
esac
