#!/usr/bin/env bash
# Registry files (--registry FILE; docs/REAL-DRIVERS.md "Seeding the registry"):
#
#   registry_test.sh KSLAB SOURCE_DIR BUILD_DIR
#
# (What a seeded registry does to a real driver is tests/real-drivers/reactos_test.sh registry.)
# - A run with a registry file puts its hash in the replay token: a replay without the file is
#   exit 2 naming --registry, with it reproduces (exit 1), with another file is exit 2; the
#   printed replay command names the file.
# - Malformed files are exit 2 before anything runs, naming the file, the key and the value.
set -uo pipefail
kslab=$1 src=$2 build=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-registry.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
case_name=registry
. "$src/tests/lib/testlib.sh"
bug=$build/drivers/buggy-isr-touches-ring.so

cat >reg.json <<'JSON'
{"kslab-registry": 1,
 "keys": {
   "Driver\\Settings": {"MasterVolume": {"REG_BINARY": "0a0a"}, "Mode": {"REG_DWORD": 3}},
   "DeviceRegistryKey\\Parameters": {"Name": {"REG_SZ": "x"}, "List": {"REG_MULTI_SZ": ["a", "bc"]},
                                     "Big": {"REG_QWORD": 4294967296}, "": {"REG_EXPAND_SZ": "%x%"}},
   "HwProfile\\Empty": {}
 }}
JSON
sed 's/"0a0a"/"0b0b"/' reg.json >other.json
run 1 "$kslab" stress "$bug" --scenario steady --schedules 5 --registry reg.json --json
token=$(python3 -c 'import json; print(json.load(open("out.txt"))["replay"])')
run 2 "$kslab" replay "$token" --driver "$bug"
grep -q -- "--registry FILE" err.txt || fail "a registry token replayed without the file: $(cat err.txt)"
run 1 "$kslab" replay "$token" --driver "$bug" --registry reg.json
grep -q "the finding reproduces" out.txt || fail "the replay with the file did not reproduce"
run 2 "$kslab" replay "$token" --driver "$bug" --registry other.json
grep -q "not the registry the token was made with" err.txt || fail "another registry file was not refused: $(cat err.txt)"
run 1 "$kslab" stress "$bug" --scenario steady --schedules 5 --registry reg.json
grep -q "^  replay   kslab replay ksl1-.* --registry reg.json\$" out.txt || fail "the replay command does not name the file"
run 0 "$kslab" play --seconds 1 --registry reg.json
grep -q "verifier clean" out.txt || fail "a registry file broke a driver that reads none"

bad() { # WHAT GREP JSON
  printf '%s\n' "$3" >bad.json
  run 2 "$kslab" play --seconds 1 --registry bad.json
  grep -q -- "$2" err.txt || { cat err.txt; fail "$1: the message does not say '$2'"; }
}
bad "not a registry file" "not a kslab registry file" '{"keys": {}}'
bad "not JSON" "not JSON" '{"kslab-registry": 1,'
bad "a bad root" "must start with General, Device" '{"kslab-registry": 1, "keys": {"Software\\X": {}}}'
bad "a bad type" 'unknown type "REG_FOO"' '{"kslab-registry": 1, "keys": {"Driver": {"v": {"REG_FOO": 1}}}}'
bad "a DWORD out of range" "REG_DWORD takes an integer" \
  '{"kslab-registry": 1, "keys": {"Driver": {"v": {"REG_DWORD": 4294967296}}}}'
bad "odd hex" "even number of hex digits" '{"kslab-registry": 1, "keys": {"Driver": {"v": {"REG_BINARY": "abc"}}}}'
bad "not hex" "hex digits" '{"kslab-registry": 1, "keys": {"Driver": {"v": {"REG_BINARY": "zz"}}}}'
bad "a value of two types" "one member" \
  '{"kslab-registry": 1, "keys": {"Driver": {"v": {"REG_SZ": "a", "REG_DWORD": 1}}}}'
grep -q 'key "Driver", value "v"' err.txt || fail "the message does not name the key and the value: $(cat err.txt)"
run 2 "$kslab" play --seconds 1 --registry missing.json
grep -q "missing.json" err.txt || fail "a missing file is not named"
echo "ok: registry hash in tokens, replay needs the same file, malformed files refused"
