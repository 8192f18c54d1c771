import {expect} from 'chai'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import {NotFoundError, UserError} from '../../../../src/core/errors.js'
import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import {inspect, listJobTasks, selectJobs, summarizeJobs} from '../../../../src/core/services/jobs.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {insertJob, insertTask} from '../../../../src/core/state/jobs.js'
import {Store} from '../../../../src/core/state/store.js'
import {shortReason} from '../../../../src/ui/presenters/jobs.js'
import {makeTempDir} from '../../../helpers/tmp.js'

describe('core/services/jobs (listings and status)', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store
  let clock: ManualClock
  let ctx: {store: Store; clock: ManualClock}
  let n = 0

  beforeEach(() => {
    tmp = makeTempDir()
    clock = new ManualClock()
    store = Store.open(path.join(tmp.dir, 'state.db'), clock)
    ctx = {store, clock}
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  function job(name: string, raw: Record<string, unknown> = {}): Job {
    const spec = validateJobSpec({name, image: 'localhost/app:1', ...raw}, 'test')
    const j: Job = {id: `job-${name}`, name, kind: spec.kind, spec, specHash: containerSpecHash(spec), instances: spec.instances, generation: 0, state: 'active', createdAt: clock.now(), updatedAt: clock.now()}
    store.write(() => insertJob(store, j))
    return j
  }

  function task(j: Job, instance: number, patch: Partial<Task> = {}): Task {
    const t: Task = {
      id: `task-${String(++n).padStart(4, '0')}-${j.name}`, jobId: j.id, jobName: j.name, instance, nodeId: null, nodeName: null, state: 'running', desired: 'run', health: 'unknown', healthFailures: 0, healthCheckedAt: null, healthMessage: null,
      replaces: null, containerName: `c-${n}`, hostPorts: [], specHash: j.specHash, reason: null, reasonData: null, restarts: 0, exitCode: null, createdAt: clock.now() + n, updatedAt: clock.now(), startedAt: clock.now(), finishedAt: null, ...patch,
    }
    store.write(() => insertTask(store, t))
    return t
  }

  it('instances recorded but not yet placed (--no-start, before any pass) count as pending', () => {
    job('web', {instances: 3})
    const half = job('half', {instances: 2})
    task(half, 0)
    const stopped = job('off', {instances: 2})
    store.write(() => store.db.prepare(`UPDATE jobs SET state = 'stopped' WHERE id = ?`).run(stopped.id))
    const counts = Object.fromEntries(summarizeJobs(ctx).map((j) => [j.job.name, [j.counts.running, j.counts.pending]]))
    expect(counts).to.deep.equal({web: [0, 3], half: [1, 1], off: [0, 0]})
  })

  it('inspect TASK counts its job over all its tasks (4/4 running, not 1/4)', () => {
    const web = job('web', {instances: 4})
    const tasks = [0, 1, 2, 3].map((i) => task(web, i))
    const r = inspect(ctx, tasks[2]!.id.slice(0, 12))
    expect(r.task?.id).to.equal(tasks[2]!.id)
    expect(r.job?.counts).to.include({running: 4, pending: 0})
  })

  it('a finished batch job is completed, one out of retries failed, a running one active', () => {
    const done = job('report', {kind: 'batch', restart: 'on-failure'})
    task(done, 0, {state: 'failed', restarts: 0, finishedAt: clock.now()})
    task(done, 0, {state: 'finished', restarts: 1, exitCode: 0, finishedAt: clock.now()})
    const broken = job('broken', {kind: 'batch', restart: 'never'})
    task(broken, 0, {state: 'failed', exitCode: 1, finishedAt: clock.now()})
    const busy = job('busy', {kind: 'batch'})
    task(busy, 0)
    const svc = job('svc')
    const status = new Map(summarizeJobs(ctx).map((s) => [s.job.name, s]))
    expect(status.get('report')).to.deep.include({status: 'completed'})
    expect(status.get('report')!.counts.finished).to.equal(1)
    expect(status.get('broken')!.status).to.equal('failed')
    expect(status.get('busy')!.status).to.equal('active')
    // Its one instance has no task yet: pending until a pass places it.
    expect(status.get('svc')).to.deep.include({status: 'active', counts: {running: 0, pending: 1, live: 0, finished: 0, failedRestarts: null}})
    expect(svc.name).to.equal('svc')
  })

  it('a job in restart back-off lists its failed task with when it restarts and why', () => {
    const crash = job('crash')
    task(crash, 0, {state: 'failed', exitCode: 3, restarts: 2, startedAt: clock.now() - 100, finishedAt: clock.now(), reason: 'container exited with code 3'})
    const listed = listJobTasks(ctx, {job: 'crash'})
    expect(listed).to.have.length(1)
    expect(listed[0]!.waiting).to.deep.equal({until: clock.now() + 4000, why: 'restart back-off after container exited with code 3'})
    expect(shortReason(listed[0]!, clock.now())).to.equal('restarts in 4s: restart back-off after container exited with code 3')
    expect(inspect(ctx, 'crash').tasks).to.have.length(1)
    // A live replacement: only it is listed.
    task(crash, 0, {state: 'pending', restarts: 3})
    expect(listJobTasks(ctx, {job: 'crash'}).map((t) => t.state)).to.deep.equal(['pending'])
  })

  it('ps REASON is one line; inspect keeps the whole text', () => {
    const web = job('web')
    const stderr = 'Error: initializing source docker://localhost/nope:1\n  pinging container registry localhost: connection refused\n  more detail'
    const t = task(web, 0, {state: 'pending', reason: stderr})
    expect(shortReason(t, clock.now())).to.equal('Error: initializing source docker://localhost/nope:1 …')
    expect(shortReason({...t, reason: 'x'.repeat(300)}, clock.now())).to.have.length(100)
    expect(inspect(ctx, t.id.slice(0, 12)).task!.reason).to.equal(stderr)
  })

  it('inspect of an unknown name says neither a job nor a task has it', () => {
    expect(() => inspect(ctx, 'nosuchjob')).to.throw(NotFoundError, 'No job named nosuchjob, and no task whose id starts with it or whose container has that name.')
    expect(() => inspect(ctx, 'ab')).to.throw(NotFoundError, 'No job named ab.')
  })

  it('selects several jobs by name and by label, each once; a missing name or an empty selector changes nothing', () => {
    job('web', {labels: {tier: 'front'}})
    job('api', {labels: {tier: 'front'}})
    job('db', {labels: {tier: 'back'}})
    expect(selectJobs(ctx, {names: ['db', 'web']}).map((j) => j.name)).to.deep.equal(['db', 'web'])
    expect(selectJobs(ctx, {names: ['web'], selector: 'tier=front'}).map((j) => j.name)).to.deep.equal(['web', 'api'])
    expect(() => selectJobs(ctx, {names: ['web', 'nope', 'gone']})).to.throw(NotFoundError, 'No job named nope, gone; nothing was changed.')
    expect(() => selectJobs(ctx, {names: [], selector: 'tier=none'})).to.throw(NotFoundError, 'No job has the label tier=none')
    expect(() => selectJobs(ctx, {names: [], selector: 'tier'})).to.throw(UserError, '--selector expects LABEL=VALUE')
    expect(() => selectJobs(ctx, {names: []})).to.throw(UserError, 'Name at least one job')
  })
})
