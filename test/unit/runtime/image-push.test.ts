/**
 * src/core/services/images.ts (clusterctl image push) with scripted transports: the
 * archive streams to each node's runtime, progress adds up, at most 4 nodes at a time,
 * one failing node never stops the others, exit codes follow the failures.
 */
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'
import type {Readable} from 'node:stream'

import {ManualClock} from '../../../src/core/clock.js'
import {NotFoundError, UnreachableError, UserError} from '../../../src/core/errors.js'
import {parseInventory} from '../../../src/core/inventory/parse.js'
import type {Node, RuntimeName} from '../../../src/core/model/node.js'
import type {ServiceContext} from '../../../src/core/context.js'
import {PUSH_CONCURRENCY, pushExitCode, pushImage, type PushProgress} from '../../../src/core/services/images.js'
import {listEvents} from '../../../src/core/state/events.js'
import {insertNode} from '../../../src/core/state/nodes.js'
import {Store} from '../../../src/core/state/store.js'
import type {ExecOptions, ExecResult} from '../../../src/core/transport.js'
import {FakeTransport} from '../../helpers/fake-transport.js'
import {makeTempDir} from '../../helpers/tmp.js'

const PROBE = fs.readFileSync(new URL('../../fixtures/probe/debian12-vm.txt', import.meta.url), 'utf8')
const ZERO = {cpuMilli: 0, memBytes: 0, diskBytes: 0, gpus: 0}

function node(name: string, runtime: RuntimeName): Node {
  return {
    id: `id-${name}`,
    name,
    address: {host: `${name}.example`, port: null, user: 'root'},
    resolvedAddress: `root@${name}.example:22`,
    keyPath: null,
    sudo: false,
    runtime,
    hostKey: null,
    state: 'ready',
    adminState: 'ready',
    missedHeartbeats: 0,
    heartbeatError: null,
    stateSince: null,
    usage: null,
    heartbeatLatencies: [],
    labels: {},
    declared: {},
    capacity: {cpuMilli: 2000, memBytes: 2 ** 30, diskBytes: 2 ** 34, gpus: 0},
    reserved: ZERO,
    inventory: parseInventory(PROBE, {sentAt: 0, receivedAt: 10}),
    inventoriedAt: 0,
    createdAt: 0,
    lastSeenAt: null,
    conditions: [],
    healthProbedAt: null,
  }
}

type Behaviour = 'ok' | 'unreachable' | 'load-fails' | 'slow'

class FakeNode extends FakeTransport {
  received = Buffer.alloc(0)
  argv: string[] = []
  constructor(target: string, behaviour: Behaviour, load: {active: number; max: number}) {
    super(target, async (argv: readonly string[], options: ExecOptions): Promise<ExecResult> => {
      this.argv = [...argv]
      if (behaviour === 'unreachable') throw new UnreachableError(target, `${target} did not answer within 10s: check the address and the network.`, {code: 'timeout'})
      load.active++
      load.max = Math.max(load.max, load.active)
      try {
        const chunks: Buffer[] = []
        for await (const chunk of options.stdin as Readable) {
          chunks.push(chunk as Buffer)
          if (behaviour === 'slow') await new Promise((r) => setTimeout(r, 1))
        }
        this.received = Buffer.concat(chunks)
        if (behaviour === 'load-fails') return {stdout: '', stderr: 'Error: payload does not match any of the supported image formats\n', code: 125, signal: null}
        const stdout = argv[0] === 'podman' ? 'Loaded image: localhost/app:1\n' : 'unpacking localhost/app:1 (sha256:abc)...done\n'
        return {stdout, stderr: '', code: 0, signal: null}
      } finally {
        load.active--
      }
    })
  }
}

