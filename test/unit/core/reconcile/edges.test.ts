import path from 'node:path'

import {expect} from 'chai'

import {ManualClock} from '../../../../src/core/clock.js'
import type {ServiceContext} from '../../../../src/core/context.js'
import {EDGE_COMMANDS_SCRIPT, EDGE_SYNC_SCRIPT} from '../../../../src/core/edge/runner.js'
import {containerSpecHash, type JobSpec} from '../../../../src/core/model/job.js'
import type {Job} from '../../../../src/core/model/task.js'
import {runPass} from '../../../../src/core/reconcile/pass.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {insertJob, listJobs, listTasks, updateJob} from '../../../../src/core/state/jobs.js'
import {insertNode, updateNodeHeartbeat, findNode} from '../../../../src/core/state/nodes.js'
import {Store} from '../../../../src/core/state/store.js'
import type {ExecOptions, ExecResult} from '../../../../src/core/transport.js'
import {FakePodmanNode} from '../../../helpers/fake-transport.js'
import {makeTempDir} from '../../../helpers/tmp.js'
import {aNode} from '../../ui/dashboard/fixtures.js'

const T0 = 1_750_000_000_000

interface FakeServer {
  address: string
  port: number
  admin: 'ready' | 'drain' | 'maint'
  connections: number
}

/**
 * An edge node's HAProxy in memory, answering the edge scripts as the real one does
 * through the perl client: the reads (`show servers state`, `show stat`) and the
 * membership commands. The file and reloads are not modelled: backends come from the
 * services the pass asked for.
 */
class FakeEdge {
  readonly backends = new Map<string, Map<string, FakeServer>>()
  syncs = 0

  answer(argv: readonly string[], options: ExecOptions): Partial<ExecResult> | null {
    if (argv[0] !== 'sh' || (argv[2] !== EDGE_SYNC_SCRIPT && argv[2] !== EDGE_COMMANDS_SCRIPT)) return null
    const stdin = String(options.stdin ?? '')
    if (argv[2] === EDGE_SYNC_SCRIPT) {
      this.syncs++
      for (const m of stdin.matchAll(/^backend (\S+)$/gm)) if (!this.backends.has(m[1]!)) this.backends.set(m[1]!, new Map())
      return {stdout: `clusterctl-edge written\n${this.reads()}`}
    }

    const out: string[] = []
    for (const line of stdin.split('\n').filter(Boolean)) {
      if (line.startsWith('show ')) continue
      out.push(`clusterctl-cmd ${line}`, this.apply(line), 'clusterctl-end')
    }

    return {stdout: `${out.join('\n')}\n${this.reads()}`}
  }

  private apply(line: string): string {
    const [verb, what, id, ...rest] = line.split(' ')
    const [be, name] = (verb === 'add' || verb === 'del' || verb === 'set' || verb === 'enable' ? id : rest.at(-1))!.split('/')
    const servers = this.backends.get(be!)
    if (!servers) return 'No such backend.'
    if (verb === 'add' && what === 'server') {
      const [address, port] = rest[0]!.split(':')
      servers.set(name!, {address: address!, port: Number(port), admin: 'maint', connections: 0})
      return 'New server registered.'
    }

    const s = servers.get(name!)
    if (!s) return 'No such server.'
    if (verb === 'enable' && what === 'server') s.admin = 'ready'
    else if (verb === 'set' && rest[0] === 'state') s.admin = rest[1] as FakeServer['admin']
    else if (verb === 'del') {
      if (s.admin !== 'maint' || s.connections > 0) return 'Only servers in maintenance mode can be deleted.'
      servers.delete(name!)
      return 'Server deleted.'
    } else if (verb === 'shutdown') s.connections = 0
    return ''
  }

  private reads(): string {
    const state = ['1', '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_port']
    const stat = ['# pxname,svname,scur,status']
    for (const [be, servers] of this.backends) {
      for (const [name, s] of servers) {
        state.push(`3 ${be} 1 ${name} ${s.address} 2 ${s.admin === 'maint' ? 1 : s.admin === 'drain' ? 8 : 0} ${s.port}`)
        stat.push(`${be},${name},${s.connections},${s.admin === 'ready' ? 'UP' : s.admin.toUpperCase()}`)
      }
    }

    return ['clusterctl-cmd show servers state', ...state, 'clusterctl-end', 'clusterctl-cmd show stat -1 4 -1', ...stat, 'clusterctl-end', ''].join('\n')
  }

