import {expect} from 'chai'

import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {AdminState, NodeState} from '../../../../src/core/model/node.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import {backoffDelay, diff, type NodeObservation} from '../../../../src/core/reconcile/diff.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import type {ObservedContainer} from '../../../../src/runtime/types.js'

const NOW = 1_750_000_000_000

function aJob(over: Partial<Job> & {raw?: Record<string, unknown>} = {}): Job {
  const spec = validateJobSpec({name: over.name ?? 'web', image: 'img', instances: over.instances ?? 2, ...over.raw}, 'test')
  return {id: `job-${spec.name}`, name: spec.name, kind: spec.kind, spec, specHash: containerSpecHash(spec), instances: spec.instances, generation: 0, state: 'active', createdAt: 0, updatedAt: 0, ...over}
}

let seq = 0
function aTask(job: Job, over: Partial<Task> = {}): Task {
  const id = over.id ?? `task-${++seq}`
  return {
    id, jobId: job.id, jobName: job.name, instance: 0, nodeId: 'n1', nodeName: 'h1', state: 'running', desired: 'run', health: 'unknown', healthFailures: 0, healthCheckedAt: null, healthMessage: null, replaces: null,
    containerName: `cctl-${job.name}-${over.instance ?? 0}-${id}`, hostPorts: [], specHash: job.specHash, reason: null, reasonData: null,
    restarts: 0, exitCode: null, createdAt: seq, updatedAt: seq, startedAt: 1, finishedAt: null, ...over,
  }
}

function container(task: Task, over: Partial<ObservedContainer> = {}): ObservedContainer {
  return {name: task.containerName!, id: task.containerName!, state: 'running', exitCode: null, startedAt: 1, finishedAt: null, labels: {}, image: 'img', ...over}
}

function observed(entries: Record<string, ObservedContainer[]>, extra: Partial<NodeObservation> = {}): Map<string, NodeObservation> {
  return new Map(Object.entries(entries).map(([node, containers]) => [node, {ok: true, complete: true, containers, ...extra}]))
}

const nodeStates = (entries: Record<string, [NodeState, AdminState?]>) =>
  new Map(Object.entries(entries).map(([id, [state, admin]]) => [id, {name: id.replace('n', 'h'), state, adminState: admin ?? (state === 'cordoned' || state === 'draining' ? state : 'ready')}]))

const summary = (b: ReturnType<typeof diff>) => ({
  place: b.place.map((p) => `${p.instance}:${p.restarts}`),
  start: b.start.map((t) => t.id),
  adopt: b.adopt.map((a) => a.task.id),
  ended: b.ended.map((e) => `${e.task.id}:${e.state}`),
  stop: b.stop.map((s) => `${s.task.id}:${s.reason}`),
  orphans: b.orphans.map((o) => o.container.name),
  ignore: b.ignore.map((t) => t.id),
})

