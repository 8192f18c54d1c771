import {expect} from 'chai'

import {RUN_DEFAULTS, type RunPolicy} from '../../../../src/core/model/job.js'
import type {Run, RunCursor} from '../../../../src/core/model/run.js'
import {type OpenRun, planRuns, retryDelay, type RunJob, type RunsPlan, type RunTask} from '../../../../src/core/schedule/runs.js'

const T0 = Date.parse('2026-12-02T17:00:00Z')
const S = 1000

function policy(p: Partial<RunPolicy>): RunPolicy {
  return {schedule: null, timezone: 'UTC', after: [], retries: RUN_DEFAULTS.retries, deadlineMs: null, concurrency: 'forbid', catchUp: 'last', startingDeadlineMs: null, suspend: false, ...p}
}

/** An in-memory store for plans: runs, cursors, counters, and the tasks the test drives. */
class World {
  now = T0
  jobs: RunJob[] = []
  runs = new Map<string, Run>()
  cursors = new Map<string, RunCursor>()
  successes = new Map<string, Map<string, number>>()
  tasks = new Map<string, RunTask>()
  killed: string[] = []
  events: string[] = []
  private ids = 0

  job(name: string, p: Partial<RunPolicy>): RunJob {
    const job: RunJob = {id: `id-${name}`, name, state: 'active', updatedAt: this.now, spec: {runPolicy: policy(p)}}
    this.jobs.push(job)
    return job
  }

  pass(): RunsPlan {
    const open: OpenRun[] = [...this.runs.values()].filter((r) => ['waiting', 'starting', 'running'].includes(r.state) || r.retryAt !== null).map((r) => ({...r, task: r.taskId ? this.tasks.get(r.taskId) ?? null : null}))
    const plan = planRuns({now: this.now, jobs: this.jobs, cursors: this.cursors, open, successes: this.successes})
    for (const r of plan.insert) this.runs.set(r.id, {...r})
    for (const {id, patch} of plan.update) Object.assign(this.runs.get(id)!, patch)
    for (const id of plan.start) {
      const taskId = `t${++this.ids}`
      this.runs.get(id)!.taskId = taskId
      this.tasks.set(taskId, {state: 'pending', desired: 'run', nodeName: null, exitCode: null, startedAt: null, finishedAt: null, reason: null})
    }

    for (const k of plan.kill) {
      this.killed.push(k.taskId)
      this.tasks.get(k.taskId)!.desired = 'stop'
    }

    for (const c of plan.cursors) this.cursors.set(c.jobId, c)
    for (const c of plan.count) {
      const m = this.successes.get(c.childId) ?? new Map<string, number>()
      m.set(c.parent, (m.get(c.parent) ?? 0) + 1)
      this.successes.set(c.childId, m)
    }

    for (const child of plan.reset) this.successes.delete(child)
    this.events.push(...plan.events.map((e) => `${e.type} ${e.message}`))
    return plan
  }

  at(ms: number): this {
    this.now = T0 + ms
    return this
  }

  /** The task of a run moves on. */
  task(runId: string, state: RunTask['state'], exitCode: number | null = null): void {
    const t = this.tasks.get(this.runs.get(runId)!.taskId!)!
    Object.assign(t, {state, nodeName: 'h1', ...(state === 'running' ? {startedAt: this.now} : {finishedAt: this.now, exitCode})})
  }

  list(job?: string): string[] {
    return [...this.runs.values()].filter((r) => !job || r.jobName === job).sort((a, b) => a.scheduledAt - b.scheduledAt || a.attempt - b.attempt).map((r) => `${r.id} ${r.trigger} ${r.state}`)
  }
}

