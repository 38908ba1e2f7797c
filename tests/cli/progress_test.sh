#!/usr/bin/env bash
# Progress that fits a terminal and a log:
#
#   progress_test.sh KSLAB BUILD_DIR
#
# On a pipe, stderr gets a whole status line every --status-every seconds (scenario, executions,
# findings so far, race windows reached, an ETA), each finding the moment an execution has it
# ("found", before shrinking) and again once final ("reported", shrunk), before the report; on a
# terminal (a pseudo-terminal here) the status line is rewritten in place with \r and carries the
# windows and the ETA; --json prints neither.
set -uo pipefail
kslab=$1 build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-progress.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL (progress): $*" >&2; exit 1; }
w6=$build/drivers/buggy-revoke-and-release.so

"$kslab" stress "$w6" --keep-going --schedules 60 --status-every 0.1 >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] || fail "the W6 variant did not exit 1"
grep -Eq '^kslab stress: [0-9]+ s: scenario [a-z-]+, [0-9]+ executions \([0-9]+/s\), findings [0-9]+, windows [0-9]/8(, ETA [0-9]+ s)?$' "$tmp/err" ||
  { cat "$tmp/err" >&2; fail "no status line on a pipe"; }
grep -q '^kslab stress: found W6.removed-twice in cancel-race (seed ' "$tmp/err" || fail "the finding was not announced"
grep -q '^kslab stress: reported W6.removed-twice in cancel-race (seed [0-9]*, [0-9]* steps)' "$tmp/err" ||
  fail "the final finding was not announced"
found=$(grep -n '^kslab stress: found W6' "$tmp/err" | head -n 1 | cut -d: -f1)
reported=$(grep -n '^kslab stress: reported W6' "$tmp/err" | head -n 1 | cut -d: -f1)
[ "$found" -lt "$reported" ] || fail "the finding was announced only once final"
grep -q 'ETA' "$tmp/err" || fail "no ETA on a pipe"
! grep -q $'\r' "$tmp/err" || fail "a carriage return on a pipe"
"$kslab" stress "$w6" --keep-going --schedules 60 --status-every 0.1 --json >/dev/null 2>"$tmp/err2"
[ ! -s "$tmp/err2" ] || fail "--json printed progress: $(head -c 200 "$tmp/err2")"

python3 - "$kslab" <<'PY' || fail "no status line on a terminal"
import os, pty, sys
kslab = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(kslab, [kslab, "stress", "ac97", "--schedules", "150", "--jobs", "2"])
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
text = out.decode(errors="replace")
ok = os.WEXITSTATUS(status) == 0 and "\r  " in text and " executions, " in text and "ETA" in text and \
    ", windows " in text
if not ok:
    print(repr(text[:600]))
sys.exit(0 if ok else 1)
PY
echo "ok: status lines and findings on a pipe, the status line in place with an ETA on a terminal"
