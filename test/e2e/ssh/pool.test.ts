/**
 * SshPool against the testbed's real sshd: one connection for concurrent execs, large
 * stdin streamed with backpressure, and a changed host key refused before anything runs.
 */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Readable} from 'node:stream'

import {UnreachableError} from '../../../src/core/errors.js'
import {SshPool, type SshEndpoint} from '../../../src/ssh/pool.js'
import {hostByName, rekeyHost, type Testbed, type TestbedHost} from '../../testbed/testbed.js'
import {getTestbed} from '../fixture.js'

/** Sessions sshd accepted so far (the testbed runs sshd with LogLevel VERBOSE). */
function acceptedLogins(host: TestbedHost): number {
  const log = path.join(host.dir, 'sshd.log')
  if (!fs.existsSync(log)) return 0
  return (fs.readFileSync(log, 'utf8').match(/Accepted publickey/g) ?? []).length
}

function endpointOf(tb: Testbed, host: TestbedHost, extra: Partial<SshEndpoint> = {}): SshEndpoint {
  return {host: host.ip, port: host.port, user: 'root', keyPath: tb.keyPath, identityFiles: [], ...extra}
}

describe('e2e: ssh pool against a real sshd', function () {
  this.timeout(120_000)
  const pools: SshPool[] = []
  const newPool = (options: ConstructorParameters<typeof SshPool>[0] = {}): SshPool => {
    const pool = new SshPool({agentSocket: null, knownHostsFiles: [], ...options})
    pools.push(pool)
    return pool
  }
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.closeAll()))
  })

  it('runs 20 concurrent commands over one connection (one login)', async () => {
    const tb = getTestbed()
    const h1 = hostByName(tb, 'h1')
    const pool = newPool()
    const before = acceptedLogins(h1)
    const results = await Promise.all(Array.from({length: 20}, (_, index) => pool.exec(endpointOf(tb, h1), ['echo', `n${index}`])))
    expect(results.map((result) => result.stdout)).to.deep.equal(Array.from({length: 20}, (_, index) => `n${index}\n`))
    expect(acceptedLogins(h1) - before).to.equal(1)
  })

  it('streams 128 MiB of stdin with backpressure', async () => {
    const tb = getTestbed()
    const h1 = hostByName(tb, 'h1')
    const pool = newPool()
    const total = 128 * 1024 * 1024
    const chunk = Buffer.alloc(1024 * 1024, 0x61)
    let sent = 0
    let maxBuffered = 0
    const source = new Readable({
      read() {
        maxBuffered = Math.max(maxBuffered, this.readableLength)
        if (sent >= total) return this.push(null)
        sent += chunk.length
        this.push(chunk)
      },
    })
    const result = await pool.exec(endpointOf(tb, h1), ['wc', '-c'], {stdin: source, timeoutMs: 90_000})
    expect(result.code, result.stderr).to.equal(0)
    expect(Number(result.stdout.trim())).to.equal(total)
    expect(maxBuffered).to.be.at.most(16 * 1024 * 1024)
  })

  it('refuses a changed host key before any command runs (rekeyed host)', async () => {
    const tb = getTestbed()
    const host = hostByName(tb, 'bare1')
    const marker = `/tmp/clusterctl-must-not-exist-${randomUUID()}`
    const first = await newPool().connect(endpointOf(tb, host))
    const oldLine = `${first.algorithm} ${first.key}`

    // The host keeps its new key afterwards; other tests pin whatever key they find.
    await rekeyHost(tb, host.name)
    const newFingerprint = execFileSync('ssh-keygen', ['-lf', `${host.hostKeyPath}.pub`], {encoding: 'utf8'}).split(' ')[1]!
    expect(newFingerprint).to.not.equal(first.fingerprint)
    const loginsBefore = acceptedLogins(host)

    // Pinned (as in the database): host-key-changed, naming host, both keys and the fix.
    const pinned = endpointOf(tb, host, {name: 'bare1', hostKey: {expectedFingerprint: first.fingerprint}})
    const error = await newPool()
      .exec(pinned, ['touch', marker])
      .then(
        () => undefined,
        (rejected: unknown) => rejected,
      )
    expect(error).to.be.instanceOf(UnreachableError)
    expect((error as UnreachableError).code).to.equal('host-key-changed')
    expect((error as Error).message).to.contain(host.ip)
    expect((error as Error).message).to.contain(`expected ${first.fingerprint}, got ${newFingerprint}`)
    expect((error as Error).message).to.contain('clusterctl node rm bare1')

    // Listed in known_hosts: also refused.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cctl-kh-'))
    try {
      const knownHosts = path.join(dir, 'known_hosts')
      fs.writeFileSync(knownHosts, `${host.port === 22 ? host.ip : `[${host.ip}]:${host.port}`} ${oldLine}\n`)
      const viaKnownHosts = await newPool({knownHostsFiles: [knownHosts]})
        .exec(endpointOf(tb, host), ['touch', marker])
        .then(
          () => undefined,
          (rejected: unknown) => rejected,
        )
      expect((viaKnownHosts as UnreachableError).code).to.equal('host-key-changed')
      expect((viaKnownHosts as Error).message).to.contain(knownHosts)
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }

    // sshd never accepted a login, and the command never ran.
    expect(acceptedLogins(host)).to.equal(loginsBefore)
    const check = await newPool().exec(endpointOf(tb, host), ['test', '-e', marker])
    expect(check.code, 'the marker file must not exist').to.equal(1)
  })
})
