#!/usr/bin/env bash
# Make sure the Debian 12 packages kslab builds with are installed.
# As root it installs what is missing with apt-get; otherwise it prints the exact apt-get line
# and exits 2.
set -euo pipefail

# (libjansson-dev: JSON results and SARIF; libdw-dev (elfutils): symbolized backtraces of a crashing
# driver; patch: tests/buggy applies its broken variants of the
# reference miniport with it; python3:
# the stream stress tests read kslab's JSON, SARIF and trace output with it; python3-jsonschema:
# the SARIF kslab writes is checked against the official schema; python3-yaml: the CI examples
# in examples/ci are parsed and run.)
PKGS=(build-essential cmake ninja-build pkg-config libcmocka-dev libsndfile1-dev libjansson-dev libdw-dev clang patch
      python3 python3-jsonschema python3-yaml)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "kslab needs these Debian packages: ${missing[*]}" >&2
  echo "install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