describe('core/services/images: pushImage', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store
  let ctx: ServiceContext
  let archive: string
  let content: Buffer
  let behaviours: Record<string, Behaviour>
  let transports: Record<string, FakeNode>
  let load: {active: number; max: number}

  beforeEach(() => {
    tmp = makeTempDir('clusterctl-push-')
    store = Store.open(path.join(tmp.dir, 'state.db'), new ManualClock())
    // A tar header ("ustar" at 257) followed by ~1 MiB of data.
    content = Buffer.alloc(1024 * 1024 + 517, 7)
    content.write('ustar', 257, 'latin1')
    archive = path.join(tmp.dir, 'app.tar')
    fs.writeFileSync(archive, content)
    behaviours = {}
    transports = {}
    load = {active: 0, max: 0}
    ctx = {
      store,
      clock: store.clock,
      newId: () => 'x',
      connect: (spec) => (transports[spec.nodeName] = new FakeNode(`root@${spec.host}:22`, behaviours[spec.nodeName] ?? 'ok', load)),
    }
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  function addNodes(...nodes: Node[]): void {
    store.write(() => nodes.forEach((n) => insertNode(store, n)))
  }

  it('streams the archive byte for byte into each node runtime and reports the images', async () => {
    addNodes(node('a', 'podman'), node('b', 'containerd'))
    const progress: PushProgress[] = []
    const result = await pushImage(ctx, {archive, onProgress: (p) => progress.push(p)})
    expect(result.bytes).to.equal(content.length)
    expect(result.nodes.map((n) => [n.node, n.runtime, n.ok, n.images])).to.deep.equal([
      ['a', 'podman', true, ['localhost/app:1']],
      ['b', 'containerd', true, ['localhost/app:1']],
    ])
    expect(transports.a!.argv).to.deep.equal(['podman', 'load'])
    expect(transports.b!.argv).to.deep.equal(['ctr', '-n', 'clusterctl', 'images', 'import', '-'])
    expect(transports.a!.received.equals(content)).to.equal(true)
    expect(transports.b!.received.equals(content)).to.equal(true)
    for (const name of ['a', 'b']) {
      const mine = progress.filter((p) => p.node === name)
      expect(mine.map((p) => p.sentBytes)).to.satisfy((xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!))
      expect(mine.at(-1)).to.deep.include({sentBytes: content.length, totalBytes: content.length})
      expect(mine.at(-1)!.done).to.deep.equal({ok: true, images: ['localhost/app:1']})
      expect(mine.length).to.be.below(110)
    }
    expect(pushExitCode(result)).to.equal(0)
    // The two pushes run in parallel: their events come in either order.
    expect(listEvents(store).map((e) => [e.type, e.subject]).sort()).to.deep.equal([
      ['image.pushed', 'a'],
      ['image.pushed', 'b'],
    ])
  })

  it('pushes only to the named nodes, and refuses unknown ones before sending anything', async () => {
    addNodes(node('a', 'podman'), node('b', 'podman'))
    const result = await pushImage(ctx, {archive, nodes: ['b', 'b ']})
    expect(result.nodes.map((n) => n.node)).to.deep.equal(['b'])
    transports = {}
    const error = await pushImage(ctx, {archive, nodes: ['a', 'nope']}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(NotFoundError)
    expect(transports).to.deep.equal({})
  })

  it('keeps going when nodes fail: unreachable is exit 5, a failed load exit 1', async () => {
    addNodes(node('a', 'podman'), node('b', 'podman'), node('c', 'containerd'))
    behaviours = {a: 'unreachable'}
    let result = await pushImage(ctx, {archive})
    expect(result.nodes.map((n) => [n.node, n.ok, n.error?.code])).to.deep.equal([
      ['a', false, 'timeout'],
      ['b', true, undefined],
      ['c', true, undefined],
    ])
    expect(pushExitCode(result)).to.equal(5)

    behaviours = {a: 'unreachable', b: 'load-fails'}
    result = await pushImage(ctx, {archive})
    expect(result.nodes[1]!.error).to.deep.include({code: 'load-failed', exitCode: 1})
    expect(result.nodes[1]!.error!.message).to.match(/^Loading the image archive on root@b.example:22 failed: podman exited 125: Error: payload does not match/)
    expect(pushExitCode(result)).to.equal(1)
    expect(listEvents(store).filter((e) => e.type === 'image.push-failed').map((e) => e.subject)).to.deep.equal(['a', 'a', 'b'])
  })

  it(`loads on at most ${PUSH_CONCURRENCY} nodes at a time`, async () => {
    addNodes(...Array.from({length: 9}, (_, i) => node(`n${i}`, i % 2 ? 'podman' : 'containerd')))
    behaviours = Object.fromEntries(Array.from({length: 9}, (_, i) => [`n${i}`, 'slow' as const]))
    const result = await pushImage(ctx, {archive})
    expect(result.nodes.every((n) => n.ok)).to.equal(true)
    expect(load.max).to.equal(PUSH_CONCURRENCY)
  })

  it('refuses a missing file, a directory, a non-archive, and having no nodes', async () => {
    addNodes(node('a', 'podman'))
    const notTar = path.join(tmp.dir, 'notes.txt')
    fs.writeFileSync(notTar, 'hello')
    for (const bad of [path.join(tmp.dir, 'missing.tar'), tmp.dir, notTar]) {
      const error = await pushImage(ctx, {archive: bad}).catch((e: unknown) => e)
      expect(error, bad).to.be.instanceOf(UserError)
    }
    const gz = path.join(tmp.dir, 'app.tar.gz')
    fs.writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]))
    expect((await pushImage(ctx, {archive: gz})).nodes[0]!.ok).to.equal(true)
    const empty = {...ctx, store: Store.open(path.join(tmp.dir, 'empty.db'), new ManualClock())}
    try {
      const error = await pushImage(empty, {archive}).catch((e: unknown) => e)
      expect(error).to.be.instanceOf(UserError)
      expect((error as UserError).hint).to.match(/add-node/)
    } finally {
      empty.store.close()
    }
    const error = await pushImage(ctx, {archive, nodes: [' ']}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(UserError)
  })
})
