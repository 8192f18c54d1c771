import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import {FailedError, NotFoundError, UnreachableError, UserError} from '../../../../src/core/errors.js'
import {nodeToJson} from '../../../../src/ui/presenters/nodes.js'
import type {ConnectSpec, ServiceContext} from '../../../../src/core/context.js'
import {addNode, addNodes, cancelDrain, drainProgress, getNodes, refreshInventory, removeNode, setEdge, setSchedulable, startDrain} from '../../../../src/core/services/nodes.js'
import {listEvents} from '../../../../src/core/state/events.js'
import {findNode, updateNodeHeartbeat} from '../../../../src/core/state/nodes.js'
import {findTask, insertJob, insertTask} from '../../../../src/core/state/jobs.js'
import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {Task} from '../../../../src/core/model/task.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
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

  it('edge nodes: add-node --edge and node edge NAME [--off] mark and unmark one, idempotently, with events; the mark outlives a cordon (docs/endpoints.md)', async () => {
    await addNode({target: 'lb-1', edge: true}, ctx)
    await addNode({target: 'web-1'}, ctx)
    expect(getNodes(ctx).map((n) => [n.name, n.edge])).to.deep.equal([['lb-1', true], ['web-1', false]])
    expect(nodeToJson(findNode(store, 'lb-1')!).edge).to.equal(true)
    expect(setEdge(ctx, 'web-1', true)).to.deep.include({changed: true})
    expect(setEdge(ctx, 'web-1', true)).to.deep.include({changed: false})
    setSchedulable(ctx, 'web-1', false)
    expect(findNode(store, 'web-1')).to.deep.include({edge: true, state: 'cordoned'})
    expect(setEdge(ctx, 'lb-1', false).node.edge).to.equal(false)
    expect(getNodes(ctx).map((n) => [n.name, n.edge])).to.deep.equal([['lb-1', false], ['web-1', true]])
    expect(listEvents(store).map((e) => e.type).filter((t) => t.startsWith('node.edge'))).to.deep.equal(['node.edge', 'node.edge-off'])
    expect(() => setEdge(ctx, 'nope', true)).to.throw(NotFoundError, 'No node named nope.')
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

  it('giving up a drain (uncordon, or drain --cancel) cancels the replacements still pending; placed ones stay', async () => {
    const {node} = await addNode({target: 'root@10.0.0.5'}, ctx)
    const {node: other} = await addNode({target: 'root@10.0.0.6'}, ctx)
    const spec = validateJobSpec({name: 'web', image: 'img', instances: 2}, 'test')
    const job = {id: 'job-web', name: 'web', kind: spec.kind, spec, specHash: containerSpecHash(spec), instances: 2, generation: 0, state: 'active' as const, createdAt: 0, updatedAt: 0}
    const task = (id: string, over: Partial<Task>): Omit<Task, 'jobName' | 'nodeName'> => ({
      id, jobId: job.id, instance: 0, nodeId: null, state: 'pending', desired: 'run', health: 'unknown', healthFailures: 0, healthCheckedAt: null, healthMessage: null, replaces: null, containerName: null, hostPorts: [], specHash: job.specHash,
      reason: null, reasonData: null, restarts: 0, exitCode: null, createdAt: 1, updatedAt: 1, startedAt: null, finishedAt: null, ...over,
    })
    store.write(() => {
      insertJob(store, job)
      insertTask(store, task('old-0', {nodeId: node.id, state: 'running', containerName: 'c0'}))
      insertTask(store, task('old-1', {instance: 1, nodeId: node.id, state: 'running', containerName: 'c1'}))
      insertTask(store, task('new-0', {replaces: 'old-0', reason: '0/1 nodes fit: 1 draining', createdAt: 2}))
      insertTask(store, task('new-1', {instance: 1, replaces: 'old-1', state: 'staging', nodeId: other.id, createdAt: 2}))
    })
    startDrain(ctx, '10.0.0.5')
    expect(drainProgress(ctx, '10.0.0.5').remaining.map((r) => [r.task.id, r.replacement?.id, r.replacement?.reason])).to.deep.equal([['old-0', 'new-0', '0/1 nodes fit: 1 draining'], ['old-1', 'new-1', null]])
    const uncordoned = setSchedulable(ctx, '10.0.0.5', true)
    expect(uncordoned.cancelled.map((t) => t.id)).to.deep.equal(['new-0'])
    expect(findTask(store, 'new-0')[0]).to.deep.include({state: 'killed', desired: 'stop', reason: 'drain of 10.0.0.5 cancelled'})
    expect(findTask(store, 'new-1')[0]!.state).to.equal('staging')
    expect(listEvents(store).map((e) => e.message)).to.include('uncordoned: takes new work again (drain cancelled: 1 pending replacement cancelled)')

    store.write(() => insertTask(store, task('new-0b', {replaces: 'old-0', createdAt: 3})))
    startDrain(ctx, '10.0.0.5')
    const cancel = cancelDrain(ctx, '10.0.0.5')
    expect(cancel).to.deep.include({changed: true})
    expect(cancel.node.adminState).to.equal('cordoned')
    expect(cancel.cancelled.map((t) => t.id)).to.deep.equal(['new-0b'])
    expect(cancelDrain(ctx, '10.0.0.5')).to.deep.include({changed: false, cancelled: []})
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
