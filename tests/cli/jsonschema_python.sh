# Sourced by the schema tests: sets `py` to a python3 that has jsonschema (Debian's
# python3-jsonschema is for /usr/bin/python3, which need not be the first python3 on PATH), or
# fails the test through the caller's `fail`.
py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import jsonschema' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || fail "no python3 with jsonschema (install python3-jsonschema: scripts/deps.sh)"
