#!/usr/bin/env bash
# The CI examples of docs/CI.md run as written (label `output`):
#
#   ci_examples_test.sh KSLAB SOURCE_DIR BUILD_DIR
#
# examples/ci/github-actions.yml and examples/ci/kubernetes-indexed-job.yaml are parsed as YAML
# (python3-yaml); docs/CI.md shows each of them verbatim.  The GitHub workflow's shard count
# matches its matrix, and the Kubernetes Job's completions match its SHARDS.  Then the kslab
# commands they hold are run as their runner would run them, with a broken driver and a small
# budget in place of theirs: the workflow's stress step once per matrix value (bash -e, the
# matrix expression substituted) and its merge step; the Indexed Job's container command once
# per completion index (sh -c with JOB_COMPLETION_INDEX) and the merge Job's.  Each shard step
# passes (a finding is exit 1, which the steps accept), the merge exits 1 with the findings of
# the unsharded --keep-going run, and writes its SARIF and JUnit.
set -uo pipefail
kslab=$1 src=$2 build=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslab-ci.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL (ci examples): $*" >&2; exit 1; }
python3 -c 'import yaml' 2>/dev/null || fail "no python3-yaml (scripts/deps.sh installs it)"
mkdir -p "$tmp/bin" "$tmp/gh" "$tmp/k8s" "$tmp/results"
ln -s "$kslab" "$tmp/bin/kslab"
driver=$build/drivers/buggy-stale-tail.so

"$kslab" stress "$driver" --keep-going --schedules 40 --jobs 2 --json >"$tmp/whole.json"
[ $? -eq 1 ] || fail "the unsharded run did not find anything"

PATH="$tmp/bin:$PATH" python3 - "$src" "$tmp" "$driver" <<'PY' || fail "an example does not run as written"
import json, os, re, subprocess, sys
import yaml

src, tmp, driver = sys.argv[1:4]
doc = open(os.path.join(src, "docs/CI.md")).read()
gh_text = open(os.path.join(src, "examples/ci/github-actions.yml")).read()
k8s_text = open(os.path.join(src, "examples/ci/kubernetes-indexed-job.yaml")).read()
for name, text in (("github-actions.yml", gh_text), ("kubernetes-indexed-job.yaml", k8s_text)):
    assert "```yaml\n" + text + "```" in doc, "docs/CI.md does not show examples/ci/" + name + " verbatim"

def sh(cmd, shell, cwd, env, ok=(0,)):
    full = dict(os.environ, **env)
    p = subprocess.run(shell + [cmd], cwd=cwd, env=full, capture_output=True, text=True)
    assert p.returncode in ok, "%r exited %d: %s" % (cmd, p.returncode, p.stderr[-1500:])
    return p

def findings(path):
    d = json.load(open(path))
    return [(f["rule"], f["scenario"], f["seed"], f["replay"]) for f in d["findings"]]

whole = findings(os.path.join(tmp, "whole.json"))
small = {"DRIVER": driver, "SCHEDULES": "40"}

# GitHub Actions: the matrix, the stress step per shard, the merge step.
gh = yaml.safe_load(gh_text)
shards = gh["jobs"]["stress"]["strategy"]["matrix"]["shard"]
assert str(len(shards)) == gh["env"]["SHARDS"], "SHARDS and the matrix disagree"
steps = lambda job: [s["run"] for s in gh["jobs"][job]["steps"] if "run" in s and "kslab " in s["run"]]
stress = [r for r in steps("stress") if "kslab stress" in r]
merge = [r for r in steps("merge") if "kslab merge" in r]
assert len(stress) == 1 and len(merge) == 1, (stress, merge)
cwd = os.path.join(tmp, "gh")
env = dict(gh["env"], **small)
for i in shards:
    sh(stress[0].replace("${{ matrix.shard }}", str(i)), ["bash", "-e", "-c"], cwd, env)
sh(merge[0], ["bash", "-e", "-c"], cwd, dict(env, GITHUB_WORKSPACE=src), ok=(1,))
for f in ("kslab.sarif", "kslab.xml"):
    assert os.path.getsize(os.path.join(cwd, f)) > 0, f
sarif = json.load(open(os.path.join(cwd, "kslab.sarif")))
got = [(r["ruleId"], r["properties"]["scenario"], r["properties"]["seed"]) for r in sarif["runs"][0]["results"]]
assert got == [w[:3] for w in whole], (got, whole)

# Kubernetes: the Indexed Job per completion index, then the merge Job; /results is a folder here.
jobs = list(yaml.safe_load_all(k8s_text))
indexed = [j for j in jobs if j["spec"].get("completionMode") == "Indexed"]
merges = [j for j in jobs if j["spec"].get("completionMode") != "Indexed"]
assert len(indexed) == 1 and len(merges) == 1
spec = indexed[0]["spec"]
c = spec["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in c["env"]}
assert int(env["SHARDS"]) == spec["completions"], "SHARDS and completions disagree"
env.update(small)
results = os.path.join(tmp, "results")
run = lambda cont: cont["args"][0].replace("/results", results)
assert c["command"] == ["sh", "-c"]
for i in range(spec["completions"]):
    sh(run(c), ["sh", "-c"], tmp, dict(env, JOB_COMPLETION_INDEX=str(i)))
m = merges[0]["spec"]["template"]["spec"]["containers"][0]
sh(run(m), ["sh", "-c"], tmp, {}, ok=(1,))
assert findings(os.path.join(results, "kslab.json")) == whole
for f in ("kslab.sarif", "kslab.xml"):
    assert os.path.getsize(os.path.join(results, f)) > 0, f
PY
echo "ok: the GitHub Actions and Kubernetes examples run as written and merge to the whole campaign"
