/**
 * First contact without nodes: how the built CLI reads its input (pipes, big and
 * endless files), validates specs at submit, and treats the state file. Needs no
 * test bed; runs bin/run.js as a user's shell does.
 */
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {CliSandbox} from './cli.js'

const SPEC = 'name: piped\nimage: localhost/app:1\nmem: 16Mi\ncommand: ["sleep", "3600"]\n'

describe('e2e: first contact without nodes (input, validation, state file)', function () {
  this.timeout(120_000)
  let cli: CliSandbox

  beforeEach(() => {
    cli = new CliSandbox('clusterctl-input-')
  })

  afterEach(() => cli.cleanup())

  describe('apply -f reads its input as a stream', () => {
    it('waits for a pipe whose writer is slow to start', async () => {
      fs.writeFileSync(path.join(cli.home, 'spec.yaml'), SPEC)
      const r = await cli.shell('(sleep 2; cat spec.yaml) | $CLUSTERCTL apply -f - --no-start --json')
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.json<{jobs: Array<{name: string; change: string}>}>().jobs).to.deep.equal([{name: 'piped', change: 'created', what: []}])
    })

    it('reads more than 64 KiB from a pipe whose writer is a Node program (a non-blocking pipe)', async () => {
      const padding = Array.from({length: 2000}, (_, i) => `# padding line ${i} ${'x'.repeat(40)}`).join('\n')
      fs.writeFileSync(path.join(cli.home, 'big.yaml'), `${padding}\n${SPEC}`)
      expect(fs.statSync(path.join(cli.home, 'big.yaml')).size).to.be.greaterThan(64 * 1024)
      const r = await cli.shell(`'${process.execPath}' -e 'process.stdout.write(require("fs").readFileSync("big.yaml"))' | $CLUSTERCTL apply -f - --no-start --json`)
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.json<{jobs: Array<{name: string}>}>().jobs.map((j) => j.name)).to.deep.equal(['piped'])
    })

    it('refuses endless input (/dev/zero, as a file or on stdin) past the size limit with exit 2', async () => {
      for (const script of ['$CLUSTERCTL apply -f /dev/zero', '$CLUSTERCTL apply -f - < /dev/zero']) {
        const r = await cli.shell(script, {timeoutMs: 60_000})
        expect(r.exitCode, `${script}: ${r.stderr}`).to.equal(2)
        expect(r.stderr, script).to.match(/^Error: (\/dev\/zero|standard input) is larger than 32 MiB; split it into several files\.$/m)
      }
    })
  })
})
