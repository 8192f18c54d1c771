import path from 'node:path'

import {expect} from 'chai'

import {ManualClock} from '../../../../src/core/clock.js'
import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {Job, Task, TaskState} from '../../../../src/core/model/task.js'
import {runGc} from '../../../../src/core/services/history.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {appendEvent, listEvents} from '../../../../src/core/state/events.js'
import {collectGarbage, DEFAULT_RETENTION, readRetention} from '../../../../src/core/state/history.js'
import {insertJob, insertTask, listTasks, listTasksForReconcile} from '../../../../src/core/state/jobs.js'
import {Store} from '../../../../src/core/state/store.js'
import {makeTempDir} from '../../../helpers/tmp.js'

const T0 = 1_750_000_000_000
const HOUR = 3_600_000
const DAY = 24 * HOUR

describe('core/state/history (bounded history)', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store
  let clock: ManualClock
  let n = 0

  beforeEach(() => {
    tmp = makeTempDir()
    clock = new ManualClock(T0)
    store = Store.open(path.join(tmp.dir, 'state.db'), clock)
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  const job = (name: string, instances: number, state: Job['state'] = 'active'): Job => {
    const spec = validateJobSpec({name, image: 'localhost/app:1', instances}, 'test')
    const j: Job = {id: `job-${name}`, name, kind: spec.kind, spec, specHash: containerSpecHash(spec), instances, generation: 0, state, createdAt: T0, updatedAt: T0}
    store.write(() => insertJob(store, j))
    return j
  }

  const task = (j: Job, instance: number, state: TaskState, at: number): string => {
    const id = `t${String(++n).padStart(5, '0')}`
    const t: Omit<Task, 'jobName' | 'nodeName'> = {
      id, jobId: j.id, instance, nodeId: null, state, desired: 'run', health: 'unknown', healthFailures: 0, healthCheckedAt: null, healthMessage: null, replaces: null,
      containerName: `c-${id}`, hostPorts: [], specHash: j.specHash, reason: null, reasonData: null, restarts: 0, exitCode: null,
      createdAt: at, updatedAt: at, startedAt: at, finishedAt: state === 'running' || state === 'pending' ? null : at,
    }
    store.write(() => insertTask(store, t))
    return id
  }

  it('the reconcile read: live tasks and the latest ended task of each desired instance of an active job, whatever the history behind it', () => {
    const web = job('web', 2)
    const old = job('old', 1, 'stopped')
    for (let i = 0; i < 5; i++) task(web, 0, 'failed', T0 - (10 - i) * HOUR)
    const latest0 = task(web, 0, 'lost', T0 - HOUR)
    const live0 = task(web, 0, 'running', T0)
    const latest1 = task(web, 1, 'finished', T0 - 2 * HOUR)
    task(web, 1, 'killed', T0 - HOUR) // killed tasks never count as an instance's end
    task(web, 5, 'failed', T0 - HOUR) // above the instance count
    task(old, 0, 'failed', T0 - HOUR) // a stopped job's history
    // Instance 0 runs a task of the current spec: its history is not read.
    expect(listTasksForReconcile(store).map((t) => t.id).sort()).to.deep.equal([live0, latest1].sort())
    store.db.prepare(`UPDATE tasks SET spec_hash = 'old' WHERE id = ?`).run(live0)
    expect(listTasksForReconcile(store).map((t) => t.id).sort()).to.deep.equal([latest0, live0, latest1].sort())
  })

  it('deletes ended tasks by age and count, never live ones nor the latest end of an instance', () => {
    const web = job('web', 2)
    const old = Array.from({length: 4}, (_, i) => task(web, 0, 'failed', T0 - (30 - i) * HOUR))
    const latest0 = task(web, 0, 'failed', T0 - 25 * HOUR)
    const killed = task(web, 1, 'killed', T0 - 26 * HOUR)
    const live = task(web, 1, 'running', T0 - 40 * HOUR)
    const recent = task(web, 1, 'failed', T0 - HOUR)
    const gone = collectGarbage(store, T0, DEFAULT_RETENTION)
    expect(gone.tasks).to.equal(old.length + 1)
    expect(listTasks(store).map((t) => t.id).sort()).to.deep.equal([latest0, live, recent].sort())
    expect(listTasks(store).map((t) => t.id)).to.not.include(killed)
    // By count: keep the newest 1 ended task (the latest of each instance stays regardless).
    task(web, 1, 'killed', T0 - 2 * HOUR)
    task(web, 1, 'killed', T0 - 3 * HOUR)
    const byCount = collectGarbage(store, T0, {...DEFAULT_RETENTION, tasks: {maxAgeMs: DAY, maxCount: 1}})
    expect(byCount.tasks).to.equal(2)
    expect(listTasks(store).map((t) => t.id).sort()).to.deep.equal([latest0, live, recent].sort())
  })

  it('deletes events by age and by count, oldest first', () => {
    clock.advance(-10 * DAY)
    for (let i = 0; i < 10; i++) {
      store.write(() => appendEvent(store, {type: 'x', subjectKind: 'cluster', subject: 'c', message: `e${i}`, data: {}}))
      clock.advance(DAY)
    }

    expect(collectGarbage(store, T0, DEFAULT_RETENTION).events).to.equal(3) // 10, 9 and 8 days old
    expect(collectGarbage(store, T0, {...DEFAULT_RETENTION, events: {maxAgeMs: 7 * DAY, maxCount: 2}}).events).to.equal(5)
    expect(listEvents(store).map((e) => e.message)).to.deep.equal(['e8', 'e9'])
  })

  it('deletes ended runs by age, keeping open ones, retries and each job\'s latest', () => {
    const etl = job('etl', 1)
    const insert = store.db.prepare(`INSERT INTO runs (id, job_id, job_name, trigger, scheduled_at, attempt, state, created_at, retry_at) VALUES (?, ?, 'etl', 'schedule', ?, 1, ?, ?, ?)`)
    const at = (d: number) => T0 - d * DAY
    insert.run('a', etl.id, at(40), 'succeeded', at(40), null)
    insert.run('b', etl.id, at(39), 'failed', at(39), at(0))
    insert.run('c', etl.id, at(38), 'running', at(38), null)
    insert.run('d', etl.id, at(35), 'skipped', at(35), null)
    expect(collectGarbage(store, T0, DEFAULT_RETENTION).runs).to.equal(1)
    expect((store.db.prepare(`SELECT id FROM runs ORDER BY id`).all() as Array<{id: string}>).map((r) => r.id)).to.deep.equal(['b', 'c', 'd'])
  })

  it('clusterctl gc: saved settings apply later; an age under 1 h is refused', () => {
    const report = runGc({store, clock}, {events: {maxAgeMs: 3 * DAY}}, {save: true})
    expect(report.settings.events.maxAgeMs).to.equal(3 * DAY)
    expect(readRetention(store).events).to.deep.equal({maxAgeMs: 3 * DAY, maxCount: DEFAULT_RETENTION.events.maxCount})
    expect(() => runGc({store, clock}, {tasks: {maxAgeMs: 60_000}})).to.throw(/at least 1h/)
  })
})
