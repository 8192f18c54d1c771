/**
 * The quoting property end to end: random argv, quoted by toShellCommand, through a REAL
 * sshd and the remote login shell of testbed host h1, must arrive byte for byte.
 * The remote runs `printf '%s\0' BEGIN ARGS...`; we split its stdout on NUL.
 *
 * Everything goes over ONE pooled connection, 8 sessions in flight (under the channel
 * cap): 2048 random argv with one session each, the exact production path. A second test
 * packs 16 random argv into each command, separated by a marker no generator can produce,
 * to push long argv (up to ~150 words) through as well.
 *
 * This test needs an ideal host, and says so: bash sources ~/.bashrc for every command
 * sshd runs, and testbed hosts are realistic (about 1 s of login shell start-up per
 * command), so 3,000 sessions would spend most of an hour starting shells. What is under
 * test is the quoting, byte for byte, so h1's start-up is made free for this suite and
 * restored after it (liveness under slow shells is the failure suite's subject).
 */
import {expect} from 'chai'
import fc from 'fast-check'
import {randomUUID} from 'node:crypto'

import {SshPool, type SshEndpoint} from '../../../src/ssh/pool.js'
import {argList, printfArgv, splitNulOutput} from '../../unit/ssh/argv-arbitrary.js'
import {setShellDelay} from '../../testbed/testbed.js'
import {getTestbed} from '../fixture.js'

const PARALLEL = 8
const SINGLE_RUNS = 256 // x PARALLEL = 2048 argv, one session each
const PER_COMMAND = 16
const PACKED_RUNS = 64 // x PER_COMMAND = 1024 more argv

describe('e2e: ssh quoting through a real sshd and remote shell', function () {
  this.timeout(120_000)
  let pool: SshPool
  let endpoint: SshEndpoint
  let shellBefore: {delayMs: number; jitterMs: number} | undefined
  const marker = `--cctl-separator-${randomUUID()}--`

  before(async () => {
    const tb = getTestbed()
    const h1 = tb.hosts.find((host) => host.name === 'h1')
    if (!h1) throw new Error('the test bed has no host h1')
    shellBefore = h1.shell
    await setShellDelay(tb, 'h1', {delayMs: 0})
    pool = new SshPool({agentSocket: null, knownHostsFiles: []})
    endpoint = {host: h1.ip, port: h1.port, user: 'root', keyPath: tb.keyPath, identityFiles: []}
  })
  after(async () => {
    await pool.closeAll()
    if (shellBefore) await setShellDelay(getTestbed(), 'h1', shellBefore)
  })

  /** Run printf over SSH and return the raw bytes of every argument after BEGIN. */
  async function arrived(args: readonly string[]): Promise<Buffer[]> {
    const chunks: Buffer[] = []
    const result = await pool.exec(endpoint, printfArgv(args), {collect: false, onStdout: (chunk) => chunks.push(chunk), timeoutMs: 30_000})
    expect(result.code, `remote printf failed for ${JSON.stringify(args)}: ${result.stderr}`).to.equal(0)
    const parts = splitNulOutput(Buffer.concat(chunks))
    expect(parts[0]?.toString()).to.equal('BEGIN')
    return parts.slice(1)
  }

  function expectSame(args: readonly string[], parts: readonly Buffer[]): void {
    expect(
      parts.map((part) => part.toString('hex')),
      JSON.stringify(args),
    ).to.deep.equal(args.map((arg) => Buffer.from(arg, 'utf8').toString('hex')))
  }

  it('delivers the tricky table byte for byte', async () => {
    const args = ['', "'", '"', '$HOME', '`id`', '$(id)', '\\', '\n', '*', '?', '[a]', '~', '~root', '-n', '--', ';', '|', '&', '<', '>', '(', ')', '{a,b}', '!x', '#c', 'a=b', ' x ', '日本語', '😀', '\t', '\r']
    expectSame(args, await arrived(args))
  })

  it(`delivers ${SINGLE_RUNS * PARALLEL} random argv, one session each, ${PARALLEL} at a time over one connection`, async () => {
    const started = Date.now()
    const attemptsBefore = pool.stats().connectAttempts
    let argvSent = 0
    await fc.assert(
      fc.asyncProperty(fc.array(argList, {minLength: PARALLEL, maxLength: PARALLEL}), async (batch) => {
        const results = await Promise.all(batch.map((args) => arrived(args)))
        batch.forEach((args, index) => expectSame(args, results[index]!))
        argvSent += batch.length
      }),
      {numRuns: SINGLE_RUNS},
    )
    expect(argvSent).to.be.at.least(2_000)
    expect(pool.stats().connectAttempts - attemptsBefore, 'everything over the pooled connection').to.be.at.most(1)
    expect(Date.now() - started).to.be.below(60_000)
  })

  it(`delivers ${PACKED_RUNS * PER_COMMAND} more random argv, ${PER_COMMAND} per command`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(argList, {minLength: PER_COMMAND, maxLength: PER_COMMAND}), async (batch) => {
        const packed = batch.flatMap((args) => [...args, marker])
        const parts = await arrived(packed)
        const groups: Buffer[][] = [[]]
        for (const part of parts) {
          if (part.toString() === marker) groups.push([])
          else groups.at(-1)!.push(part)
        }
        expect(groups.pop()).to.deep.equal([])
        expect(groups).to.have.length(batch.length)
        batch.forEach((args, index) => expectSame(args, groups[index]!))
      }),
      {numRuns: PACKED_RUNS},
    )
  })
})
