#!/usr/bin/env bash
# The whole test suite: typecheck, lint, build (+ freshness of the generated manifest
# and README command reference), unit tests,
# end-to-end tests on a real testbed. Ends with the plain line "N passed, N failed"
# summed from mocha's own results, and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

stats_dir=$(mktemp -d)
trap 'rm -rf "$stats_dir"' EXIT
status=0

step() {
  local name=$1; shift
  echo "== $name"
  if ! "$@"; then
    echo "!! $name failed"
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
step build npm run -s build
step "manifest and README reference are fresh" bash -c "cmp -s '$stats_dir/manifest.before' oclif.manifest.json && cmp -s '$stats_dir/readme.before' README.md || { echo 'oclif.manifest.json or the README command reference is stale (the build regenerates them): commit the regenerated files'; exit 1; }"
step "unit tests" env MOCHA_STATS_FILE="$stats_dir/unit.json" npx mocha --reporter ./test/helpers/count-reporter.cjs 'test/unit/**/*.test.{ts,tsx}'
step "end-to-end tests" env MOCHA_STATS_FILE="$stats_dir/e2e.json" npx mocha --reporter ./test/helpers/count-reporter.cjs --timeout 600000 --file test/e2e/setup.ts 'test/e2e/**/*.test.ts'

node -e '
  const fs = require("fs"); let p = 0, f = 0, ran = 0
  for (const name of ["unit.json", "e2e.json"]) {
    const file = process.argv[1] + "/" + name
    if (!fs.existsSync(file)) { f += 1; console.log("(no results from " + name + ": that run crashed; counted as 1 failure)"); continue }
    const s = JSON.parse(fs.readFileSync(file, "utf8")); p += s.passes; f += s.failures; ran++
  }
  console.log(p + " passed, " + f + " failed")
  process.exit(f > 0 ? 1 : 0)
' "$stats_dir" || status=1
exit $status