  servers(be: string): Array<[string, string, number]> {
    return [...(this.backends.get(be) ?? new Map<string, FakeServer>())].map(([n, s]) => [n, s.admin, s.connections] as [string, string, number]).sort()
  }
}

describe('core/reconcile/edges (runPass with an edge node)', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store
  let clock: ManualClock
  let ctx: ServiceContext
  let nodes: Map<string, FakePodmanNode>
  let edge: FakeEdge

  beforeEach(() => {
    tmp = makeTempDir()
    clock = new ManualClock(T0)
    store = Store.open(path.join(tmp.dir, 'state.db'), clock)
    edge = new FakeEdge()
    nodes = new Map(['n1', 'lb'].map((name) => [name, new FakePodmanNode(`root@${name}:22`)]))
    const lb = nodes.get('lb')!
    const podman = lb.transport.exec.bind(lb.transport)
    lb.transport.exec = async (argv, options = {}) => {
      const answered = edge.answer(argv, options)
      return answered ? {stdout: '', stderr: '', code: 0, signal: null, ...answered} : podman(argv, options)
    }

    store.write(() => {
      insertNode(store, aNode('n1', {stateSince: T0, usage: null, inventoriedAt: T0, createdAt: T0, lastSeenAt: T0}))
      insertNode(store, aNode('lb', {stateSince: T0, usage: null, inventoriedAt: T0, createdAt: T0, lastSeenAt: T0, edge: true}))
    })
    let n = 0
    ctx = {store, clock, newId: () => `t${String(++n).padStart(4, '0')}-0000-4000-8000-000000000000`, connect: (spec) => nodes.get(spec.host)!.transport}
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  const addWeb = (instances: number, extra: Record<string, unknown> = {}): Job => {
    const spec: JobSpec = validateJobSpec({name: 'web', image: 'localhost/app:1', cpus: 0.5, mem: '256Mi', instances, ports: [8080], constraints: [['hostname', 'LIKE', 'n1']], ...extra}, 'test')
    const job: Job = {id: 'job-web', name: 'web', kind: spec.kind, spec, specHash: containerSpecHash(spec), instances, generation: 0, state: 'active', servicePort: 10_000, createdAt: clock.now(), updatedAt: clock.now()}
    store.write(() => insertJob(store, job))
    return job
  }

  const scaleWeb = (instances: number): void => {
    const job = store.read(() => listJobs(store)).find((j) => j.name === 'web')!
    store.write(() => updateJob(store, {...job, instances, spec: {...job.spec, instances}}, clock.now()))
  }

  const running = (): string[] => store.read(() => listTasks(store, {live: true})).filter((t) => t.state === 'running').map((t) => `${t.instance}:${t.desired}`).sort()

  it('a ready task is added to the edge; a scale down drains first and stops only once its connections end; the next pass deletes the server', async () => {
    addWeb(2)
    await runPass(ctx, {seed: 1, drainWait: false})
    const tasks = store.read(() => listTasks(store, {live: true})).sort((a, b) => a.instance - b.instance)
    expect(edge.servers('be_web')).to.deep.equal(tasks.map((t) => [t.id, 'ready', 0]).sort())

    // a client holds a connection to instance 1; scale to 1
    edge.backends.get('be_web')!.get(tasks[1]!.id)!.connections = 1
    scaleWeb(1)
    clock.advance(1000)
    const draining = await runPass(ctx, {seed: 1, drainWait: false})
    expect(draining.actions.map((a) => `${a.kind} ${a.instance}`)).to.deep.equal(['drain 1'])
    expect(running()).to.deep.equal(['0:run', '1:stop'])
    expect(edge.servers('be_web').find(([n]) => n === tasks[1]!.id)).to.deep.equal([tasks[1]!.id, 'drain', 1])
    expect(nodes.get('n1')!.containers.size).to.equal(2)

    // still attached a pass later: still waiting (level-triggered: the next pass judges again)
    clock.advance(1000)
    expect((await runPass(ctx, {seed: 1, drainWait: false})).actions.map((a) => a.kind)).to.deep.equal(['drain'])

    // the client leaves: the task stops; the pass after deletes its server
    edge.backends.get('be_web')!.get(tasks[1]!.id)!.connections = 0
    clock.advance(1000)
    const stopped = await runPass(ctx, {seed: 1, drainWait: false})
    expect(stopped.actions.map((a) => `${a.kind} ${a.instance}`)).to.deep.equal(['stop 1'])
    expect(running()).to.deep.equal(['0:run'])
    expect(nodes.get('n1')!.containers.size).to.equal(1)
    clock.advance(1000)
    await runPass(ctx, {seed: 1, drainWait: false})
    expect(edge.servers('be_web')).to.deep.equal([[tasks[0]!.id, 'ready', 0]])
  })

  it('a drain that outlasts its timeout (30 s) stops the task anyway', async () => {
    addWeb(2)
    await runPass(ctx, {seed: 1, drainWait: false})
    const held = store.read(() => listTasks(store, {live: true})).find((t) => t.instance === 1)!
    edge.backends.get('be_web')!.get(held.id)!.connections = 3
    scaleWeb(1)
    clock.advance(1000)
    expect((await runPass(ctx, {seed: 1, drainWait: false})).actions.map((a) => a.kind)).to.deep.equal(['drain'])
    clock.advance(30_000)
    const late = await runPass(ctx, {seed: 1, drainWait: false})
    expect(late.actions.map((a) => `${a.kind} ${a.instance}`)).to.deep.equal(['stop 1'])
    expect(late.actions[0]!.detail).to.match(/drain timed out after 30s/)
  })

  it('a job\'s own drainTimeout replaces the 30 s', async () => {
    addWeb(2, {drainTimeout: '5s'})
    await runPass(ctx, {seed: 1, drainWait: false})
    const held = store.read(() => listTasks(store, {live: true})).find((t) => t.instance === 1)!
    edge.backends.get('be_web')!.get(held.id)!.connections = 3
    scaleWeb(1)
    clock.advance(1000)
    const draining = await runPass(ctx, {seed: 1, drainWait: false})
    expect(draining.actions.map((a) => a.kind)).to.deep.equal(['drain'])
    expect(draining.actions[0]!.detail).to.match(/within 5s$/)
    clock.advance(5000)
    const late = await runPass(ctx, {seed: 1, drainWait: false})
    expect(late.actions.map((a) => `${a.kind} ${a.instance}`)).to.deep.equal(['stop 1'])
    expect(late.actions[0]!.detail).to.match(/drain timed out after 5s/)
  })

  it('a node declared down has its backends put in maintenance in the same pass', async () => {
    addWeb(2)
    await runPass(ctx, {seed: 1, drainWait: false})
    nodes.get('n1')!.down = true
    const n1 = store.read(() => findNode(store, 'n1'))!
    // already suspect once, silent long enough: this pass declares it down
    store.write(() => updateNodeHeartbeat(store, n1.id, {state: 'suspect', missedHeartbeats: 1, heartbeatError: 'timeout', lastSeenAt: clock.now(), stateSince: clock.now(), usage: null, heartbeatLatencies: []}))
    clock.advance(60_000)
    const pass = await runPass(ctx, {seed: 1, drainWait: false})
    expect(pass.nodes.map((n) => `${n.node} ${n.to}`)).to.include('n1 down')
    expect(edge.servers('be_web').map(([, state]) => state)).to.deep.equal(['maint', 'maint'])
  })

  it('without a running daemon a one-shot pass waits for its drains within itself', async () => {
    addWeb(2)
    await runPass(ctx, {seed: 1})
    const held = store.read(() => listTasks(store, {live: true})).find((t) => t.instance === 1)!
    edge.backends.get('be_web')!.get(held.id)!.connections = 1
    setTimeout(() => (edge.backends.get('be_web')!.get(held.id)!.connections = 0), 1500)
    scaleWeb(1)
    const pass = await runPass(ctx, {seed: 1})
    expect(pass.actions.map((a) => `${a.kind} ${a.instance}`)).to.deep.equal(['stop 1'])
    expect(edge.syncs).to.be.greaterThan(2)
  })
})
