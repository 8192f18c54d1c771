import {expect} from 'chai'

import {FailedError, RemoteError} from '../../../src/core/errors.js'
import {RuntimeClient, stopTimeoutMs} from '../../../src/runtime/client.js'
import {createContainerdRuntime} from '../../../src/runtime/containerd.js'
import {createPodmanRuntime} from '../../../src/runtime/podman.js'
import type {ExecResult} from '../../../src/core/transport.js'
import {FakeTransport} from '../../helpers/fake-transport.js'
import {SPEC, fixture} from './helpers.js'

const Scripted = class extends FakeTransport {
  constructor(answer: (argv: readonly string[]) => Partial<ExecResult>) {
    super('root@10.0.0.5:22', answer)
  }
}

describe('runtime/client', () => {
  it('start returns the parsed outcome; a failed start is a RemoteError naming container, node and stderr, not the script', async () => {
    let answer: Partial<ExecResult> = {stdout: fixture('podman', 'start-adopted.txt')}
    const t = new Scripted(() => answer)
    const client = new RuntimeClient(createPodmanRuntime(), t)
    expect((await client.start(SPEC)).outcome).to.equal('adopted')
    expect(t.calls[0]!.options.timeoutMs).to.equal(120_000)

    answer = {code: 125, stderr: 'Error: localhost/app:1: image not known\n'}
    const error = (await client.start(SPEC).catch((e: unknown) => e)) as RemoteError
    expect(error).to.be.instanceOf(RemoteError)
    expect(error.message).to.equal('Starting container cctl-web-0-1f3a9c2e on root@10.0.0.5:22 failed: podman exited 125: Error: localhost/app:1: image not known')
    expect(error.exitStatus).to.equal(125)

    answer = {code: 0, stdout: 'something else\n'}
    expect(await client.start(SPEC).catch((e: unknown) => e)).to.be.instanceOf(RemoteError)
  })

  it('list refuses to return an incomplete list', async () => {
    let stdout = fixture('containerd', 'list.txt')
    const client = new RuntimeClient(createContainerdRuntime(), new Scripted(() => ({stdout})))
    expect((await client.list({'io.clusterctl.cluster': 'fx'})).map((c) => c.state).sort()).to.deep.equal(['exited', 'running'])
    stdout = stdout.replace('clusterctl-end', '')
    const error = await client.list({'io.clusterctl.cluster': 'fx'}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(FailedError)
    expect((error as FailedError).message).to.match(/incomplete/)
  })

  it('stop waits long enough for the grace period; imageExists reads 0/1 and fails otherwise', async () => {
    let code = 0
    const t = new Scripted(() => ({code}))
    const client = new RuntimeClient(createPodmanRuntime(), t)
    await client.stop('cctl-a-0-1', 25)
    expect(t.calls[0]!.options.timeoutMs).to.equal(stopTimeoutMs(25))
    expect(stopTimeoutMs(25)).to.equal(55_000)
    expect(await client.imageExists('localhost/app:1')).to.equal(true)
    code = 1
    expect(await client.imageExists('localhost/app:1')).to.equal(false)
    code = 125
    expect(await client.imageExists('localhost/app:1').catch((e: unknown) => e)).to.be.instanceOf(RemoteError)
    expect(await client.stop('cctl-a-0-1', 1).catch((e: unknown) => e)).to.be.instanceOf(RemoteError)
  })

  it('logs streams chunks, without a timeout when following', async () => {
    const t = new Scripted(() => ({stdout: 'line\n'}))
    const client = new RuntimeClient(createPodmanRuntime(), t)
    const chunks: Buffer[] = []
    const controller = new AbortController()
    await client.logs('cctl-a-0-1', {follow: true, tail: 3, signal: controller.signal, onStdout: (c) => chunks.push(c)})
    expect(t.calls[0]!.argv).to.deep.equal(['podman', 'logs', '--follow', '--tail', '3', 'cctl-a-0-1'])
    expect(t.calls[0]!.options.timeoutMs).to.equal(undefined)
    expect(t.calls[0]!.options.signal).to.equal(controller.signal)
    await client.logs('cctl-a-0-1', {follow: false})
    expect(t.calls[1]!.options.timeoutMs).to.equal(60_000)
  })
})
