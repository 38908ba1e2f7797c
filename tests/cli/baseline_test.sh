#!/usr/bin/env bash
# Baselines, suppressions and rule selection (--baseline, --suppressions, --rules):
#
#   baseline_test.sh KSLAB BUILD_DIR
#
# A finding in a previous JSON or SARIF result is known and the run exits 0 (still listed, marked);
# a suppression with a justification does the same, and one that matched nothing is a warning; a
# suppression without a justification, an unreadable or foreign baseline are exit 2 before any
# execution; a run with a finding the baseline lacks exits 1.
set -uo pipefail
kslab=$1 build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-baseline.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL (baseline): $*" >&2; exit 1; }
expect() { # exit-status what command...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  [ "$got" -eq "$want" ] || { cat "$tmp/err" >&2; fail "$what: exit $got, expected $want"; }
}
w6=$build/drivers/buggy-revoke-and-release.so
w2=$build/drivers/buggy-isr-touches-ring.so
run=(--scenario cancel-race --schedules 60)

expect 1 "the first run" "$kslab" stress "$w6" --keep-going "${run[@]}" --json --sarif "$tmp/base.sarif"
cp "$tmp/out" "$tmp/base.json"
expect 0 "against its JSON result" "$kslab" stress "$w6" --baseline "$tmp/base.json" "${run[@]}" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); f=d["findings"]
assert d["new_findings"] == 0 and f and all(x["known"] == "baseline" for x in f), d["findings"]' "$tmp/out" ||
  fail "the known finding is not marked"
expect 0 "against its SARIF" "$kslab" stress "$w6" --baseline "$tmp/base.sarif" "${run[@]}"
grep -q "known: in the baseline" "$tmp/out" || fail "the report does not say the finding is known"
# Another driver's finding is new against this baseline.
expect 1 "a new finding" "$kslab" stress "$w2" --baseline "$tmp/base.json" --scenario steady --schedules 20 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["new_findings"] >= 1' "$tmp/out" ||
  fail "the new finding is not counted"

cat >"$tmp/sup.json" <<'J'
{"suppressions": [
  {"rule": "W6.removed-twice", "file": "stream.c", "function": "release_used_mappings",
   "justification": "tracked in #42"},
  {"rule": "W2.hw-queue-unlocked", "justification": "matches nothing here"}]}
J
expect 0 "suppressed" "$kslab" stress "$w6" --suppressions "$tmp/sup.json" --keep-going "${run[@]}"
grep -q "suppressed: tracked in #42" "$tmp/out" || fail "the suppression's justification is not shown"
grep -q "1 suppression(s) matched no finding (the first: entry 2" "$tmp/err" || fail "the unused suppression is not reported"

echo '{"suppressions": [{"rule": "W6.removed-twice"}]}' >"$tmp/nojust.json"
expect 2 "a suppression without a justification" "$kslab" stress "$w6" --suppressions "$tmp/nojust.json" "${run[@]}"
grep -q "needs a \"rule\" and a non-empty \"justification\"" "$tmp/err" || fail "no clear message"
echo '[1, 2]' >"$tmp/foreign.json"
expect 2 "a foreign baseline" "$kslab" stress "$w6" --baseline "$tmp/foreign.json" "${run[@]}"
expect 2 "a missing baseline" "$kslab" stress "$w6" --baseline "$tmp/none.json" "${run[@]}"
expect 2 "--max-findings alone" "$kslab" stress "$w6" --max-findings 1 "${run[@]}"
# --rules: an excluded rule's findings are dropped (an execution with nothing else is clean); a
# finding that ends its execution (a crash) cannot be excluded; a pattern matching no rule is exit 2.
two=$build/drivers/buggy-stream-two-rules.so
rules_of() { python3 -c 'import json,sys; print(" ".join(f["rule"] for f in json.load(open(sys.argv[1]))["findings"]))' "$tmp/out"; }
expect 1 "all rules" "$kslab" stress "$two" --scenario steady --schedules 20 --json
all=$(rules_of)
case "$all" in *S6.dispatch-over-budget*) ;; *) fail "the two-rules variant lost S6: $all";; esac
expect 1 "-S6.*" "$kslab" stress "$two" --scenario steady --schedules 20 --json --rules '-S6.*'
case "$(rules_of)" in *S6.*) fail "S6 was not excluded: $(rules_of)";; *S7.sync-on-long-requests*) ;; *) fail "S7 went too";; esac
expect 1 "S7.* only" "$kslab" stress "$two" --scenario steady --schedules 20 --json --rules 'S7.*'
[ "$(rules_of)" = "S7.sync-on-long-requests" ] || fail "only S7 was asked for: $(rules_of)"
expect 0 "everything excluded" "$kslab" stress "$two" --scenario steady --schedules 20 --rules '-S*,-K*'
expect 1 "a crash is never excluded" "$kslab" stress "$build/drivers/buggy-crash.so" --scenario stop-during-dma \
  --schedules 200 --json --rules '-K.*'
[ "$(rules_of)" = "K.driver-crash" ] || fail "the crash was excluded: $(rules_of)"
expect 2 "a pattern matching no rule" "$kslab" stress "$two" --rules 'X.typo' --schedules 1
grep -q "'X.typo' matches no rule" "$tmp/err" || fail "no clear message for a typo"
echo "ok: baselines (JSON, SARIF) and suppressions keep known findings from failing the run; bad files are exit 2; --rules selects"
