import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import {FailedError, UnreachableError, UserError} from '../../../../src/core/errors.js'
import type {ConnectSpec, ServiceContext} from '../../../../src/core/context.js'
import {addNode, addNodes, getNodes, refreshInventory, removeNode, setSchedulable, startDrain} from '../../../../src/core/services/nodes.js'
import {listEvents} from '../../../../src/core/state/events.js'
import {findNode, updateNodeHeartbeat} from '../../../../src/core/state/nodes.js'
import {Store} from '../../../../src/core/state/store.js'
import type {HostKeyInfo} from '../../../../src/core/transport.js'
import {FakeTransport} from '../../../helpers/fake-transport.js'
import {makeTempDir} from '../../../helpers/tmp.js'

const PROBE = fs.readFileSync(new URL('../../../fixtures/probe/debian12-vm.txt', import.meta.url), 'utf8')
const NO_TOOLS = fs.readFileSync(new URL('../../../fixtures/probe/no-tools.txt', import.meta.url), 'utf8')
const KEY: HostKeyInfo = {algorithm: 'ssh-ed25519', fingerprint: 'SHA256:' + 'k'.repeat(43), key: 'AAAA'}

/** A scripted node: answers the probe with a fixture, or fails to connect. */
class ScriptedTransport extends FakeTransport {
  constructor(target: string, behaviour: {stdout?: string; fail?: Error}) {
    super(
      target,
      () => {
        if (behaviour.fail) throw behaviour.fail
        return {stdout: behaviour.stdout ?? PROBE}
      },
      behaviour.fail ? undefined : KEY,
    )
  }
}

