import {expect} from 'chai'
import fc from 'fast-check'

import {containerSpecHash, rolloutBounds} from '../../../../src/core/model/job.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import type {Buckets, NewTask} from '../../../../src/core/reconcile/diff.js'
import {applyReadinessResult, isAvailable, isReadinessDue} from '../../../../src/core/reconcile/health.js'
import {afterFailure, judgeDeployment, planRollout, rolloutSteps} from '../../../../src/core/reconcile/rollout.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'

const NOW = 1_750_000_000_000
let seq = 0

function aJob(instances: number, upgrade: Record<string, unknown> = {}, raw: Record<string, unknown> = {}): Job {
  const spec = validateJobSpec({name: 'web', image: 'img', instances, upgrade: {minHealthyTime: 0, ...upgrade}, ...raw}, 'test')
  return {id: 'job-web', name: 'web', kind: 'service', spec, specHash: containerSpecHash(spec), instances, generation: 0, state: 'active', createdAt: 0, updatedAt: 0}
}

function aTask(job: Job, instance: number, over: Partial<Task> = {}): Task {
  const id = `t${++seq}`
  return {
    id, jobId: job.id, jobName: job.name, instance, nodeId: `n${instance % 3}`, nodeName: null, state: 'running', desired: 'run', health: 'unknown', healthFailures: 0, healthCheckedAt: null, healthMessage: null, replaces: null,
    containerName: id, hostPorts: [], specHash: job.specHash, reason: null, reasonData: null, restarts: 0, exitCode: null, createdAt: NOW, updatedAt: NOW, startedAt: NOW - 60_000, finishedAt: null, ...over,
  }
}

const buckets = (over: Partial<Buckets>): Pick<Buckets, 'place' | 'roll' | 'stop' | 'ended' | 'unreachable' | 'backoff'> => ({place: [], roll: [], stop: [], ended: [], unreachable: [], backoff: [], ...over})
const roll = (t: Task): NewTask & {old: Task[]} => ({jobId: t.jobId, instance: t.instance, restarts: 0, why: 'rollout', old: [t]})

const bound = fc.oneof(fc.integer({min: 0, max: 4}), fc.integer({min: 0, max: 100}).map((p) => `${p}%`))

/**
 * Passes of a rollout from `tasks` to the spec of `jobAt(step)` (a newer spec may come at any
 * step): the diff's make-before-break as the pass applies it, the planner, starts before stops,
 * a task placed in one step running and available in the next. Asserts the bounds at every
 * step and that it ends with N tasks of the newest spec.
 */
function simulateRollout(jobAt: (step: number) => Job, start: Task[]): void {
  let tasks = start
  const {instances: n} = jobAt(0)
  for (let step = 0; step < 8 * n + 10; step++) {
    const job = jobAt(step)
    const {maxUnavailable: unav, maxSurge: surge} = rolloutBounds(job.spec.upgrade, n)
    const isNew = (t: Task): boolean => t.specHash === job.specHash
    const ready = (t: Task): boolean => t.state === 'running'
    // make-before-break (the diff): an old task whose instance has an available new one stops
    const superseded = tasks.filter((t) => !isNew(t) && tasks.some((f) => isNew(f) && ready(f) && f.instance === t.instance)).map((task) => ({task, reason: 'replaced'}))
    const instances = Array.from({length: n}, (_, i) => i)
    const rolls = instances.filter((i) => !tasks.some((t) => isNew(t) && t.instance === i) && tasks.some((t) => t.instance === i && !superseded.some((s) => s.task === t))).map((i) => ({jobId: job.id, instance: i, restarts: 0, why: 'rollout', old: tasks.filter((t) => t.instance === i)}))
    const missing: NewTask[] = instances.filter((i) => !tasks.some((t) => t.instance === i)).map((i) => ({jobId: job.id, instance: i, restarts: 0, why: 'missing'}))
    const plan = planRollout({job, tasks, buckets: buckets({place: missing, roll: rolls, stop: superseded}), now: NOW})
    const placed = [...missing, ...plan.place].map((p) => aTask(job, p.instance, {state: 'pending'}))
    // starts come before stops in a pass: the most tasks exist right then
    expect(tasks.length + placed.length, `step ${step}: tasks`).to.be.at.most(n + surge)
    const stopped = new Set([...superseded, ...plan.stop].map((s) => s.task.id))
    tasks = tasks.filter((t) => !stopped.has(t.id))
    expect(new Set(tasks.filter(ready).map((t) => t.instance)).size, `step ${step}: available`).to.be.at.least(n - unav)
    tasks = [...tasks.map((t) => ({...t, state: 'running' as const})), ...placed]
    if (tasks.length === n && tasks.every((t) => isNew(t) && ready(t)) && job === jobAt(step + 1)) return
  }

  const last = jobAt(8 * n + 10)
  expect.fail(`did not complete: ${tasks.map((t) => `${t.instance}:${t.specHash === last.specHash ? 'new' : t.specHash}:${t.state}`).join(' ')}`)
}

