/** Scheduled and dependent jobs: what trigger, runs, jobs graph, suspend and resume do, and the schedule view of jobs/inspect. */
import {FailedError, UserError} from '../errors.js'
import type {ServiceContext} from '../context.js'
import {isRunDriven} from '../model/job.js'
import {type Run, runId, type ScheduleView} from '../model/run.js'
import type {Job} from '../model/task.js'
import type {PassOptions} from '../reconcile/pass.js'
import type {PassReport} from '../reconcile/report.js'
import {converge} from '../reconcile/controller.js'
import {graphOf, type JobGraph} from '../schedule/graph.js'
import {upcoming} from '../schedule/next.js'
import {cursorKey, scheduleOf} from '../schedule/runs.js'
import {formatInZone} from '../schedule/zone.js'
import {appendEvent} from '../state/events.js'
import {listJobs, setJobSpec} from '../state/jobs.js'
import {insertRun, lastRuns, listCursors, listRuns} from '../state/runs.js'
import {getJob, graphJobOf} from './jobs.js'

export type {ScheduleView} from '../model/run.js'

function runDriven(job: Job): NonNullable<Job['spec']['runPolicy']> {
  if (!job.spec.runPolicy) throw new UserError(`Job ${job.name} has no schedule and no parents: it is not a scheduled job.`, {hint: `Give it a schedule with \`clusterctl apply -f FILE\` (schedule: "..."), or run it with \`clusterctl scale ${job.name} 1\`.`})
  return job.spec.runPolicy
}

/** The schedule view of every run-driven job (by job id), for listings; `only`: of these job ids alone. */
export function scheduleViews(ctx: Pick<ServiceContext, 'store' | 'clock'>, count = 3, only?: ReadonlySet<string>): Map<string, ScheduleView> {
  const {store} = ctx
  const now = ctx.clock.now()
  return store.read(() => {
    const jobs = listJobs(store)
    const cursors = listCursors(store)
    const last = lastRuns(store)
    const out = new Map<string, ScheduleView>()
    for (const job of jobs) {
      const policy = job.spec.runPolicy
      if (!policy || (only && !only.has(job.id))) continue
      const cursor = cursors.get(job.id)
      const anchor = cursor && cursor.key === cursorKey(policy) ? cursor.anchor : job.updatedAt
      const schedule = scheduleOf(policy, anchor)
      let times: number[] = []
      if (schedule && !policy.suspend && job.state === 'active' && cursor?.nextAt !== null) {
        const remaining = cursor?.remaining ?? null
        const from = cursor && cursor.key === cursorKey(policy) && cursor.nextAt !== null ? cursor.nextAt - 1 : Math.max(now, anchor - 1)
        times = upcoming(schedule, from, remaining === null ? count : Math.min(count, remaining))
      }

      out.set(job.id, {
        schedule: policy.schedule,
        timezone: policy.timezone,
        next: times.map((t) => formatInZone(t, policy.timezone)),
        parents: policy.after,
        children: jobs.filter((j) => j.spec.runPolicy?.after.includes(job.name)).map((j) => j.name),
        suspended: policy.suspend,
        lastRun: last.get(job.id) ?? null,
      })
    }

    return out
  })
}

/** Starts a run now (trigger manual). It does not use up a count of an Rn schedule; the concurrency policy applies. */
export async function triggerJob(ctx: ServiceContext, name: string, options: PassOptions = {}): Promise<{run: Run; pass: PassReport}> {
  const {store} = ctx
  const run = store.write(() => {
    const job = getJob(ctx, name)
    runDriven(job)
    if (job.state !== 'active') throw new FailedError(`Job ${name} is stopped: a triggered run would not start.`, {hint: `Run \`clusterctl apply -f FILE\` to start it again.`})
    const now = ctx.clock.now()
    const r: Run = {id: runId(job.name, now), jobId: job.id, jobName: job.name, trigger: 'manual', scheduledAt: now, attempt: 1, state: 'waiting', taskId: null, node: null, exitCode: null, reason: null, createdAt: now, startedAt: null, endedAt: null, retryAt: null}
    insertRun(store, r)
    appendEvent(store, {type: 'run.triggered', subjectKind: 'job', subject: job.name, message: `${r.id}: triggered by hand`, data: {run: r.id}})
    return r
  })
  const pass = await converge(ctx, options)
  return {run: listRuns(store, {jobId: run.jobId}).find((r) => r.id === run.id) ?? run, pass}
}

export function listJobRuns(ctx: Pick<ServiceContext, 'store'>, options: {job?: string; limit?: number} = {}): Run[] {
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) throw new UserError(`--limit must be a whole number >= 1, got ${options.limit}.`)
  const {store} = ctx
  return store.read(() => listRuns(store, {...(options.job ? {jobId: getJob(ctx, options.job).id} : {}), limit: options.limit ?? 50}))
}

/** The dependency graph: every job, or the jobs connected to one. */
export function jobGraph(ctx: Pick<ServiceContext, 'store'>, root?: string): JobGraph {
  const {store} = ctx
  return store.read(() => {
    if (root !== undefined) getJob(ctx, root)
    const jobs = listJobs(store)
    const parents = new Set(jobs.flatMap((j) => j.spec.runPolicy?.after ?? []))
    return graphOf(jobs.filter((j) => isRunDriven(j.spec) || parents.has(j.name) || root === j.name).map(graphJobOf), root)
  })
}

/** suspend / resume: no firing while suspended; resume applies the job's catch-up policy to the times missed (no flood). */
export async function setSuspended(ctx: ServiceContext, name: string, suspend: boolean, options: PassOptions = {}): Promise<{job: Job; changed: boolean; pass: PassReport | null}> {
  const {store} = ctx
  const result = store.write(() => {
    const job = getJob(ctx, name)
    const policy = runDriven(job)
    if (policy.suspend === suspend) return {job, changed: false}
    const spec = {...job.spec, runPolicy: {...policy, suspend}}
    const next = {...job, spec}
    // updatedAt is left alone: it anchors the schedule's cursor and an empty ISO START.
    setJobSpec(store, job.id, spec)
    appendEvent(store, {type: suspend ? 'job.suspended' : 'job.resumed', subjectKind: 'job', subject: name, message: suspend ? 'suspended: no run fires until resume' : `resumed (catchUp: ${policy.catchUp} for the times missed)`, data: {}})
    return {job: next, changed: true}
  })
  return {...result, pass: result.changed && !suspend ? await converge(ctx, options) : null}
}
