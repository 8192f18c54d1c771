import {expect} from 'chai'
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import net from 'node:net'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import {UnreachableError, UserError} from '../../../src/core/errors.js'
import {SshPool, type SshEndpoint, type SshPoolOptions} from '../../../src/ssh/pool.js'
import {makeTempDir} from '../../helpers/tmp.js'
import {startFakeSshd, type FakeSshd} from './fake-sshd.js'
import {generateKey, type TestKey} from './keys.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until the server side has caught up (it closes sessions asynchronously; slower on a busy machine). */
async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!check() && Date.now() < until) await sleep(20)
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

async function unreachable(promise: Promise<unknown>, code: string): Promise<UnreachableError> {
  const error = await rejection(promise)
  expect(error, String(error)).to.be.instanceOf(UnreachableError)
  expect((error as UnreachableError).code, (error as Error).message).to.equal(code)
  return error as UnreachableError
}

/** A port where nothing listens (connections are refused). */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('ssh/pool (in-process ssh2 server)', function () {
  this.timeout(20_000)

  let tmp: ReturnType<typeof makeTempDir>
  let hostA: TestKey
  let hostB: TestKey
  let client: TestKey
  let stranger: TestKey
  let locked: TestKey
  let sshd: FakeSshd
  const pools: SshPool[] = []
  const servers: FakeSshd[] = []

  before(() => {
    tmp = makeTempDir('clusterctl-pool-')
    hostA = generateKey(tmp.dir, 'host-a')
    hostB = generateKey(tmp.dir, 'host-b')
    client = generateKey(tmp.dir, 'client')
    stranger = generateKey(tmp.dir, 'stranger')
    locked = generateKey(tmp.dir, 'locked', 'ed25519', 'secret passphrase')
  })
  after(() => tmp.cleanup())

  async function server(hostKey = hostA, extra: {allowForwarding?: boolean; passwordOnly?: boolean; realShell?: boolean} = {}): Promise<FakeSshd> {
    const started = await startFakeSshd({hostKeyPath: hostKey.path, authorizedKeys: [`${client.path}.pub`], ...extra})
    servers.push(started)
    return started
  }

  function pool(options: SshPoolOptions = {}): SshPool {
    const created = new SshPool({agentSocket: null, homeDir: tmp.dir, knownHostsFiles: [], sessions: false, connectTimeoutMs: 3_000, ...options})
    pools.push(created)
    return created
  }

  const endpointOf = (port: number, extra: Partial<SshEndpoint> = {}): SshEndpoint => ({
    host: '127.0.0.1',
    port,
    user: 'root',
    keyPath: client.path,
    identityFiles: [],
    ...extra,
  })

  beforeEach(async () => {
    sshd = await server()
  })

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((created) => created.closeAll()))
    await Promise.all(servers.splice(0).map((started) => started.close()))
  })

  describe('exec', () => {
    it('returns stdout, stderr and the exit status; a non-zero exit is not an error', async () => {
      const p = pool()
      const endpoint = endpointOf(sshd.port)
      expect(await p.exec(endpoint, ['out', 'hello'])).to.deep.equal({stdout: 'hello', stderr: '', code: 0, signal: null})
      expect(await p.exec(endpoint, ['err', 'oops'])).to.deep.equal({stdout: '', stderr: 'oops', code: 0, signal: null})
      expect(await p.exec(endpoint, ['exit', '3'])).to.deep.include({code: 3, signal: null})
      expect(await p.exec(endpoint, ['kill'])).to.deep.include({code: null, signal: 'SIGTERM'})
      expect(sshd.commands).to.deep.equal(['out hello', 'err oops', 'exit 3', 'kill'])
    })

    it('sends the argv quoted by toShellCommand, with sudo -n -- when asked', async () => {
      const p = pool()
      await p.exec(endpointOf(sshd.port), ['echo', "it's $HOME"], {sudo: true})
      expect(sshd.commands[0]).to.match(/^sudo -n -- env \$\{CONTAINERS_CONF\+"CONTAINERS_CONF=\$CONTAINERS_CONF"\} .* echo 'it'\\''s \$HOME'$/)
    })

    it('refuses an argv with a NUL byte before connecting', async () => {
      const p = pool()
      const error = await rejection(p.exec(endpointOf(sshd.port), ['echo', 'a\0b']))
      expect(error).to.be.instanceOf(UserError)
      expect(sshd.tcpConnections).to.equal(0)
    })

    it('streams output to callbacks and can skip collecting it', async () => {
      const p = pool()
      const chunks: string[] = []
      const result = await p.exec(endpointOf(sshd.port), ['out', 'streamed'], {onStdout: (chunk) => chunks.push(chunk.toString()), collect: false})
      expect(chunks.join('')).to.equal('streamed')
      expect(result.stdout).to.equal('')
    })

    it('feeds stdin from a string, a Buffer and a Readable', async () => {
      const p = pool()
      const endpoint = endpointOf(sshd.port)
      expect((await p.exec(endpoint, ['cat'], {stdin: 'from a string'})).stdout).to.equal('from a string')
      expect((await p.exec(endpoint, ['cat'], {stdin: Buffer.from([0, 1, 2, 255])})).stdout).to.equal(Buffer.from([0, 1, 2, 255]).toString())
      expect((await p.exec(endpoint, ['cat'], {stdin: Readable.from(['a', 'b', 'c'])})).stdout).to.equal('abc')
      expect((await p.exec(endpoint, ['count'])).stdout).to.equal('0')
    })

    it('streams a large Readable stdin with backpressure', async () => {
      const p = pool()
      const total = 64 * 1024 * 1024
      const chunk = Buffer.alloc(1024 * 1024, 7)
      let produced = 0
      let maxAhead = 0
      const source = new Readable({
        read() {
          if (produced >= total) return this.push(null)
          produced += chunk.length
          this.push(chunk)
        },
      })
      const timer = setInterval(() => {
        maxAhead = Math.max(maxAhead, source.readableLength)
      }, 5)
      const result = await p.exec(endpointOf(sshd.port), ['count'], {stdin: source})
      clearInterval(timer)
      expect(result.stdout).to.equal(String(total))
      // The source is paused whenever the SSH window is full, so little is ever buffered.
      expect(maxAhead).to.be.below(8 * 1024 * 1024)
    })

    it('times out: closes the channel and rejects with code timeout', async () => {
      const p = pool()
      const started = Date.now()
      const error = await unreachable(p.exec(endpointOf(sshd.port), ['hang'], {timeoutMs: 200}), 'timeout')
      expect(Date.now() - started).to.be.below(2_000)
      expect(error.message).to.match(/`hang` on root@127\.0\.0\.1:\d+ did not finish within 0\.2s/)
      await eventually(() => sshd.activeSessions === 0)
      expect(sshd.activeSessions).to.equal(0)
      expect(p.stats().activeChannels).to.equal(0)
      // The connection is still good.
      expect((await p.exec(endpointOf(sshd.port), ['exit', '0'])).code).to.equal(0)
    })

    it('honours an AbortSignal during a command', async () => {
      const p = pool()
      const controller = new AbortController()
      const pending = rejection(p.exec(endpointOf(sshd.port), ['sleep', '10000'], {signal: controller.signal}))
      // Abort once the command runs (on a busy machine the connect alone can take longer than any fixed delay).
      await eventually(() => sshd.activeSessions === 1)
      controller.abort(new Error('stop now'))
      const error = await pending
      expect((error as Error).message).to.equal('stop now')
      await eventually(() => sshd.activeSessions === 0)
      expect(sshd.activeSessions).to.equal(0)
      expect(sshd.sessionsClosedEarly).to.equal(1)
    })

    it('rejects at once for an already aborted signal', async () => {
      const p = pool()
      const controller = new AbortController()
      controller.abort()
      const error = await rejection(p.exec(endpointOf(sshd.port), ['out', 'x'], {signal: controller.signal}))
      expect((error as Error).name).to.equal('AbortError')
      expect(sshd.tcpConnections).to.equal(0)
    })

    it('reports a connection lost mid-command as code closed', async () => {
      const p = pool()
      const error = await unreachable(p.exec(endpointOf(sshd.port), ['drop']), 'closed')
      expect(error.message).to.match(/`drop` on root@127\.0\.0\.1:\d+ did not report how it ended because the connection was lost/)
    })
  })

  describe('connections', () => {
    it('makes ONE connection for 20 concurrent execs (singleflight)', async () => {
      const p = pool()
      const endpoint = endpointOf(sshd.port)
      const results = await Promise.all(Array.from({length: 20}, (_, index) => p.exec(endpoint, ['out', String(index)])))
      expect(results.map((result) => result.stdout)).to.deep.equal(Array.from({length: 20}, (_, index) => String(index)))
      expect(sshd.tcpConnections).to.equal(1)
      expect(sshd.authenticated).to.equal(1)
      expect(p.stats().connectAttempts).to.equal(1)
    })

    it('never has more sessions open than the cap; the rest queue', async () => {
      const p = pool({maxChannelsPerConnection: 3})
      const endpoint = endpointOf(sshd.port)
      let maxQueued = 0
      const watcher = setInterval(() => {
        maxQueued = Math.max(maxQueued, p.stats().queued)
      }, 2)
      await Promise.all(Array.from({length: 20}, () => p.exec(endpoint, ['sleep', '30'])))
      clearInterval(watcher)
      expect(sshd.maxActiveSessions).to.equal(3)
      expect(maxQueued).to.be.greaterThan(10)
      expect(sshd.tcpConnections).to.equal(1)
    })

    it('defaults to 8 sessions per connection', async () => {
      const p = pool()
      await Promise.all(Array.from({length: 20}, () => p.exec(endpointOf(sshd.port), ['sleep', '30'])))
      expect(sshd.maxActiveSessions).to.equal(8)
    })

    it('a queued exec can be aborted without taking a slot', async () => {
      const p = pool({maxChannelsPerConnection: 1})
      const endpoint = endpointOf(sshd.port)
      const first = p.exec(endpoint, ['sleep', '200'])
      const controller = new AbortController()
      const second = p.exec(endpoint, ['out', 'never'], {signal: controller.signal})
      await sleep(50)
      controller.abort()
      expect(((await rejection(second)) as Error).name).to.equal('AbortError')
      expect((await first).code).to.equal(0)
      expect(sshd.commands).to.deep.equal(['sleep 200'])
      expect(p.stats()).to.deep.include({activeChannels: 0, queued: 0})
    })

    it('reconnects after the server drops the connection', async () => {
      const p = pool()
      const endpoint = endpointOf(sshd.port)
      expect((await p.exec(endpoint, ['out', 'one'])).stdout).to.equal('one')
      sshd.dropAll()
      // Straight away, before the client may even have noticed: the session cannot open,
      // the command provably never ran, so the pool retries once on a new connection.
      expect((await p.exec(endpoint, ['out', 'two'])).stdout).to.equal('two')
      await sleep(50)
      sshd.dropAll()
      await sleep(50)
      expect((await p.exec(endpoint, ['out', 'three'])).stdout).to.equal('three')
      expect(sshd.tcpConnections).to.equal(3)
    })

    it('detects a hung connection with keepalives and reports the running command as closed', async () => {
      const p = pool({keepaliveIntervalMs: 100, keepaliveCountMax: 2})
      const endpoint = endpointOf(sshd.port)
      await p.exec(endpoint, ['out', 'warm'])
      const running = p.exec(endpoint, ['hang'])
      await sleep(50)
      sshd.freezeAll()
      const started = Date.now()
      const error = await unreachable(running, 'closed')
      expect(Date.now() - started).to.be.below(1_500)
      expect(error.message).to.contain('Keepalive timeout')
      expect(p.stats().connections).to.equal(0)
    })

    it('closes idle connections', async () => {
      const p = pool({idleTimeoutMs: 100})
      await p.exec(endpointOf(sshd.port), ['out', 'x'])
      expect(p.stats().connections).to.equal(1)
      await sleep(300)
      expect(p.stats().connections).to.equal(0)
      await p.exec(endpointOf(sshd.port), ['out', 'y'])
      expect(sshd.tcpConnections).to.equal(2)
    })

    it('keeps separate connections per user, key and port', async () => {
      const p = pool()
      await p.exec(endpointOf(sshd.port), ['out', 'a'])
      await p.exec(endpointOf(sshd.port, {user: 'deploy'}), ['out', 'b'])
      await p.exec(endpointOf(sshd.port), ['out', 'c'])
      expect(sshd.tcpConnections).to.equal(2)
      expect(sshd.users).to.deep.equal(['root', 'deploy'])
    })

    it('closeAll closes everything', async () => {
      const p = pool()
      await p.exec(endpointOf(sshd.port), ['out', 'a'])
      await p.closeAll()
      expect(p.stats().connections).to.equal(0)
    })
  })

  describe('host keys', () => {
    it('accepts a new key and reports it (accept-new)', async () => {
      const p = pool()
      const endpoint = endpointOf(sshd.port)
      expect(p.hostKey(endpoint)).to.equal(undefined)
      const key = await p.connect(endpoint)
      expect(key).to.deep.equal({algorithm: 'ssh-ed25519', fingerprint: hostA.fingerprint, key: hostA.blob.toString('base64')})
      expect(p.hostKey(endpoint)).to.deep.equal(key)
    })

    it('accepts the pinned key', async () => {
      const p = pool()
      const result = await p.exec(endpointOf(sshd.port, {hostKey: {expectedFingerprint: hostA.fingerprint}}), ['out', 'ok'])
      expect(result.stdout).to.equal('ok')
    })

    it('refuses a changed pinned key with host-key-changed before authenticating or running anything', async () => {
      const p = pool()
      const endpoint = endpointOf(sshd.port, {name: 'web-3', hostKey: {expectedFingerprint: hostB.fingerprint}})
      const error = await unreachable(p.exec(endpoint, ['out', 'must not run']), 'host-key-changed')
      expect(error.message).to.contain('web-3')
      expect(error.message).to.contain(`expected ${hostB.fingerprint}, got ${hostA.fingerprint}`)
      expect(error.message).to.contain('clusterctl node rm web-3')
      expect(error.hint).to.equal('clusterctl node rm web-3')
      expect(sshd.authAttempts).to.equal(0)
      expect(sshd.commands).to.deep.equal([])
      expect(p.hostKey(endpoint)).to.equal(undefined)
    })

    it('refuses a --host-key that does not match with host-key-mismatch', async () => {
      const p = pool()
      const endpoint = endpointOf(sshd.port, {hostKey: {expectedFingerprint: hostB.fingerprint, expectedFrom: 'flag'}})
      const error = await unreachable(p.exec(endpoint, ['out', 'x']), 'host-key-mismatch')
      expect(error.message).to.contain(`is ${hostA.fingerprint}`)
      expect(error.message).to.contain('--host-key')
      expect(sshd.commands).to.deep.equal([])
    })

    it('refuses a malformed expected fingerprint as a UserError', async () => {
      const p = pool()
      const error = await rejection(p.exec(endpointOf(sshd.port, {hostKey: {expectedFingerprint: 'MD5:aa:bb'}}), ['out', 'x']))
      expect(error).to.be.instanceOf(UserError)
      expect(sshd.tcpConnections).to.equal(0)
    })

    it('checks known_hosts: a listed key must match', async () => {
      const knownHosts = join(tmp.dir, `known_hosts_${sshd.port}`)
      writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${hostB.publicLine}\n`)
      const p = pool({knownHostsFiles: [knownHosts]})
      const error = await unreachable(p.exec(endpointOf(sshd.port), ['out', 'x']), 'host-key-changed')
      expect(error.message).to.contain(`${knownHosts} line 1`)
      expect(error.hint).to.equal(`ssh-keygen -R '[127.0.0.1]:${sshd.port}'`)
      expect(sshd.authAttempts).to.equal(0)
      expect(sshd.commands).to.deep.equal([])

      writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${hostA.publicLine}\n`)
      expect((await pool({knownHostsFiles: [knownHosts]}).exec(endpointOf(sshd.port), ['out', 'ok'])).stdout).to.equal('ok')
    })

    it('refuses a key marked @revoked', async () => {
      const knownHosts = join(tmp.dir, `revoked_${sshd.port}`)
      writeFileSync(knownHosts, `@revoked * ${hostA.publicLine}\n`)
      const p = pool({knownHostsFiles: [knownHosts]})
      await unreachable(p.exec(endpointOf(sshd.port), ['out', 'x']), 'host-key-revoked')
      expect(sshd.commands).to.deep.equal([])
    })

    it('a reinstalled host (same address, new key) is refused for the key pinned at first contact', async () => {
      const p = pool()
      const first = await p.connect(endpointOf(sshd.port))
      await p.closeAll()
      const reinstalled = await server(hostB)
      const pinned = endpointOf(reinstalled.port, {name: 'web-3', hostKey: {expectedFingerprint: first.fingerprint}})
      await unreachable(p.exec(pinned, ['out', 'x']), 'host-key-changed')
      expect(reinstalled.authAttempts).to.equal(0)
      expect(reinstalled.commands).to.deep.equal([])
    })
  })

  describe('authentication', () => {
    it('maps a refused key to code auth, naming the keys tried', async () => {
      const p = pool()
      const error = await unreachable(p.exec(endpointOf(sshd.port, {keyPath: stranger.path}), ['out', 'x']), 'auth')
      expect(error.message).to.contain(`Authentication to root@127.0.0.1:${sshd.port} failed with keys ${stranger.path}`)
      expect(error.message).to.contain('pass --key')
      expect(sshd.commands).to.deep.equal([])
    })

    it('says so when the host does not accept public keys at all', async () => {
      const passwords = await server(hostA, {passwordOnly: true})
      const error = await unreachable(pool().exec(endpointOf(passwords.port), ['out', 'x']), 'auth')
      expect(error.message).to.contain('does not accept public keys for root (it offers password)')
    })

    it('tries the explicit key, then the identity files, in order', async () => {
      const p = pool()
      const result = await p.exec(endpointOf(sshd.port, {keyPath: stranger.path, identityFiles: [locked.path, client.path]}), ['out', 'ok'])
      expect(result.stdout).to.equal('ok')
    })

    it('skips passphrase-protected keys and says so', async () => {
      const p = pool()
      const error = await unreachable(p.exec(endpointOf(sshd.port, {keyPath: undefined, identityFiles: [locked.path]}), ['out', 'x']), 'auth')
      expect(error.message).to.contain(`${locked.path} (passphrase-protected)`)
      expect(error.message).to.contain('ssh-add')
    })

    it('uses the default keys in HOME/.ssh when no identity files are given', async () => {
      const home = makeTempDir('clusterctl-home-')
      try {
        execFileSync('mkdir', ['-p', join(home.dir, '.ssh')])
        execFileSync('cp', [client.path, join(home.dir, '.ssh', 'id_ecdsa')])
        const p = pool({homeDir: home.dir})
        const endpoint: SshEndpoint = {host: '127.0.0.1', port: sshd.port, user: 'root'}
        expect((await p.exec(endpoint, ['out', 'ok'])).stdout).to.equal('ok')
      } finally {
        home.cleanup()
      }
    })

    it('refuses a missing --key file as a UserError', async () => {
      const p = pool()
      const error = await rejection(p.exec(endpointOf(sshd.port, {keyPath: join(tmp.dir, 'nope')}), ['out', 'x']))
      expect(error).to.be.instanceOf(UserError)
    })

    it('uses ssh-agent when SSH_AUTH_SOCK is set', async function () {
      const socket = join(tmp.dir, `agent-${process.pid}.sock`)
      let agent: ChildProcess | undefined
      try {
        agent = spawn('ssh-agent', ['-D', '-a', socket], {stdio: 'ignore'})
        for (let i = 0; i < 50; i++) {
          try {
            execFileSync('ssh-add', [client.path], {env: {...process.env, SSH_AUTH_SOCK: socket}, stdio: 'ignore'})
            break
          } catch {
            await sleep(50)
          }
        }
      } catch {
        this.skip()
      }
      try {
        const p = pool({agentSocket: socket})
        const result = await p.exec(endpointOf(sshd.port, {keyPath: undefined, identityFiles: []}), ['out', 'via-agent'])
        expect(result.stdout).to.equal('via-agent')
      } finally {
        agent?.kill()
      }
    })

    it('survives a dead agent socket and falls back to keys', async () => {
      const p = pool({agentSocket: join(tmp.dir, 'no-agent.sock')})
      const result = await p.exec(endpointOf(sshd.port, {keyPath: undefined, identityFiles: [client.path]}), ['out', 'ok'])
      expect(result.stdout).to.equal('ok')
    })
  })

  describe('failures to connect', () => {
    it('maps ECONNREFUSED to code refused at once', async () => {
      const port = await closedPort()
      const p = pool()
      const started = Date.now()
      const error = await unreachable(p.exec(endpointOf(port), ['out', 'x']), 'refused')
      expect(error.message).to.equal(`Connection to root@127.0.0.1:${port} was refused: is sshd running there, on that port?`)
      expect(Date.now() - started).to.be.below(1_000)
    })

    it('maps a name that does not resolve to code dns', async () => {
      const p = pool()
      await unreachable(p.exec({...endpointOf(22), host: 'no-such-host.invalid'}, ['out', 'x']), 'dns')
    })

    it('times out a listener that never speaks SSH within the connect timeout', async () => {
      const silent = net.createServer(() => {})
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
      const port = (silent.address() as net.AddressInfo).port
      try {
        const p = pool({connectTimeoutMs: 500})
        const started = Date.now()
        const error = await unreachable(p.exec(endpointOf(port), ['out', 'x']), 'timeout')
        const took = Date.now() - started
        expect(took).to.be.within(450, 1_500)
        expect(error.message).to.contain('did not complete the SSH handshake within 0.5s')
      } finally {
        silent.close()
      }
    })

    it('times out a host that drops packets (SYNs into a full backlog) within the connect timeout', async function () {
      // A listening socket that never accepts, with its backlog filled: Linux drops further SYNs.
      let python: ChildProcess
      let port: number
      try {
        python = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)'], {stdio: ['ignore', 'pipe', 'ignore']})
        port = await new Promise<number>((resolve, reject) => {
          python.stdout!.once('data', (data: Buffer) => resolve(Number(data.toString().trim())))
          python.once('error', reject)
        })
      } catch {
        return this.skip()
      }
      const fillers: net.Socket[] = []
      try {
        for (let i = 0; i < 4; i++) {
          const filler = net.connect(port, '127.0.0.1')
          filler.on('error', () => {})
          fillers.push(filler)
        }
        await sleep(200)
        const p = pool({connectTimeoutMs: 700})
        const started = Date.now()
        const error = await unreachable(p.exec(endpointOf(port), ['out', 'x']), 'timeout')
        expect(Date.now() - started).to.be.within(650, 2_000)
        expect(error.message).to.match(/did not (answer|complete the SSH handshake) within 0\.7s/)
      } finally {
        for (const filler of fillers) filler.destroy()
        python.kill()
      }
    })

    it('aborts a connect when the only waiter gives up', async () => {
      const silent = net.createServer(() => {})
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
      const port = (silent.address() as net.AddressInfo).port
      try {
        const p = pool({connectTimeoutMs: 5_000})
        const controller = new AbortController()
        setTimeout(() => controller.abort(), 100)
        const started = Date.now()
        const error = await rejection(p.exec(endpointOf(port), ['out', 'x'], {signal: controller.signal}))
        expect((error as Error).name).to.equal('AbortError')
        expect(Date.now() - started).to.be.below(1_000)
        // An abort is not a failure of the host: no backoff.
        const second = new AbortController()
        setTimeout(() => second.abort(), 50)
        expect(((await rejection(p.exec(endpointOf(port), ['out', 'x'], {signal: second.signal}))) as Error).name).to.equal('AbortError')
        expect(p.stats().connectAttempts).to.equal(2)
      } finally {
        silent.close()
      }
    })

    it('fails fast, then backs off exponentially with jitter before trying again', async () => {
      const port = await closedPort()
      let now = 1_000_000
      const p = pool({now: () => now, random: () => 1, backoff: {baseMs: 1_000, maxMs: 8_000}})
      const endpoint = endpointOf(port)
      await unreachable(p.exec(endpoint, ['x']), 'refused')
      expect(p.stats().connectAttempts).to.equal(1)
      // Within the backoff window: the same error, at once, without a connection attempt.
      now += 900
      await unreachable(p.exec(endpoint, ['x']), 'refused')
      expect(p.stats().connectAttempts).to.equal(1)
      now += 200
      await unreachable(p.exec(endpoint, ['x']), 'refused')
      expect(p.stats().connectAttempts).to.equal(2)
      // Second failure: 2 s window.
      now += 1_900
      await unreachable(p.exec(endpoint, ['x']), 'refused')
      expect(p.stats().connectAttempts).to.equal(2)
      now += 200
      await unreachable(p.exec(endpoint, ['x']), 'refused')
      expect(p.stats().connectAttempts).to.equal(3)
      // Capped at maxMs.
      for (let i = 0; i < 5; i++) {
        now += 8_001
        await unreachable(p.exec(endpoint, ['x']), 'refused')
      }
      expect(p.stats().connectAttempts).to.equal(8)
      // Jitter: with random() = 0 the window is half as long.
      const q = pool({now: () => now, random: () => 0, backoff: {baseMs: 1_000, maxMs: 8_000}})
      await unreachable(q.exec(endpoint, ['x']), 'refused')
      now += 501
      await unreachable(q.exec(endpoint, ['x']), 'refused')
      expect(q.stats().connectAttempts).to.equal(2)
    })

    it('resetBackoff lets the next exec try at once', async () => {
      const p = pool({now: () => 0, random: () => 1})
      const endpoint = endpointOf(sshd.port, {keyPath: stranger.path})
      await unreachable(p.exec(endpoint, ['x']), 'auth')
      await unreachable(p.exec(endpoint, ['x']), 'auth')
      expect(sshd.tcpConnections).to.equal(1)
      p.resetBackoff(endpoint)
      await unreachable(p.exec(endpoint, ['x']), 'auth')
      expect(sshd.tcpConnections).to.equal(2)
      expect(sshd.commands).to.deep.equal([])
    })
  })

  describe('ProxyJump', () => {
    it('reaches the target through a jump host with forwardOut, pooling the jump connection', async () => {
      const jump = await server(hostB, {allowForwarding: true})
      const p = pool()
      const endpoint = endpointOf(sshd.port, {proxyJump: [endpointOf(jump.port, {user: 'hop'})]})
      const results = await Promise.all(Array.from({length: 5}, () => p.exec(endpoint, ['out', 'through'])))
      expect(results.every((result) => result.stdout === 'through')).to.equal(true)
      expect(jump.forwards).to.deep.equal([{host: '127.0.0.1', port: sshd.port}])
      expect(jump.commands).to.deep.equal([])
      expect(jump.users).to.deep.equal(['hop'])
      expect(sshd.commands).to.have.length(5)
      // The target's host key is checked end to end, not the jump's.
      expect(p.hostKey(endpoint)?.fingerprint).to.equal(hostA.fingerprint)
    })

    it('reports a target the jump host cannot reach', async () => {
      const jump = await server(hostB, {allowForwarding: true})
      const port = await closedPort()
      const p = pool()
      const error = await unreachable(p.exec(endpointOf(port, {proxyJump: [endpointOf(jump.port)]}), ['x']), 'unreachable')
      expect(error.message).to.contain(`jump host root@127.0.0.1:${jump.port}`)
    })

    it('keeps the jump connection open while a forwarded connection uses it', async () => {
      const jump = await server(hostB, {allowForwarding: true})
      const p = pool({idleTimeoutMs: 150})
      const endpoint = endpointOf(sshd.port, {proxyJump: [endpointOf(jump.port)]})
      await p.exec(endpoint, ['sleep', '400'])
      expect(jump.tcpConnections).to.equal(1)
      await sleep(400)
      expect(p.stats().connections).to.equal(0)
    })
  })

  describe('shell sessions', () => {
    const sessionPool = (options: SshPoolOptions = {}) => pool({sessions: true, ...options})

    it('runs many commands through one session: the login shell starts once', async () => {
      const shell = await server(hostA, {realShell: true})
      const p = sessionPool()
      const endpoint = endpointOf(shell.port)
      for (let i = 0; i < 5; i++) expect(await p.exec(endpoint, ['sh', '-c', 'echo "$1"; echo e >&2; exit "$2"', 'x', `line ${i}`, String(i)])).to.deep.equal({stdout: `line ${i}\n`, stderr: 'e\n', code: i, signal: null})
      expect(shell.commands).to.have.length(1)
      expect(shell.commands[0]).to.match(/^exec sh -c /)
      expect(p.stats()).to.deep.include({sessions: 1, sessionsOpened: 1, sessionCommands: 5, activeChannels: 1})
    })

    it('keeps sudo -n -- on every command run in a session', async () => {
      const shell = await server(hostA, {realShell: true})
      const p = sessionPool()
      // sudo sets SUDO_COMMAND; where sudo is missing, 127 proves the prefix was there.
      const result = await p.exec(endpointOf(shell.port), ['sh', '-c', 'echo "$SUDO_COMMAND"'], {sudo: true})
      if (result.code === 127) expect(result.stderr).to.match(/sudo/)
      // sudo runs `env [RUNTIME_VAR=...] sh -c ...` (the runtime's environment carried through env_reset, src/ssh/sudo.ts).
      else expect(result.stdout).to.match(/^\/\S*env (\S+=\S* )*sh -c echo "\$SUDO_COMMAND"\n$/)
      expect(p.stats().sessionCommands).to.equal(1)
    })

    it('opens up to the cap in parallel, then execs; stdin and uncollected streams always exec', async () => {
      const shell = await server(hostA, {realShell: true})
      const p = sessionPool({sessions: {max: 2}})
      const endpoint = endpointOf(shell.port)
      const results = await Promise.all([1, 2, 3, 4].map((i) => p.exec(endpoint, ['sh', '-c', 'sleep 0.3; echo "$1"', 'x', String(i)])))
      expect(results.map((r) => r.stdout)).to.deep.equal(['1\n', '2\n', '3\n', '4\n'])
      expect(p.stats()).to.deep.include({sessionsOpened: 2, sessionCommands: 2})
      expect((await p.exec(endpoint, ['cat'], {stdin: 'in'})).stdout).to.equal('in')
      const chunks: Buffer[] = []
      await p.exec(endpoint, ['echo', 'streamed'], {collect: false, onStdout: (c) => chunks.push(c)})
      expect(Buffer.concat(chunks).toString()).to.equal('streamed\n')
      expect(p.stats()).to.deep.include({sessionCommands: 2})
      expect(shell.commands.filter((c) => !c.startsWith('exec sh -c '))).to.deep.equal(["sh -c 'sleep 0.3; echo \"$1\"' x 3", "sh -c 'sleep 0.3; echo \"$1\"' x 4", 'cat', 'echo streamed'])
    })

    it('a timeout ends the command and its session; the next command gets a new one', async () => {
      const shell = await server(hostA, {realShell: true})
      const p = sessionPool()
      const endpoint = endpointOf(shell.port)
      await p.exec(endpoint, ['true'])
      await unreachable(p.exec(endpoint, ['sleep', '30'], {timeoutMs: 300}), 'timeout')
      expect((await p.exec(endpoint, ['echo', 'after'])).stdout).to.equal('after\n')
      expect(p.stats()).to.deep.include({sessionsOpened: 2, sessions: 1})
    })

    it('a host that cannot hold a session gets one exec per command, without retrying for a while', async () => {
      const p = sessionPool()
      const endpoint = endpointOf(sshd.port)
      expect((await p.exec(endpoint, ['out', 'one'])).stdout).to.equal('one')
      expect((await p.exec(endpoint, ['out', 'two'])).stdout).to.equal('two')
      expect(sshd.commands.filter((c) => c.startsWith('exec sh -c '))).to.have.length(1)
      expect(sshd.commands.filter((c) => !c.startsWith('exec sh -c '))).to.deep.equal(['out one', 'out two'])
      expect(p.stats()).to.deep.include({sessions: 0, sessionsOpened: 1, sessionCommands: 0})
    })

    it('an idle connection still closes, sessions with it', async () => {
      const shell = await server(hostA, {realShell: true})
      const p = sessionPool({idleTimeoutMs: 300})
      await p.exec(endpointOf(shell.port), ['true'])
      expect(p.stats()).to.deep.include({connections: 1, sessions: 1})
      await sleep(800)
      expect(p.stats()).to.deep.include({connections: 0, sessions: 0, activeChannels: 0})
    })
  })
})
