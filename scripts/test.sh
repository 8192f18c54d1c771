#!/usr/bin/env bash
# The whole test suite: typecheck, lint, build (+ freshness of the generated manifest
# and README command reference), unit tests,
# end-to-end tests on a real testbed. Ends with the plain line "N passed, N failed":
# mocha's own results, plus one failure for every other step that failed (typecheck,
# lint, build, a stale manifest, a mocha run that crashed), and exits non-zero if
# anything failed. It leaves the tree as it found it: files the build regenerates are
# put back after the freshness check.
set -uo pipefail
cd "$(dirname "$0")/.."

stats_dir=$(mktemp -d)
trap 'rm -rf "$stats_dir"' EXIT
status=0
failed_steps=()

step() {
  local name=$1; shift
  echo "== $name"
  if ! "$@"; then
    echo "!! $name failed"
    failed_steps+=("$name")
    status=1
  fi
}

step typecheck npx tsc -p tsconfig.json --noEmit
step lint npx eslint .
# The build regenerates oclif.manifest.json and the README's command reference:
# if that changes them, what is checked in was stale. In CI (a fresh clone whose setup
# already built) compare with the commit; locally, with the files as they were.
cp oclif.manifest.json "$stats_dir/manifest.before" 2>/dev/null || echo '{}' > "$stats_dir/manifest.before"
cp README.md "$stats_dir/readme.before"
if [ "${CI:-}" = true ] && git rev-parse --verify -q HEAD >/dev/null; then
  git show HEAD:oclif.manifest.json > "$stats_dir/manifest.before" 2>/dev/null || true
  git show HEAD:README.md > "$stats_dir/readme.before" 2>/dev/null || true
fi
cp oclif.manifest.json "$stats_dir/manifest.worktree" 2>/dev/null || true
cp README.md "$stats_dir/readme.worktree"
step build npm run -s build
step "manifest and README reference are fresh" bash -c "cmp -s '$stats_dir/manifest.before' oclif.manifest.json && cmp -s '$stats_dir/readme.before' README.md || { echo 'oclif.manifest.json or the README command reference is stale (the build regenerates them): run npm run build and commit the regenerated files'; exit 1; }"
# Leave the tree as it was: a stale file is reported above, not silently rewritten.
cp "$stats_dir/manifest.worktree" oclif.manifest.json 2>/dev/null || true
cp "$stats_dir/readme.worktree" README.md
step "unit tests" env MOCHA_STATS_FILE="$stats_dir/unit.json" npx mocha --reporter ./test/helpers/count-reporter.cjs 'test/unit/**/*.test.{ts,tsx}'
# The e2e tests bring up (and tear down) their own test bed in the same place as the
# demo's: refuse rather than silently tear a running demo down.
testbed_dir=${CLUSTERCTL_TESTBED_DIR:-/tmp/clusterctl-testbed}
if [ -f "$testbed_dir/state.json" ]; then
  echo "== end-to-end tests"
  echo "!! a test bed is up in $testbed_dir (the demo's, or one left behind): the end-to-end tests would tear it down."
  echo "!! Stop it first with: bash scripts/demo.sh down   (or: npm run testbed -- down), then run npm test again."
  failed_steps+=("end-to-end tests (a test bed is up)")
  status=1
else
  step "end-to-end tests" env MOCHA_STATS_FILE="$stats_dir/e2e.json" npx mocha --reporter ./test/helpers/count-reporter.cjs --timeout 600000 --file test/e2e/setup.ts 'test/e2e/**/*.test.ts'
fi

node scripts/test-summary.cjs "$stats_dir" ${failed_steps[@]+"${failed_steps[@]}"} || status=1
exit $status