describe('core/reconcile/rollout', () => {
  it('maxSurge 1, maxUnavailable 0: one new task beside the old ones, nothing stopped early', () => {
    const job = aJob(4)
    const old = [0, 1, 2, 3].map((i) => aTask(job, i, {specHash: 'old'}))
    const plan = planRollout({job, tasks: old, buckets: buckets({roll: old.map(roll)}), now: NOW})
    expect(plan.place.map((p) => p.instance)).to.have.length(1)
    expect(plan.stop).to.deep.equal([])
    expect(plan.bounds).to.deep.include({desired: 4, maxSurge: 1, maxUnavailable: 0, existing: 4, available: 4})
  })

  it('maxSurge 0, maxUnavailable 1: stops one old task first (unavailable ones first, without using the budget), places nothing', () => {
    const job = aJob(4, {maxSurge: 0, maxUnavailable: 1})
    const old = [0, 1, 2, 3].map((i) => aTask(job, i, {specHash: 'old'}))
    const plan = planRollout({job, tasks: old, buckets: buckets({roll: old.map(roll)}), now: NOW})
    expect(plan.place).to.deep.equal([])
    expect(plan.stop).to.have.length(1)
    const sick = {...old[2]!, state: 'starting' as const}
    const tasks = [old[0]!, old[1]!, sick, old[3]!]
    const second = planRollout({job, tasks, buckets: buckets({roll: tasks.map(roll)}), now: NOW})
    // 3 of 4 available is the floor already: only the unavailable one stops
    expect(second.stop.map((s) => s.task.id)).to.deep.equal([sick.id])
  })

  it('an instance waiting out its restart back-off counts as existing: no surge starts meanwhile (it would be N + maxSurge + 1 when it comes back)', () => {
    // maxSurge 0, maxUnavailable 1: instance 3's new task failed and waits out its back-off; 0-2 still run the old spec
    const job = aJob(4, {maxSurge: 0, maxUnavailable: 1})
    const old = [0, 1, 2].map((i) => aTask(job, i, {specHash: 'old'}))
    const waiting = planRollout({job, tasks: old, buckets: buckets({roll: old.map(roll), backoff: [{jobId: job.id, instance: 3, until: NOW + 5_000, why: 'back-off'}]}), now: NOW})
    expect(waiting.place).to.deep.equal([])
    expect(waiting.bounds.existing).to.equal(4)
    // without the back-off it is simply missing: one may start
    const missing = planRollout({job, tasks: old, buckets: buckets({roll: old.map(roll)}), now: NOW})
    expect(missing.place).to.have.length(1)
  })

  it('an old task counts as available as soon as it is ready: minHealthyTime proves new tasks only (a restart right after a run stopped old ones early)', () => {
    const job = aJob(2, {minHealthyTime: '10s'})
    const young = [0, 1].map((i) => aTask(job, i, {specHash: 'old', startedAt: NOW - 1_000}))
    const plan = planRollout({job, tasks: young, buckets: buckets({roll: young.map(roll)}), now: NOW})
    expect(plan.stop).to.deep.equal([])
    expect(plan.place).to.have.length(1)
    expect(plan.bounds.available).to.equal(2)
  })

  it('a paused deployment holds every roll', () => {
    const job = aJob(2)
    const old = [0, 1].map((i) => aTask(job, i, {specHash: 'old'}))
    const plan = planRollout({job, tasks: old, buckets: buckets({roll: old.map(roll)}), deployment: {state: 'paused', cause: 'apply', promoted: false}, now: NOW})
    expect(plan.place).to.deep.equal([])
    expect(plan.waiting.map((w) => w.why)).to.deep.equal(['the deployment is paused', 'the deployment is paused'])
  })

  it('minHealthyTime: a new task counts as available only after it', () => {
    const job = aJob(2, {minHealthyTime: '10s', maxSurge: 0, maxUnavailable: 1})
    const fresh = aTask(job, 0, {startedAt: NOW - 5_000})
    const old = aTask(job, 1, {specHash: 'old'})
    expect(planRollout({job, tasks: [fresh, old], buckets: buckets({roll: [roll(old)]}), now: NOW}).stop).to.deep.equal([])
    expect(planRollout({job, tasks: [fresh, old], buckets: buckets({roll: [roll(old)]}), now: NOW + 5_000}).stop).to.have.length(1)
  })

  it('a readiness check gates availability (never health): not ready, or ready for less than minHealthyTime, is not available', () => {
    const job = aJob(1, {minHealthyTime: '2s'}, {ports: [8080], readinessCheck: {http: '8080/ready', interval: '1s'}})
    expect(job.spec.readinessCheck).to.deep.include({type: 'http', port: 8080, path: '/ready', intervalMs: 1000})
    const t = aTask(job, 0)
    expect(isAvailable(t, job.spec, NOW)).to.equal(false)
    const ready = {...t, ...applyReadinessResult(t, true, NOW)}
    expect(ready).to.deep.include({readiness: 'ready', readinessAt: NOW, readinessCheckedAt: NOW})
    expect(isAvailable(ready, job.spec, NOW + 1_000)).to.equal(false)
    expect(isAvailable(ready, job.spec, NOW + 2_000)).to.equal(true)
    const still = {...ready, ...applyReadinessResult(ready, true, NOW + 3_000)}
    expect(still.readinessAt).to.equal(NOW)
    const lost = {...still, ...applyReadinessResult(still, false, NOW + 4_000)}
    expect(lost).to.deep.include({readiness: 'not-ready', readinessAt: null, health: 'unknown', state: 'running'})
    expect(isAvailable(lost, job.spec, NOW + 4_000)).to.equal(false)
    expect(isReadinessDue(lost, job.spec.readinessCheck, NOW + 4_500)).to.equal(false)
    expect(isReadinessDue(lost, job.spec.readinessCheck, NOW + 5_000)).to.equal(true)
  })

  it('for random N and bounds, a simulated rollout never has fewer than N - maxUnavailable available nor more than N + maxSurge tasks, and completes (property)', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 12}), bound, bound, (n, maxUnavailable, maxSurge) => {
        fc.pre(maxUnavailable !== 0 || maxSurge !== 0) // refused by validation
        const job = aJob(n, {maxUnavailable, maxSurge})
        simulateRollout(() => job, Array.from({length: n}, (_, i) => aTask(job, i, {specHash: 'old'})))
      }),
      {numRuns: 300},
    )
  })

  it('a rollout superseded at any step by a newer spec converges to it from the mixed state, within the same bounds (property)', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 12}), bound, bound, fc.integer({min: 0, max: 12}), (n, maxUnavailable, maxSurge, at) => {
        fc.pre(maxUnavailable !== 0 || maxSurge !== 0)
        const two = aJob(n, {maxUnavailable, maxSurge}, {env: {V: '2'}})
        const three = aJob(n, {maxUnavailable, maxSurge}, {env: {V: '3'}})
        expect(two.specHash).to.not.equal(three.specHash)
        simulateRollout((step) => (step < at ? two : three), Array.from({length: n}, (_, i) => aTask(two, i, {specHash: 'one'})))
      }),
      {numRuns: 300},
    )
  })

  it('rolloutSteps (apply --dry-run): by the planner itself, N starts and N stops, never below N - maxUnavailable (property)', () => {
    expect(rolloutSteps(aJob(2, {maxUnavailable: 1, maxSurge: 0}))).to.deep.equal([
      {start: 0, stop: 1, lowestAvailable: 1},
      {start: 1, stop: 0, lowestAvailable: 1},
      {start: 0, stop: 1, lowestAvailable: 1},
      {start: 1, stop: 0, lowestAvailable: 1},
    ])
    const bound = fc.oneof(fc.integer({min: 0, max: 4}), fc.integer({min: 0, max: 100}).map((p) => `${p}%`))
    fc.assert(
      fc.property(fc.integer({min: 1, max: 12}), bound, bound, (n, maxUnavailable, maxSurge) => {
        fc.pre(maxUnavailable !== 0 || maxSurge !== 0)
        const job = aJob(n, {maxUnavailable, maxSurge})
        const steps = rolloutSteps(job)
        expect(steps.reduce((a, s) => a + s.start, 0)).to.equal(n)
        expect(steps.reduce((a, s) => a + s.stop, 0)).to.equal(n)
        expect(Math.min(...steps.map((s) => s.lowestAvailable))).to.be.at.least(n - rolloutBounds(job.spec.upgrade, n).maxUnavailable)
      }),
      {numRuns: 200},
    )
  })

  it('judges a deployment: success, failure budget, healthyDeadline, progressDeadline, progress resets the clock', () => {
    const job = aJob(2, {maxFailedInstances: 1, healthyDeadline: '60s', progressDeadline: '120s'})
    const dep = {state: 'running' as const, cause: 'apply' as const, promoted: false, specHash: job.specHash, available: 0, progressAt: NOW - 100_000}
    const done = [0, 1].map((i) => aTask(job, i))
    expect(judgeDeployment(dep, job, done, 0, NOW).outcome).to.deep.equal({state: 'succeeded', reason: '2 of 2 instances available'})
    const half = [aTask(job, 0), aTask(job, 1, {specHash: 'old'})]
    expect(judgeDeployment(dep, job, half, 1, NOW)).to.deep.equal({available: 1, progressAt: NOW, outcome: null})
    expect(judgeDeployment(dep, job, half, 2, NOW).outcome?.reason).to.equal('2 new instances failed (failure budget 1)')
    const stuck = [aTask(job, 0, {state: 'starting', createdAt: NOW - 61_000}), aTask(job, 1, {specHash: 'old'})]
    expect(judgeDeployment(dep, job, stuck, 0, NOW).outcome?.reason).to.equal('instance 0 was not healthy within 60s (healthyDeadline)')
    const slow = [aTask(job, 0, {state: 'pending', createdAt: NOW - 1000}), aTask(job, 1, {specHash: 'old'})]
    expect(judgeDeployment({...dep, progressAt: NOW - 121_000}, job, slow, 0, NOW).outcome?.reason).to.equal('no instance became available for 120s (progressDeadline)')
    expect(judgeDeployment({...dep, state: 'paused', progressAt: NOW - 121_000}, job, slow, 5, NOW).outcome).to.equal(null)
  })

  it('canaries: only K new instances start, nothing old stops; once all K are available the clock stops, and autoPromote promotes', () => {
    const job = aJob(4, {canary: 2, autoPromote: '30s'})
    const old = [0, 1, 2, 3].map((i) => aTask(job, i, {specHash: 'old'}))
    const dep = {state: 'running' as const, cause: 'apply' as const, promoted: false}
    const first = planRollout({job, tasks: old, buckets: buckets({roll: old.map(roll)}), deployment: dep, now: NOW})
    expect(first.place.map((p) => p.instance)).to.deep.equal([0, 1])
    expect(first.stop).to.deep.equal([])
    expect(first.waiting.map((w) => w.instance)).to.deep.equal([2, 3])
    expect(planRollout({job, tasks: old, buckets: buckets({roll: old.map(roll)}), deployment: {...dep, promoted: true}, now: NOW}).place).to.have.length(1)
    const canaries = [aTask(job, 0), aTask(job, 1)]
    const judged = {...dep, specHash: job.specHash, available: 2, progressAt: NOW - 31_000}
    expect(judgeDeployment(judged, job, [...old, ...canaries], 0, NOW)).to.deep.include({outcome: null, promote: true})
    expect(judgeDeployment({...judged, progressAt: NOW - 20 * 60_000}, aJob(4, {canary: 2}), [...old, ...canaries], 0, NOW)).to.deep.equal({available: 2, progressAt: NOW - 20 * 60_000, outcome: null})
  })

  it('a failure rolls back to the last stable version, or pauses', () => {
    expect(afterFailure({autoRollback: true}, 3)).to.deep.equal({action: 'rollback', to: 3})
    expect(afterFailure({autoRollback: true}, null)).to.deep.include({action: 'pause'})
    expect(afterFailure({autoRollback: false}, 3)).to.deep.equal({action: 'pause', why: 'autoRollback is off'})
  })
})
