#!/usr/bin/env bash
# hbsim against the real tools its integrations target: JUnit readers and the Jenkins
# xunit schema, the Kubernetes schemas (offline), GitHub's and GitLab's CI schemas, and a
# single-node Slurm (tests/slurm.sh). `.ci/run` installs the tools when they are missing
# (Debian: libxml2-utils slurmctld slurmd slurm-client munge; PyPI: junitparser
# xunitparser kubernetes-validate check-jsonschema).
# Usage: tests/integrations.sh [path/to/hbsim]   (default: target/release/hbsim)
set -euo pipefail
cd "$(dirname "$0")/.."
HBSIM=$(realpath "${1:-target/release/hbsim}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== JUnit: junit-10.xsd (Jenkins xunit), junitparser, xunitparser"
"$HBSIM" check --junit "$tmp/pass.xml" scenarios/*.json > /dev/null
xmllint --noout --schema tests/data/junit-10.xsd "$tmp/pass.xml"
printf '{"name": "broken", "duration": "1s", "clients": [], "detectors": []}' > "$tmp/broken.json"
set +e
"$HBSIM" check --junit "$tmp/invalid.xml" "$tmp/broken.json" scenarios/seed.json 2> /dev/null
code=$?
set -e
[ "$code" -eq 3 ] || { echo "an invalid scenario must exit 3 (got $code)" >&2; exit 1; }
xmllint --noout --schema tests/data/junit-10.xsd "$tmp/invalid.xml"
python3 - "$tmp/pass.xml" "$tmp/invalid.xml" "$tmp/broken.json" <<'PY'
import sys
import junitparser
import xunitparser

passing, invalid, broken = sys.argv[1:4]
xml = junitparser.JUnitXml.fromfile(passing)
suites = list(xml)
assert suites, "no suites"
for s in suites:
    assert s.time is not None and s.time >= 0, f"suite {s.name} has no time"
    for c in s:
        assert c.time is not None, f"case {c.name} has no time"
        assert c.is_passed, f"case {c.name} did not pass"
ts, tr = xunitparser.parse(open(passing))
assert tr.testsRun == sum(s.tests for s in suites), (tr.testsRun, [s.tests for s in suites])
assert all(t.time is not None for t in ts), "xunitparser reads no time"
assert tr.wasSuccessful()
bad = junitparser.JUnitXml.fromfile(invalid)
errors = [(s.name, c) for s in bad for c in s if not c.is_passed]
assert len(errors) == 1 and errors[0][0] == broken, errors
text = errors[0][1].result[0].text
assert "clients: must list at least one entry" in text, text
print(f"junit: {len(suites)} suites, {tr.testsRun} cases with times; the invalid scenario is an error case")
PY

echo "== Kubernetes: the shipped manifests against the Kubernetes schemas (offline)"
kubernetes-validate --strict deploy/kubernetes/sweep-job.yaml deploy/kubernetes/merge-job.yaml
# The validator rejects a broken manifest (so the pass above means something).
sed 's/parallelism: 16/parallelizm: 16/' deploy/kubernetes/sweep-job.yaml > "$tmp/bad.yaml"
if kubernetes-validate --strict --quiet "$tmp/bad.yaml" > /dev/null 2>&1; then
  echo "kubernetes-validate accepted a broken manifest" >&2
  exit 1
fi

echo "== CI recipes: GitHub Actions and GitLab CI schemas"
check-jsonschema --builtin-schema vendor.github-workflows ci-examples/github-actions.yml
check-jsonschema --builtin-schema vendor.gitlab-ci ci-examples/gitlab-ci.yml

echo "== Slurm: the shipped job array on a single-node cluster"
tests/slurm.sh "$HBSIM"
echo "integrations: ok"
