/**
 * The pass's first step for scheduled and dependent jobs: read runs, cursors and
 * parent counters, let the pure planRuns (core/schedule/runs.ts) decide, and record
 * it in ONE transaction: new runs with their pending tasks (so the rest of this pass
 * places and starts them, and a crash can never run a firing twice), run transitions
 * and their events, tasks to stop (deadline, replace), cursors and counters.
 */
import {isRunDriven, type JobSpec} from '../model/job.js'
import type {Run} from '../model/run.js'
import type {Job} from '../model/task.js'
import {planRuns, type RunEvent, type RunSettings} from '../schedule/runs.js'
import {appendEvent} from '../state/events.js'
import {insertTask, updateTask} from '../state/jobs.js'
import {countParentSuccess, insertRun, listCursors, listOpenRuns, listParentSuccesses, resetParentSuccesses, saveCursor, updateRun} from '../state/runs.js'
import type {Store} from '../state/store.js'
import {pendingTask} from './plan.js'

export interface FireRunsInput {
  store: Store
  jobs: readonly Job[]
  cluster: string
  now: number
  newId: () => string
  dryRun: boolean
  settings?: Partial<RunSettings>
}

/** Decides and records this pass's runs; returns what happened (events), for the report. */
export function fireRuns(input: FireRunsInput): RunEvent[] {
  const {store, now} = input
  const runJobs = input.jobs.filter((j) => isRunDriven(j.spec))
  if (runJobs.length === 0) return []
  const jobsByName = new Map(runJobs.map((j) => [j.name, j]))
  const read = () => ({open: listOpenRuns(store), cursors: listCursors(store), successes: listParentSuccesses(store)})
  const decide = () => {
    const {open, cursors, successes} = read()
    return planRuns({now, jobs: runJobs.map((j) => ({id: j.id, name: j.name, state: j.state, updatedAt: j.updatedAt, spec: j.spec as Pick<JobSpec, 'runPolicy'>})), cursors, open, successes, ...(input.settings ? {settings: input.settings} : {})})
  }

  if (input.dryRun) return store.read(decide).events
  return store.write(() => {
    const plan = decide()
    const inserted = new Map(plan.insert.map((r) => [r.id, r]))
    const taskFor = new Map<string, string>()
    for (const id of plan.start) {
      const job = jobsByName.get(id.slice(0, id.indexOf('@'))) // a run id is JOB@TIME[#N]
      if (!job) continue
      const task = pendingTask(job, 0, 0, null, {id: input.newId(), cluster: input.cluster, now})
      insertTask(store, task)
      taskFor.set(id, task.id)
      appendEvent(store, {type: 'task.pending', subjectKind: 'task', subject: task.id, message: `${job.name}.0: created (run ${id})`, data: {job: job.name, instance: 0, run: id}})
    }

    for (const run of plan.insert) insertRun(store, {...run, taskId: taskFor.get(run.id) ?? run.taskId} satisfies Run)
    for (const {id, patch} of plan.update) updateRun(store, id, taskFor.has(id) ? {...patch, taskId: taskFor.get(id)!} : patch)
    for (const id of plan.start) if (!inserted.has(id) && taskFor.has(id)) updateRun(store, id, {taskId: taskFor.get(id)!})
    for (const k of plan.kill) updateTask(store, k.taskId, {desired: 'stop', reason: k.reason}, now)
    for (const c of plan.cursors) saveCursor(store, c)
    for (const c of plan.count) countParentSuccess(store, c.childId, c.parent)
    for (const child of plan.reset) resetParentSuccesses(store, child)
    for (const e of plan.events) appendEvent(store, {type: e.type, subjectKind: 'job', subject: e.job, message: e.run ? `${e.run}: ${e.message}` : e.message, data: {run: e.run}})
    return plan.events
  })
}
