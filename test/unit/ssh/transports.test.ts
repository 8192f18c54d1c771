import {expect} from 'chai'
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import {UnreachableError} from '../../../src/core/errors.js'
import {createConnector, createTransport, LocalTransport, SshPool, SshTransport} from '../../../src/ssh/index.js'
import {sudoShellCommand} from '../../../src/ssh/sudo.js'
import {makeTempDir} from '../../helpers/tmp.js'
import {startFakeSshd, type FakeSshd} from './fake-sshd.js'
import {generateKey, type TestKey} from './keys.js'

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describe('ssh/local-transport', function () {
  this.timeout(10_000)
  const local = new LocalTransport()

  it('runs argv without a shell and returns output and status', async () => {
    expect(local.target).to.equal('local')
    expect(await local.exec(['printf', '%s|', 'a b', '$HOME', '*'])).to.deep.equal({stdout: 'a b|$HOME|*|', stderr: '', code: 0, signal: null})
    expect(await local.exec(['sh', '-c', 'echo oops >&2; exit 3'])).to.deep.equal({stdout: '', stderr: 'oops\n', code: 3, signal: null})
    expect(await local.exec(['sh', '-c', 'kill -TERM $$'])).to.deep.include({code: null, signal: 'SIGTERM'})
    expect(local.hostKey()).to.equal(undefined)
  })

  it('answers 127 for a missing program, as a remote shell would', async () => {
    const result = await local.exec(['clusterctl-no-such-program', 'x'])
    expect(result.code).to.equal(127)
    expect(result.stderr).to.contain('command not found')
  })

  it('feeds stdin from a string, a Buffer or a Readable, and streams output', async () => {
    expect((await local.exec(['cat'], {stdin: 'text'})).stdout).to.equal('text')
    expect((await local.exec(['cat'], {stdin: Buffer.from('buf')})).stdout).to.equal('buf')
    expect((await local.exec(['cat'], {stdin: Readable.from([Buffer.from('re'), Buffer.from('adable')])})).stdout).to.equal('readable')
    expect((await local.exec(['cat'])).stdout).to.equal('')
    const chunks: string[] = []
    const result = await local.exec(['printf', 'streamed'], {onStdout: (chunk) => chunks.push(chunk.toString()), collect: false})
    expect(chunks.join('')).to.equal('streamed')
    expect(result.stdout).to.equal('')
  })

  it('times out with code timeout', async () => {
    const started = Date.now()
    const error = await rejection(local.exec(['sleep', '5'], {timeoutMs: 200}))
    expect(error).to.be.instanceOf(UnreachableError)
    expect((error as UnreachableError).code).to.equal('timeout')
    expect(Date.now() - started).to.be.below(2_000)
  })

  it('honours an AbortSignal', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('stop')), 100)
    const error = await rejection(local.exec(['sleep', '5'], {signal: controller.signal}))
    expect((error as Error).message).to.equal('stop')
  })

  it('prefixes sudo -n -- when asked, carrying the runtime\'s environment across explicitly (env_reset)', async () => {
    const tmp = makeTempDir('clusterctl-sudo-')
    const oldPath = process.env['PATH']
    const oldConf = process.env['CONTAINERS_CONF']
    try {
      writeFileSync(join(tmp.dir, 'sudo'), '#!/bin/sh\nprintf "%s|" "$@"\n')
      chmodSync(join(tmp.dir, 'sudo'), 0o755)
      process.env['PATH'] = `${tmp.dir}:${oldPath}`
      process.env['CONTAINERS_CONF'] = '/etc/x/containers.conf'
      expect((await new LocalTransport({sudo: true}).exec(['id', '-u'])).stdout).to.equal('-n|--|env|CONTAINERS_CONF=/etc/x/containers.conf|id|-u|')
    } finally {
      process.env['PATH'] = oldPath
      if (oldConf === undefined) delete process.env['CONTAINERS_CONF']
      else process.env['CONTAINERS_CONF'] = oldConf
      tmp.cleanup()
    }
  })
})

describe('ssh/ssh-transport and createTransport', function () {
  this.timeout(10_000)
  let tmp: ReturnType<typeof makeTempDir>
  let hostKey: TestKey
  let client: TestKey
  let sshd: FakeSshd
  let pool: SshPool

  before(async () => {
    tmp = makeTempDir('clusterctl-transport-')
    hostKey = generateKey(tmp.dir, 'host')
    client = generateKey(tmp.dir, 'client')
    sshd = await startFakeSshd({hostKeyPath: hostKey.path, authorizedKeys: [`${client.path}.pub`]})
    pool = new SshPool({agentSocket: null, homeDir: tmp.dir, knownHostsFiles: [], sessions: false})
    mkdirSync(join(tmp.dir, '.ssh'))
    writeFileSync(join(tmp.dir, '.ssh', 'config'), `Host web-*\n  HostName 127.0.0.1\n  User deploy\n  Port ${sshd.port}\n  IdentityFile ${client.path}\n`)
  })
  after(async () => {
    await pool.closeAll()
    await sshd.close()
    tmp.cleanup()
  })

  it('createTransport gives LocalTransport for local', () => {
    expect(createTransport({host: 'local', sudo: true}, pool)).to.be.instanceOf(LocalTransport)
  })

  it('resolves an alias through ~/.ssh/config and runs over the pool', async () => {
    const connect = createConnector(pool, {homeDir: tmp.dir})
    const transport = connect({nodeName: 'web-1', host: 'web-1', port: null, user: null, keyPath: null, sudo: false, expectedHostKey: null})
    expect(transport).to.be.instanceOf(SshTransport)
    expect(transport.target).to.equal(`deploy@127.0.0.1:${sshd.port}`)
    expect(transport.hostKey()).to.equal(undefined)
    expect((await transport.exec(['out', 'hi'])).stdout).to.equal('hi')
    expect(transport.hostKey()?.fingerprint).to.equal(hostKey.fingerprint)
    await transport.close()
    // Closing a transport leaves the pooled connection for others.
    expect(pool.stats().connections).to.equal(1)
  })

  it('passes sudo and the expected host key through', async () => {
    const transport = createTransport(
      {nodeName: 'web-2', host: 'web-2', user: 'root', sudo: true, expectedHostKey: hostKey.fingerprint},
      pool,
      {homeDir: tmp.dir},
    )
    expect(transport.target).to.equal(`root@127.0.0.1:${sshd.port}`)
    await transport.exec(['id', '-u'])
    expect(sshd.commands.at(-1)).to.equal(sudoShellCommand(['id', '-u']))
  })

  it('a --host-key that does not match is host-key-mismatch, a pinned one host-key-changed', async () => {
    const other = generateKey(tmp.dir, 'other')
    const flag = createTransport({nodeName: 'web-3', host: 'web-3', expectedHostKey: other.fingerprint, hostKeyFromUser: true}, pool, {homeDir: tmp.dir})
    expect(((await rejection(flag.exec(['out', 'x']))) as UnreachableError).code).to.equal('host-key-mismatch')
    const pinned = createTransport({nodeName: 'web-3', host: 'web-3', expectedHostKey: other.fingerprint}, pool, {homeDir: tmp.dir})
    const error = (await rejection(pinned.exec(['out', 'x']))) as UnreachableError
    expect(error.code).to.equal('host-key-changed')
    expect(error.message).to.contain('clusterctl node rm web-3')
  })
})