describe('core/schedule planRuns: the run policies', () => {
  it('fires once per time on schedule; the run id is the job and the scheduled time', () => {
    const w = new World()
    w.job('tick', {schedule: '*/10 * * * * *'})
    w.pass()
    expect(w.list()).to.deep.equal([])
    w.at(11 * S).pass()
    expect(w.list()).to.deep.equal(['tick@20261202T170010Z schedule starting'])
    w.at(12 * S).pass()
    expect(w.list()).to.have.length(1)
    w.task('tick@20261202T170010Z', 'running')
    w.at(13 * S).pass()
    w.task('tick@20261202T170010Z', 'finished', 0)
    w.at(15 * S).pass()
    w.at(21 * S).pass()
    expect(w.list()).to.deep.equal(['tick@20261202T170010Z schedule succeeded', 'tick@20261202T170020Z schedule starting'])
  })

  for (const [catchUp, want] of [
    ['last', ['job@20261202T170500Z schedule starting']],
    ['none', []],
    ['all', ['job@20261202T170100Z schedule starting', 'job@20261202T170200Z schedule waiting', 'job@20261202T170300Z schedule waiting', 'job@20261202T170400Z schedule waiting', 'job@20261202T170500Z schedule waiting']],
  ] as const) {
    it(`catchUp ${catchUp}: times missed while no controller ran`, () => {
      const w = new World()
      w.job('job', {schedule: '* * * * *', catchUp})
      w.pass()
      w.at(330 * S).pass() // 17:05:30: 17:01 .. 17:05 were missed
      expect(w.list()).to.deep.equal(want)
      if (catchUp !== 'all') expect(w.events.filter((e) => e.startsWith('run.skipped'))).to.have.length(1)
    })
  }

  it('after a restart, the on-time firing is the one catch-up run (last), and no flood', () => {
    const w = new World()
    w.job('tick', {schedule: '*/10 * * * * *'})
    w.pass()
    w.at(5 * S).pass()
    w.at(42 * S).pass() // down from :05 to :42 -> 10, 20, 30 missed; 40 on time
    expect(w.list()).to.deep.equal(['tick@20261202T170040Z schedule starting'])
    expect(w.events.filter((e) => e.startsWith('run.skipped'))).to.deep.equal(['run.skipped skipped 3 missed times (2026-12-02T17:00:10.000Z .. 2026-12-02T17:00:40.000Z; catchUp: last)'])
  })

  it('forbid: a firing while a run goes waits for it, a further one is skipped, and the waiting one starts when it ends', () => {
    const w = new World()
    w.job('slow', {schedule: '*/10 * * * * *'})
    w.pass()
    w.at(10 * S).pass()
    w.task('slow@20261202T170010Z', 'running')
    w.at(20 * S).pass()
    w.at(30 * S).pass()
    expect(w.list()).to.deep.equal(['slow@20261202T170010Z schedule running', 'slow@20261202T170020Z schedule waiting', 'slow@20261202T170030Z schedule skipped'])
    w.task('slow@20261202T170010Z', 'finished', 0)
    w.at(31 * S).pass()
    expect(w.list()).to.deep.equal(['slow@20261202T170010Z schedule succeeded', 'slow@20261202T170020Z schedule starting', 'slow@20261202T170030Z schedule skipped'])
  })

  it('forbid with startingDeadline: a run that could not start in time is recorded skipped', () => {
    const w = new World()
    w.job('slow', {schedule: '*/10 * * * * *', startingDeadlineMs: 5 * S})
    w.pass()
    w.at(10 * S).pass()
    w.task('slow@20261202T170010Z', 'running')
    w.at(20 * S).pass()
    w.task('slow@20261202T170010Z', 'finished', 0)
    w.at(27 * S).pass()
    expect(w.list()).to.deep.equal(['slow@20261202T170010Z schedule succeeded', 'slow@20261202T170020Z schedule skipped'])
  })

  it('allow starts alongside; replace kills the running one', () => {
    for (const concurrency of ['allow', 'replace'] as const) {
      const w = new World()
      w.job('j', {schedule: '*/10 * * * * *', concurrency})
      w.pass()
      w.at(10 * S).pass()
      w.task('j@20261202T170010Z', 'running')
      w.at(20 * S).pass()
      expect(w.list()).to.deep.equal(['j@20261202T170010Z schedule running', 'j@20261202T170020Z schedule starting'])
      expect(w.killed).to.have.length(concurrency === 'replace' ? 1 : 0)
    }
  })

  it('retries with back-off 10 s, 20 s ... then records it failed; the attempt is in the id', () => {
    expect([1, 2, 3, 7, 8, 20].map((a) => retryDelay(a) / S)).to.deep.equal([10, 20, 40, 600, 600, 600])
    const w = new World()
    w.job('flaky', {schedule: '@hourly', retries: 2})
    w.pass()
    w.at(3600 * S).pass()
    const first = 'flaky@20261202T180000Z'
    w.task(first, 'failed', 1)
    w.at(3601 * S).pass()
    expect(w.runs.get(first)).to.include({state: 'failed', retryAt: T0 + 3610 * S})
    w.at(3605 * S).pass()
    expect(w.list()).to.have.length(1)
    w.at(3611 * S).pass()
    w.task(`${first}#2`, 'failed', 1)
    w.at(3612 * S).pass()
    expect(w.runs.get(`${first}#2`)!.retryAt).to.equal(T0 + 3631 * S)
    w.at(3632 * S).pass()
    w.task(`${first}#3`, 'failed', 1)
    w.at(3633 * S).pass()
    expect(w.list()).to.deep.equal([`${first} schedule failed`, `${first}#2 retry failed`, `${first}#3 retry failed`])
    expect(w.runs.get(`${first}#3`)!.retryAt).to.equal(null)
  })

  it('a deadline kills the run and wins over retries', () => {
    const w = new World()
    w.job('long', {schedule: '@hourly', deadlineMs: 60 * S, retries: 5})
    w.pass()
    w.at(3600 * S).pass()
    w.task('long@20261202T180000Z', 'running')
    w.at(3661 * S).pass()
    expect(w.killed).to.have.length(1)
    w.task('long@20261202T180000Z', 'killed')
    w.at(3662 * S).pass()
    w.at(4000 * S).pass()
    expect(w.list()).to.deep.equal(['long@20261202T180000Z schedule failed'])
    expect(w.runs.get('long@20261202T180000Z')).to.include({reason: 'killed at its deadline', retryAt: null})
  })

  it('a child runs once both parents succeeded since its last start, not after one', () => {
    const w = new World()
    w.job('a', {schedule: '@hourly'})
    w.job('b', {schedule: '30 * * * *'})
    w.job('c', {after: ['a', 'b']})
    w.pass()
    w.at(1800 * S).pass()
    w.task('b@20261202T173000Z', 'finished', 0)
    w.at(1801 * S).pass()
    w.at(1900 * S).pass()
    expect(w.list('c')).to.deep.equal([])
    w.at(3600 * S).pass()
    w.task('a@20261202T180000Z', 'finished', 0)
    w.at(3601 * S).pass()
    expect(w.list('c')).to.deep.equal(['c@20261202T180001Z parent starting'])
    // The counters start again: one more success of a alone does not fire c.
    w.at(7200 * S).pass()
    w.task('a@20261202T190000Z', 'finished', 0)
    w.at(7201 * S).pass()
    expect(w.list('c')).to.have.length(1)
  })

  it('Rn counts launches, not skipped periods; R0 never fires', () => {
    const w = new World()
    w.job('twice', {schedule: 'R2//PT10S', concurrency: 'allow'})
    w.job('never', {schedule: 'R0//PT10S'})
    w.pass() // an empty START is the submit time: the first launch is now
    w.at(45 * S).pass() // 10, 20, 30 missed, 40 on time: one launch, the last
    w.at(50 * S).pass()
    w.at(60 * S).pass()
    expect(w.list('twice')).to.deep.equal(['twice@20261202T170000Z schedule starting', 'twice@20261202T170040Z schedule starting'])
    expect(w.cursors.get('id-twice')).to.include({remaining: 0, nextAt: null})
    expect(w.list('never')).to.deep.equal([])
  })

  it('suspend fires nothing; resume applies the catch-up policy (one run, no flood)', () => {
    const w = new World()
    const job = w.job('sus', {schedule: '* * * * *', suspend: true})
    w.pass()
    w.at(600 * S).pass()
    expect(w.list()).to.deep.equal([])
    job.spec = {runPolicy: policy({schedule: '* * * * *'})}
    w.at(601 * S).pass()
    expect(w.list()).to.deep.equal(['sus@20261202T171000Z schedule starting'])
  })
})
