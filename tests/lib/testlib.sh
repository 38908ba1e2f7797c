# Shared by the test scripts (source it): `fail MESSAGE` and `run EXPECTED_RC CMD...`, which keeps
# the command's stdout and stderr in out.txt and err.txt (the caller's current directory) and
# fails, showing both, when the exit status is not the expected one.  Uses $case_name.
fail() { echo "FAIL (${case_name:-test}): $*" >&2; exit 1; }
run() {
  local want=$1; shift
  "$@" >out.txt 2>err.txt
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "--- stdout"; cat out.txt; echo "--- stderr"; cat err.txt
    fail "'$*' exited $rc, expected $want"
  fi
}
