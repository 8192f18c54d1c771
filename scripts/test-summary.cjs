// The last line of scripts/test.sh: "N passed, N failed".
// usage: node scripts/test-summary.cjs STATS_DIR [FAILED_STEP...]
// Passes and failures come from mocha's stats files (unit.json, e2e.json, written by
// test/helpers/count-reporter.cjs); every other failed step (typecheck, lint, build, a
// stale manifest, a test bed in the way, a mocha run that crashed) counts as one failure,
// so the line never says "0 failed" when the run failed. Exit 1 when anything failed.
const fs = require('fs')
const path = require('path')

const MOCHA_STEPS = {'unit tests': 'unit.json', 'end-to-end tests': 'e2e.json'}

function readStats(dir, name) {
  const file = path.join(dir, name)
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined
}

function summarize(dir, failedSteps) {
  let passed = 0
  let failed = 0
  const notes = []
  for (const name of Object.values(MOCHA_STEPS)) {
    const stats = readStats(dir, name)
    if (stats) {
      passed += stats.passes
      failed += stats.failures
    }
  }

  for (const step of failedSteps) {
    const stats = MOCHA_STEPS[step] && readStats(dir, MOCHA_STEPS[step])
    if (stats && stats.failures > 0) continue
    notes.push(stats ? `(${step} failed without a test failure: the run crashed; counted as 1 failure)` : `(${step} failed; counted as 1 failure)`)
    failed += 1
  }

  return {passed, failed, lines: [...notes, `${passed} passed, ${failed} failed`]}
}

module.exports = {summarize}

if (require.main === module) {
  const [dir, ...steps] = process.argv.slice(2)
  const result = summarize(dir, steps)
  for (const line of result.lines) console.log(line)
  process.exit(result.failed > 0 ? 1 : 0)
}
