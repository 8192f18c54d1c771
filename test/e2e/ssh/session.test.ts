/**
 * Shell sessions against the testbed's real OpenSSH on a host whose login shell is slow
 * (a ~/.bashrc that sleeps, as a version manager's init does): the start-up is paid once
 * per session, a timeout kills the remote command (not only the client's wait), and a
 * node's observation goes through a session.
 */
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'
import {performance} from 'node:perf_hooks'

import {UnreachableError} from '../../../src/core/errors.js'
import {observeNode} from '../../../src/core/reconcile/observe.js'
import {runtimeFor} from '../../../src/runtime/index.js'
import {SshPool, type SshEndpoint} from '../../../src/ssh/pool.js'
import {SshTransport} from '../../../src/ssh/ssh-transport.js'
import {hostByName, sshRun, type Testbed, type TestbedHost} from '../../testbed/testbed.js'
import {getTestbed} from '../fixture.js'

const SLOW_SHELL_S = 1

function endpointOf(tb: Testbed, host: TestbedHost): SshEndpoint {
  return {host: host.ip, port: host.port, user: 'root', keyPath: tb.keyPath, identityFiles: []}
}

describe('e2e: shell sessions on a slow-shell host', function () {
  this.timeout(180_000)
  const pools: SshPool[] = []
  const newPool = (options: ConstructorParameters<typeof SshPool>[0] = {}): SshPool => {
    const pool = new SshPool({agentSocket: null, knownHostsFiles: [], ...options})
    pools.push(pool)
    return pool
  }
  let bashrc: string
  let original: string

  before(() => {
    // The host's own ~/.bashrc, bind-mounted in its mount namespace: written in place.
    bashrc = path.join(hostByName(getTestbed(), 'h1').dir, 'home', '.bashrc')
    original = fs.readFileSync(bashrc, 'utf8')
    fs.writeFileSync(bashrc, `${original}\n# a slow tool init, as on many real servers\nsleep ${SLOW_SHELL_S}\n`)
  })
  after(() => fs.writeFileSync(bashrc, original))
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.closeAll()))
  })

  it('pays the slow shell once for 8 commands, where one exec per command pays it 8 times', async () => {
    const tb = getTestbed()
    const endpoint = endpointOf(tb, hostByName(tb, 'h1'))
    const time = async (pool: SshPool): Promise<number> => {
      await pool.connect(endpoint)
      const started = performance.now()
      for (let i = 0; i < 8; i++) expect((await pool.exec(endpoint, ['echo', `n${i}`])).stdout).to.equal(`n${i}\n`)
      return performance.now() - started
    }
    const sessions = newPool()
    const withSessions = await time(sessions)
    const execs = await time(newPool({sessions: false}))
    expect(sessions.stats()).to.deep.include({sessionsOpened: 1, sessionCommands: 8})
    expect(execs, 'each exec sources the slow ~/.bashrc').to.be.greaterThan(8 * SLOW_SHELL_S * 1000)
    expect(withSessions, `${Math.round(withSessions)} ms with a session vs ${Math.round(execs)} ms`).to.be.lessThan(execs / 3)
  })

  it('a timeout kills the remote command and its children, and the next command runs in a fresh session', async () => {
    const tb = getTestbed()
    const endpoint = endpointOf(tb, hostByName(tb, 'h1'))
    const pool = newPool()
    await pool.exec(endpoint, ['true'])
    const tag = `cctl-session-${process.pid}-${Date.now()}`
    const error = await pool.exec(endpoint, ['sh', '-c', 'sleep 300 & sleep 301; echo never', tag], {timeoutMs: 1_000}).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).to.be.instanceOf(UnreachableError)
    expect((error as UnreachableError).code).to.equal('timeout')
    let left = ''
    for (let i = 0; i < 20; i++) {
      left = (await sshRun(tb, 'h1', `ps -eo pid,args | grep -e 'sleep 30[01]' | grep -v grep || true`)).stdout.trim()
      if (left === '') break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect(left, 'nothing of the timed-out command is left on the host').to.equal('')
    expect((await pool.exec(endpoint, ['echo', 'after'])).stdout).to.equal('after\n')
    expect(pool.stats()).to.deep.include({sessionsOpened: 2, sessions: 1})
  })

  it('observes the node through one session, pass after pass', async () => {
    const tb = getTestbed()
    const h1 = hostByName(tb, 'h1')
    const pool = newPool()
    const transport = new SshTransport(pool, endpointOf(tb, h1))
    const runtime = runtimeFor('podman')
    const observe = () => observeNode(transport, runtime, {'io.clusterctl.cluster': 'session-e2e'}, [], {heartbeatTimeoutMs: 30_000, timeoutMs: 60_000})
    for (let pass = 0; pass < 3; pass++) {
      const result = await observe()
      expect(result.outcome.kind).to.equal('answered')
      expect(result.observation).to.deep.include({ok: true, complete: true})
    }
    // One shell start-up for three observations (podman's own time is not the shell's).
    expect(pool.stats()).to.deep.include({sessionsOpened: 1, sessionCommands: 3})
  })
})
