import {expect} from 'chai'

import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import {diff, type NodeObservation} from '../../../../src/core/reconcile/diff.js'
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
    id, jobId: job.id, jobName: job.name, instance: 0, nodeId: 'n1', nodeName: 'h1', state: 'running', desired: 'run', health: 'unknown',
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

  it('records an exited service container as failed and places a replacement that counts the restart', () => {
    const job = aJob({instances: 1})
    const t = aTask(job, {restarts: 2})
    const b = diff({jobs: [job], tasks: [t], observed: observed({n1: [container(t, {state: 'exited', exitCode: 137})]}), now: NOW})
    expect(summary(b)).to.deep.include({ended: [`${t.id}:failed`], place: ['0:3']})
    expect(b.ended[0]!.reason).to.equal('container exited with code 137')
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
    expect(summary(diff({jobs: [job], tasks: [bad], observed: observed({n1: [container(bad, {state: 'exited', exitCode: 1})]}), now: NOW})).place).to.deep.equal(['0:1'])
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

  it('a new spec: the new task is placed while the old keeps running; the old stops once the new runs (make-before-break)', () => {
    const job = aJob({instances: 1})
    const old = aTask(job, {specHash: 'old-hash'})
    const first = diff({jobs: [job], tasks: [old], observed: observed({n1: [container(old)]}), now: NOW})
    expect(summary(first)).to.deep.include({place: ['0:0'], stop: []})
    const fresh = aTask(job, {nodeId: 'n2'})
    const second = diff({jobs: [job], tasks: [old, fresh], observed: observed({n1: [container(old)], n2: [container(fresh)]}), now: NOW})
    expect(summary(second)).to.deep.include({place: [], stop: [`${old.id}:replaced by the new spec`]})
  })

  it('stops duplicates of an instance, keeping the running one', () => {
    const job = aJob({instances: 1})
    const running = aTask(job)
    const dup = aTask(job, {state: 'pending', nodeId: null, containerName: null})
    expect(summary(diff({jobs: [job], tasks: [running, dup], observed: observed({n1: [container(running)]}), now: NOW})).stop).to.deep.equal([`${dup.id}:duplicate of instance 0`])
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
})
