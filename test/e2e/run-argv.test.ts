/**
 * `clusterctl run ... -- CMD ARGS`: everything after `--` reaches the container
 * byte-identical and in order, also words that are run's own flags (-p, -e, -v ...).
 */
import {expect} from 'chai'
import fc from 'fast-check'

import Run from '../../src/commands/run.js'
import {argWord} from '../unit/ssh/argv-arbitrary.js'
import {CliSandbox} from './cli.js'
import {getTestbed} from './fixture.js'

const RUN_FLAG_WORDS = Object.entries(Run.flags).flatMap(([name, flag]) => [`--${name}`, ...('char' in flag && flag.char ? [`-${flag.char}`] : [])])

describe('e2e: run passes the container command intact', function () {
  this.timeout(600_000)
  let cli: CliSandbox

  beforeEach(async () => {
    cli = new CliSandbox()
    // A command other than init/add-node refuses to create a state file (a typo'd --db
    // must not start an empty cluster): this suite starts from an empty one.
    const init = await cli.run(['init'])
    expect(init.exitCode, init.stderr).to.equal(0)
  })
  afterEach(() => cli.cleanup())

  it('run --no-start records it as given and inspect --json shows it (property, the built CLI)', async () => {
    // No NUL (argv cannot carry it) and no lone surrogates (not UTF-8).
    const word = fc.oneof({arbitrary: argWord, weight: 2}, {arbitrary: fc.constantFrom(...RUN_FLAG_WORDS, '--', '-', '', '8080', "it's", 'say "hi"', 'é日本😀'), weight: 3}).filter((w) => !w.includes('\0') && Buffer.from(w, 'utf8').toString('utf8') === w)
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.array(word, {minLength: 1, maxLength: 10}), async (command) => {
        const name = `argv-${++n}`
        const run = await cli.run(['run', name, '--image', 'localhost/app:1', '-p', '8080', '-e', 'A=1', '--no-start', '--json', '--', ...command])
        expect(run.exitCode, run.stderr).to.equal(0)
        const inspect = await cli.run(['inspect', name, '--json'])
        expect(inspect.exitCode, inspect.stderr).to.equal(0)
        expect(inspect.json<{job: {spec: {command: string[]}}}>().job.spec.command).to.deep.equal(command)
      }),
      {numRuns: 15},
    )
  })

  it('runs `sh -c ... -p 8080 -e ...` on a testbed host with every word in place', async () => {
    const tb = getTestbed()
    const host = tb.hosts.find((h) => h.runtimes.includes('podman'))!
    const add = await cli.run(['add-node', `root@${host.ip}`, '--key', tb.keyPath, '--runtime', 'podman', '--resources', 'cpus=2,mem=1Gi'])
    expect(add.exitCode, add.stderr).to.equal(0)
    const words = ['-p', '8080', '-e', 'A=1', '', 'a b', "it's", 'é日本', '--', '-v']
    try {
      const run = await cli.run(['run', 'argv', '--image', tb.image, '-p', '8080', '-e', 'A=1', '--mem', '32Mi', '--json', '--', 'sh', '-c', 'printf "[%s]" "$@"; echo; trap "exit 0" TERM; sleep 3600 & wait', 'sh', ...words])
      expect(run.exitCode, run.stderr).to.equal(0)
      const task = run.json<{tasks: Array<{id: string}>}>().tasks[0]!.id.slice(0, 8)
      const want = words.map((w) => `[${w}]`).join('')
      let logs = await cli.run(['logs', task, '--tail', '5'])
      for (let i = 0; i < 40 && !logs.stdout.includes(want); i++) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        logs = await cli.run(['logs', task, '--tail', '5'])
      }

      expect(logs.stdout, `logs exit ${logs.exitCode}: ${logs.stderr}; ps: ${(await cli.run(['ps', 'argv'])).stdout}`).to.include(want)
    } finally {
      await cli.run(['rm', 'argv'])
    }
  })
})
