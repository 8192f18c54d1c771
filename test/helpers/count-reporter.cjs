// Mocha's spec reporter, plus the run's own pass/fail counts written to
// $MOCHA_STATS_FILE so scripts/test.sh can print "N passed, N failed".
'use strict'
const fs = require('node:fs')
const Mocha = require('mocha')

class CountReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.MOCHA_STATS_FILE
      if (file) fs.writeFileSync(file, JSON.stringify({passes: runner.stats.passes, failures: runner.stats.failures, pending: runner.stats.pending}))
    })
  }
}
module.exports = CountReporter