describe('core/services/nodes', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store
  let ctx: ServiceContext
  let hosts: Record<string, {stdout?: string; fail?: Error}>
  let connects: ConnectSpec[]

  beforeEach(() => {
    tmp = makeTempDir()
    store = Store.open(path.join(tmp.dir, 'state.db'), new ManualClock())
    hosts = {}
    connects = []
    let n = 0
    ctx = {
      store,
      clock: store.clock,
      newId: () => `id-${++n}`,
      connect: (spec) => {
        connects.push(spec)
        return new ScriptedTransport(`root@${spec.host}:22`, hosts[spec.host] ?? {})
      },
    }
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  it('adds a node with its inventory, pinned key, reserve and labels, and records an event', async () => {
    const {node, pinnedNewHostKey} = await addNode({target: 'root@10.0.0.5', labels: {zone: 'a'}, reserve: {cpuMilli: 500}}, ctx)
    expect(pinnedNewHostKey).to.equal(true)
    expect(node).to.deep.include({name: '10.0.0.5', runtime: 'podman', state: 'ready', resolvedAddress: 'root@10.0.0.5:22'})
    expect(node.hostKey).to.deep.equal(KEY)
    expect(node.capacity.cpuMilli).to.equal(2000)
    expect(node.reserved.cpuMilli).to.equal(500)
    expect(getNodes(ctx)).to.deep.equal([node])
    expect(listEvents(store).map((e) => [e.type, e.subject])).to.deep.equal([['node.added', '10.0.0.5']])
    expect(connects[0]).to.deep.include({host: '10.0.0.5', user: 'root', port: null, expectedHostKey: null})
  })

  it('saves nothing when the host is unreachable, has no runtime, or the reserve is too big', async () => {
    hosts['down.example'] = {fail: new UnreachableError('down.example', 'did not answer', {code: 'timeout'})}
    hosts['bare.example'] = {stdout: NO_TOOLS}
    await expectReject(addNode({target: 'down.example'}, ctx), UnreachableError)
    await expectReject(addNode({target: 'bare.example'}, ctx), FailedError, /has no usable container runtime/)
    await expectReject(addNode({target: 'big.example', reserve: {cpuMilli: 64_000}}, ctx), UserError, /--reserve .* is more than node big.example has/)
    await expectReject(addNode({target: 'x.example', runtime: 'containerd'}, ctx), FailedError, /cannot run containers with containerd: containerd is not answering/)
    expect(getNodes(ctx)).to.deep.equal([])
    expect(listEvents(store)).to.deep.equal([])
  })

  it('refuses a duplicate name before connecting', async () => {
    await addNode({target: 'a.example', name: 'web-1'}, ctx)
    const before = connects.length
    await expectReject(addNode({target: 'b.example', name: 'web-1'}, ctx), FailedError, /Node web-1 already exists/)
    expect(connects.length).to.equal(before)
  })

  it('validates every request before connecting to any', async () => {
    await expectReject(addNodes([{target: 'a.example'}, {target: 'b.example', labels: {'bad key': 'x'}}], ctx), UserError, /Label key "bad key"/)
    await expectReject(addNodes([{target: 'root@a.example'}, {target: 'admin@a.example'}], ctx), UserError, /would both be named a.example/)
    expect(connects).to.deep.equal([])
  })

  it('adds many in parallel and reports each failure with its reason', async () => {
    hosts['h3'] = {fail: new UnreachableError('h3', 'Connection to root@h3:22 was refused', {code: 'refused'})}
    const progress: string[] = []
    const outcome = await addNodes(
      ['h1', 'h2', 'h3', 'h4'].map((t) => ({target: t})),
      ctx,
      {concurrency: 2, onProgress: (p) => progress.push(`${p.done}/${p.total} ${p.target} ${p.ok}`)},
    )
    expect(outcome.added.map((a) => a.node.name)).to.deep.equal(['h1', 'h2', 'h4'])
    expect(outcome.failed.map((f) => [f.target, (f.error as UnreachableError).code])).to.deep.equal([['h3', 'refused']])
    expect(progress).to.have.length(4)
    expect(progress.at(-1)).to.match(/^4\/4 /)
  })

  it('refreshes inventories, keeps declared capacity, and reports an unreachable node without losing its data', async () => {
    await addNode({target: 'h1', resources: {cpuMilli: 32_000}}, ctx)
    await addNode({target: 'h2'}, ctx)
    hosts['h2'] = {fail: new UnreachableError('h2', 'gone', {code: 'timeout'})}
    const results = await refreshInventory(ctx, 'all')
    expect(results.map((r) => [r.node.name, r.fresh, r.node.capacity.cpuMilli])).to.deep.equal([
      ['h1', true, 32_000],
      ['h2', false, 2000],
    ])
    // the pinned key is what later connections must see
    expect(connects.at(-1)).to.deep.include({host: 'h2', expectedHostKey: KEY.fingerprint})
  })

  it('removes a node and records it', async () => {
    await addNode({target: 'h1'}, ctx)
    removeNode(ctx, 'h1')
    expect(getNodes(ctx)).to.deep.equal([])
    expect(listEvents(store).map((e) => e.type)).to.deep.equal(['node.added', 'node.removed'])
  })

  it('cordon of a cordoned node says it is cordoned (not the state it had before), before any pass', async () => {
    await addNode({target: 'root@10.0.0.5'}, ctx)
    expect(setSchedulable(ctx, '10.0.0.5', false)).to.deep.include({changed: true})
    const again = setSchedulable(ctx, '10.0.0.5', false)
    expect(again.changed).to.equal(false)
    expect(again.node.state).to.equal('cordoned')
    startDrain(ctx, '10.0.0.5')
    expect(startDrain(ctx, '10.0.0.5').node.state).to.equal('draining')
    expect(setSchedulable(ctx, '10.0.0.5', true).node.state).to.equal('ready')
    expect(setSchedulable(ctx, '10.0.0.5', true)).to.deep.include({changed: false})
    expect(setSchedulable(ctx, '10.0.0.5', true).node.state).to.equal('ready')
  })

  it('a pass that read the node before a cordon does not write its old state back', async () => {
    const {node} = await addNode({target: 'root@10.0.0.5'}, ctx)
    setSchedulable(ctx, '10.0.0.5', false)
    // The pass observed the node while it was still ready, and records its heartbeat after the cordon.
    store.write(() => updateNodeHeartbeat(store, node.id, {state: 'ready', missedHeartbeats: 0, heartbeatError: null, lastSeenAt: store.clock.now(), stateSince: node.stateSince}))
    expect(findNode(store, '10.0.0.5')).to.deep.include({state: 'cordoned', adminState: 'cordoned'})
    expect(setSchedulable(ctx, '10.0.0.5', false).node.state).to.equal('cordoned')
  })
})

async function expectReject(promise: Promise<unknown>, type: new (...args: never[]) => Error, message?: RegExp): Promise<void> {
  try {
    await promise
  } catch (error) {
    expect(error).to.be.instanceOf(type)
    if (message) expect((error as Error).message).to.match(message)
    return
  }

  expect.fail('expected a rejection')
}