describe('core/reconcile/diff', () => {
  it('places every missing instance of a new job', () => {
    const job = aJob({instances: 3})
    expect(summary(diff({jobs: [job], tasks: [], observed: new Map(), now: NOW})).place).to.deep.equal(['0:0', '1:0', '2:0'])
  })

  it('changes nothing when every instance runs where it was placed', () => {
    const job = aJob()
    const t0 = aTask(job, {instance: 0})
    const t1 = aTask(job, {instance: 1, nodeId: 'n2'})
    const b = diff({jobs: [job], tasks: [t0, t1], observed: observed({n1: [container(t0)], n2: [container(t1)]}), now: NOW})
    expect(summary(b)).to.deep.equal({place: [], start: [], adopt: [], ended: [], stop: [], orphans: [], ignore: [t0.id, t1.id]})
  })

  it('adopts a staging task whose container runs (a controller died after starting it)', () => {
    const job = aJob({instances: 1})
    const t = aTask(job, {state: 'staging'})
    expect(summary(diff({jobs: [job], tasks: [t], observed: observed({n1: [container(t)]}), now: NOW})).adopt).to.deep.equal([t.id])
  })

  it('starts a staging task whose container never appeared (a controller died before starting it)', () => {
    const job = aJob({instances: 1})
    const t = aTask(job, {state: 'staging'})
    const b = diff({jobs: [job], tasks: [t], observed: observed({n1: []}), now: NOW})
    expect(summary(b)).to.deep.include({start: [t.id], place: []})
  })

  it('a stopped job keeps nothing: a container of it that exits is removed with the end (not left for the orphan grace)', () => {
    const active = aJob({instances: 1})
    const stopped = {...active, state: 'stopped' as const}
    for (const [job, removed] of [[active, undefined], [stopped, true]] as const) {
      const t = aTask(job, {startedAt: NOW - 1_000})
      const b = diff({jobs: [job], tasks: [t], observed: observed({n1: [container(t, {state: 'exited', exitCode: 0})]}), now: NOW})
      expect(b.ended.map((e) => e.stopContainer), job.state).to.deep.equal([removed])
    }
  })

  it('records an exited service container as failed; its replacement waits out an exponential back-off and counts the restart', () => {
    const job = aJob({instances: 1})
    const t = aTask(job, {restarts: 2, startedAt: NOW - 1_000})
    const b = diff({jobs: [job], tasks: [t], observed: observed({n1: [container(t, {state: 'exited', exitCode: 137})]}), now: NOW})
    expect(summary(b)).to.deep.include({ended: [`${t.id}:failed`], place: []})
    expect(b.backoff).to.deep.equal([{jobId: job.id, instance: 0, until: NOW + 4_000, why: 'restart back-off after container exited with code 137'}])
    expect(b.ended[0]!.reason).to.equal('container exited with code 137')
    const failed = {...t, state: 'failed' as const, startedAt: NOW - 1_000, finishedAt: NOW, reason: 'container exited with code 137'}
    expect(diff({jobs: [job], tasks: [failed], observed: observed({n1: []}), now: NOW + 3_999}).backoff[0]!.why).to.equal('restart back-off after container exited with code 137')
    expect(summary(diff({jobs: [job], tasks: [failed], observed: observed({n1: []}), now: NOW + 4_000})).place).to.deep.equal(['0:3'])
  })

  it('back-off doubles per restart up to its maximum, and starts over after a long run', () => {
    expect([0, 1, 2, 3, 6, 7, 30].map((restarts) => backoffDelay({restarts, startedAt: 0, finishedAt: 10}))).to.deep.equal([1_000, 2_000, 4_000, 8_000, 60_000, 60_000, 60_000])
    expect(backoffDelay({restarts: 9, startedAt: 0, finishedAt: 60_000})).to.equal(1_000)
  })

  it('avoids a node where the instance failed three times recently', () => {
    const job = aJob({instances: 1})
    const failed = aTask(job, {state: 'failed', startedAt: 0, finishedAt: 1, restarts: 3})
    const b = diff({jobs: [job], tasks: [failed], observed: observed({n1: []}), now: NOW, recentFailures: new Map([[`${job.id}/0`, new Map([['h1', 3], ['h2', 1]])]])})
    expect(b.place[0]).to.deep.include({restarts: 4, avoidNodes: ['h1']})
  })

  it('a vanished container on a fully observed node is lost and replaced; on an unobserved node nothing is concluded', () => {
    const job = aJob({instances: 1})
    const t = aTask(job)
    expect(summary(diff({jobs: [job], tasks: [t], observed: observed({n1: []}), now: NOW}))).to.deep.include({ended: [`${t.id}:lost`], place: ['0:1']})
    expect(summary(diff({jobs: [job], tasks: [t], observed: observed({n1: []}, {complete: false}), now: NOW}))).to.deep.include({ended: [], place: []})
    expect(summary(diff({jobs: [job], tasks: [t], observed: new Map([['n1', {ok: false, complete: false, containers: []}]]), now: NOW}))).to.deep.include({ended: [], place: [], ignore: [t.id]})
  })

  it('batch: a zero exit finishes the instance; failures retry until maxRetries', () => {
    const job = aJob({name: 'report', instances: 1, raw: {kind: 'batch', restart: {policy: 'on-failure', maxRetries: 1}}})
    const ok = aTask(job)
    expect(summary(diff({jobs: [job], tasks: [ok], observed: observed({n1: [container(ok, {state: 'exited', exitCode: 0})]}), now: NOW}))).to.deep.include({ended: [`${ok.id}:finished`], place: []})
    const finished = {...ok, state: 'finished' as const}
    expect(summary(diff({jobs: [job], tasks: [finished], observed: observed({n1: []}), now: NOW})).place).to.deep.equal([])

    const bad = aTask(job)
    expect(summary(diff({jobs: [job], tasks: [bad], observed: observed({n1: [container(bad, {state: 'exited', exitCode: 1})]}), now: NOW})).place).to.deep.equal([])
    expect(summary(diff({jobs: [job], tasks: [{...bad, state: 'failed', finishedAt: NOW}], observed: observed({n1: []}), now: NOW + 1_000})).place).to.deep.equal(['0:1'])
    const exhausted = aTask(job, {state: 'failed', restarts: 1})
    expect(summary(diff({jobs: [job], tasks: [exhausted], observed: observed({n1: []}), now: NOW})).place).to.deep.equal([])
  })

  it('scaling down stops the highest instances; a stopped job stops everything', () => {
    const job = aJob({instances: 1})
    const t0 = aTask(job, {instance: 0})
    const t1 = aTask(job, {instance: 1})
    const obs = observed({n1: [container(t0), container(t1)]})
    expect(summary(diff({jobs: [job], tasks: [t0, t1], observed: obs, now: NOW})).stop).to.deep.equal([`${t1.id}:scaled to 1`])
    expect(summary(diff({jobs: [{...job, state: 'stopped'}], tasks: [t0, t1], observed: obs, now: NOW})).stop).to.deep.equal([`${t0.id}:job web stopped`, `${t1.id}:job web stopped`])
  })

  it('a new spec: the instance rolls (the rollout planner paces it) while the old keeps running; the old stops once the new has been ready for minHealthyTime (make-before-break)', () => {
    const job = aJob({instances: 1})
    const old = aTask(job, {specHash: 'old-hash'})
    const first = diff({jobs: [job], tasks: [old], observed: observed({n1: [container(old)]}), now: NOW})
    expect(summary(first)).to.deep.include({place: [], stop: []})
    expect(first.roll.map((r) => [r.instance, r.old.map((t) => t.id)])).to.deep.equal([[0, [old.id]]])
    const fresh = aTask(job, {nodeId: 'n2', startedAt: NOW - 9_000})
    const young = diff({jobs: [job], tasks: [old, fresh], observed: observed({n1: [container(old)], n2: [container(fresh)]}), now: NOW})
    expect(summary(young)).to.deep.include({place: [], stop: []})
    const second = diff({jobs: [job], tasks: [old, fresh], observed: observed({n1: [container(old)], n2: [container(fresh)]}), now: NOW + 1_000})
    expect(summary(second)).to.deep.include({place: [], stop: [`${old.id}:replaced by the new spec`]})
    expect(second.roll).to.deep.equal([])
  })

  it('stops duplicates of an instance, keeping the running one', () => {
    const job = aJob({instances: 1})
    const running = aTask(job)
    const dup = aTask(job, {state: 'pending', nodeId: null, containerName: null})
    expect(summary(diff({jobs: [job], tasks: [running, dup], observed: observed({n1: [container(running)]}), now: NOW})).stop).to.deep.equal([`${dup.id}:duplicate of instance 0`])
  })

  it('nodes on one machine list the same containers: a sibling\'s container is no orphan, a container nobody owns still is', () => {
    const job = aJob({instances: 2})
    const a = aTask(job, {instance: 0, nodeId: 'n1'})
    const b = aTask(job, {instance: 1, nodeId: 'n2'})
    const stray = {...container(a), name: 'cctl-gone-0-deadbeef'}
    const listing = [container(a), container(b), stray]
    const nodes = new Map([
      ['n1', {name: 'lab-a', state: 'ready' as const, adminState: 'ready' as const, machine: '10.0.0.5:22'}],
      ['n2', {name: 'lab-b', state: 'ready' as const, adminState: 'ready' as const, machine: '10.0.0.5:22'}],
    ])
    const out = summary(diff({jobs: [job], tasks: [a, b], observed: observed({n1: listing, n2: listing}), nodes, now: NOW}))
    expect(out).to.deep.include({orphans: ['cctl-gone-0-deadbeef', 'cctl-gone-0-deadbeef'], stop: [], place: []})
    // without the machine, each node takes the other's container for an orphan (the bug)
    const apart = new Map([...nodes].map(([id, n]) => [id, {...n, machine: id}]))
    expect(summary(diff({jobs: [job], tasks: [a, b], observed: observed({n1: listing, n2: listing}), nodes: apart, now: NOW})).orphans).to.have.length(4)
  })

  it('finds containers of this cluster that no live task owns', () => {
    const job = aJob({instances: 1})
    const t = aTask(job)
    const stray = {...container(t), name: 'cctl-gone-0-deadbeef'}
    expect(summary(diff({jobs: [job], tasks: [t], observed: observed({n1: [container(t), stray]}), now: NOW})).orphans).to.deep.equal(['cctl-gone-0-deadbeef'])
  })

  it('stops tasks marked desired=stop even if their job still wants them (a stop that failed earlier)', () => {
    const job = aJob({instances: 1})
    const t = aTask(job, {desired: 'stop', reason: 'scaled to 0'})
    const b = diff({jobs: [job], tasks: [t], observed: observed({n1: [container(t)]}), now: NOW})
    expect(summary(b)).to.deep.include({stop: [`${t.id}:scaled to 0`], place: ['0:0'], orphans: []})
  })

  describe('failure watch', () => {
    it('a down node: its tasks become unreachable and each instance gets a replacement at once', () => {
      const job = aJob({instances: 2})
      const t0 = aTask(job, {instance: 0, nodeId: 'n1', restarts: 1})
      const t1 = aTask(job, {instance: 1, nodeId: 'n2'})
      const b = diff({jobs: [job], tasks: [t0, t1], observed: new Map([['n1', {ok: false, complete: false, containers: []}], ['n2', {ok: true, complete: true, containers: [container(t1)]}]]), nodes: nodeStates({n1: ['down'], n2: ['ready']}), now: NOW})
      expect(summary(b)).to.deep.include({place: ['0:2'], stop: [], ended: []})
      expect(b.unreachable.map((t) => t.id)).to.deep.equal([t0.id])
      expect(b.place[0]!.why).to.match(/its node h1 is down/)
    })

    it('a suspect node keeps its tasks: no replacement yet', () => {
      const job = aJob({instances: 1})
      const t = aTask(job)
      const b = diff({jobs: [job], tasks: [t], observed: new Map([['n1', {ok: false, complete: false, containers: []}]]), nodes: nodeStates({n1: ['suspect']}), now: NOW})
      expect(summary(b)).to.deep.include({place: [], stop: [], ignore: [t.id]})
      expect(b.unreachable).to.deep.equal([])
    })

    it('while the replacement runs, the unreachable task is marked to stop; when its node answers again it is the surplus stopped', () => {
      const job = aJob({instances: 1})
      const old = aTask(job, {state: 'unreachable', nodeId: 'n1'})
      const fresh = aTask(job, {nodeId: 'n2'})
      const down = diff({jobs: [job], tasks: [old, fresh], observed: new Map([['n1', {ok: false, complete: false, containers: []}], ['n2', {ok: true, complete: true, containers: [container(fresh)]}]]), nodes: nodeStates({n1: ['down'], n2: ['ready']}), now: NOW})
      expect(summary(down)).to.deep.include({place: [], stop: [`${old.id}:surplus: its instance was replaced while its node was unreachable`], ignore: [fresh.id]})
      const back = diff({jobs: [job], tasks: [old, fresh], observed: observed({n1: [container(old)], n2: [container(fresh)]}), nodes: nodeStates({n1: ['ready'], n2: ['ready']}), now: NOW})
      expect(summary(back)).to.deep.include({place: [], adopt: [], stop: [`${old.id}:surplus: its instance was replaced while its node was unreachable`], ignore: [fresh.id], orphans: []})
    })

    it('a task that comes back while its replacement is still only staging is kept; the replacement is the surplus', () => {
      const job = aJob({instances: 1})
      const old = aTask(job, {state: 'unreachable', nodeId: 'n1'})
      const fresh = aTask(job, {state: 'staging', nodeId: 'n2'})
      const b = diff({jobs: [job], tasks: [old, fresh], observed: observed({n1: [container(old)], n2: []}), nodes: nodeStates({n1: ['ready'], n2: ['ready']}), now: NOW})
      expect(summary(b)).to.deep.include({adopt: [old.id], stop: [`${fresh.id}:duplicate of instance 0`]})
    })

    it('a node that comes back without the container: the unreachable task is lost', () => {
      const job = aJob({instances: 1})
      const old = aTask(job, {state: 'unreachable', nodeId: 'n1'})
      const fresh = aTask(job, {nodeId: 'n2'})
      const b = diff({jobs: [job], tasks: [old, fresh], observed: observed({n1: [], n2: [container(fresh)]}), nodes: nodeStates({n1: ['ready'], n2: ['ready']}), now: NOW})
      expect(summary(b)).to.deep.include({ended: [`${old.id}:lost`], stop: [], place: []})
    })

    it('an unhealthy running task ends as failed, its container is stopped, and a replacement follows its back-off', () => {
      const job = aJob({instances: 1})
      const t = aTask(job, {health: 'unhealthy', healthMessage: 'failed (exit 1) (3/3 in a row)'})
      const b = diff({jobs: [job], tasks: [t], observed: observed({n1: [container(t)]}), now: NOW})
      expect(b.ended).to.have.length(1)
      expect(b.ended[0]).to.deep.include({state: 'failed', stopContainer: true, reason: 'unhealthy: failed (exit 1) (3/3 in a row)'})
      expect(b.backoff).to.have.length(1)
    })

    it('a draining node: each of its tasks gets a replacement that names it; the old one stops only once the new one is ready', () => {
      const job = aJob({instances: 1, raw: {healthCheck: {tcp: 80}, ports: [80]}})
      const old = aTask(job, {nodeId: 'n1'})
      const nodes = nodeStates({n1: ['draining'], n2: ['ready']})
      const first = diff({jobs: [job], tasks: [old], observed: observed({n1: [container(old)]}), nodes, now: NOW})
      expect(first.place).to.deep.equal([{jobId: job.id, instance: 0, restarts: 0, why: 'drain of h1', replaces: old.id}])
      const fresh = aTask(job, {nodeId: 'n2', nodeName: 'h2', replaces: old.id, health: 'unknown'})
      const waiting = diff({jobs: [job], tasks: [old, fresh], observed: observed({n1: [container(old)], n2: [container(fresh)]}), nodes, now: NOW})
      expect(summary(waiting)).to.deep.include({place: [], stop: []})
      const ready = diff({jobs: [job], tasks: [old, {...fresh, health: 'healthy'}], observed: observed({n1: [container(old)], n2: [container(fresh)]}), nodes, now: NOW})
      expect(summary(ready)).to.deep.include({place: [], stop: [`${old.id}:moved to h2`]})
    })

    it('a replacement still pending when its drain is given up (or a move that was not placed) is cancelled, never placed later', () => {
      const job = aJob({instances: 1})
      const old = aTask(job, {nodeId: 'n1'})
      const pending = aTask(job, {nodeId: null, nodeName: null, state: 'pending', replaces: old.id, containerName: null, reason: '0/2 nodes fit: 1 insufficient mem, 1 draining'})
      const draining = diff({jobs: [job], tasks: [old, pending], observed: observed({n1: [container(old)]}), nodes: nodeStates({n1: ['draining'], n2: ['ready']}), now: NOW})
      expect(summary(draining)).to.deep.include({place: [], stop: []})
      for (const n1 of [['ready'], ['cordoned']] as const) {
        const givenUp = diff({jobs: [job], tasks: [old, pending], observed: observed({n1: [container(old)]}), nodes: nodeStates({n1: [n1[0]], n2: ['ready']}), now: NOW})
        expect(summary(givenUp)).to.deep.include({place: [], stop: [`${pending.id}:not placed: the move off h1 is given up (that node is not draining)`], ignore: [old.id]})
      }
    })
  })
})
