/**
 * What runs of scheduled and dependent jobs happen this pass: a pure function of the
 * jobs, their cursors, their open runs (with their tasks' states), the parents'
 * success counters and `now`. The caller (reconcile/runs.ts) writes the plan in one
 * transaction, tasks before containers, so a crash never runs a firing twice.
 *
 * Order each pass: (1) open runs follow their tasks (running, succeeded, failed, retry
 * due, deadline); (2) schedules fire (catch-up policy for missed times, Rn counts);
 * (3) parents' successes fire children; (4) the waiting queue starts what the
 * concurrency policy allows (forbid: one at a time, one waiting; allow; replace).
 */
import type {JobSpec, RunPolicy} from '../model/job.js'
import {type Run, type RunCursor, runId, type RunTrigger} from '../model/run.js'
import type {TaskState} from '../model/task.js'
import {bindStart, next, parseSchedule, repeatCount, type Schedule} from './next.js'

export interface RunJob {
  id: string
  name: string
  state: 'active' | 'stopped'
  /** When the job (its spec) last changed: a new schedule counts from here. */
  updatedAt: number
  spec: Pick<JobSpec, 'runPolicy'>
}

export interface RunTask {
  state: TaskState
  desired: 'run' | 'stop'
  nodeName: string | null
  exitCode: number | null
  startedAt: number | null
  finishedAt: number | null
  reason: string | null
}

/** An open run (waiting, starting, running) or a failed one whose retry is pending, with its task. */
export interface OpenRun extends Run {
  task: RunTask | null
}

export interface RunSettings {
  /** The latest due time is on time if due less than this long ago; anything older was missed. */
  onTimeMs: number
  /** catchUp: all starts at most this many missed times (the newest); the rest are skipped. */
  catchUpAllLimit: number
  /** Retry back-off: base doubling per attempt, capped. */
  retryBaseMs: number
  retryMaxMs: number
  /** Due times examined per job and pass (an every-second schedule after a week down). */
  scanLimit: number
}

export const DEFAULT_RUN_SETTINGS: Readonly<RunSettings> = Object.freeze({onTimeMs: 15_000, catchUpAllLimit: 10, retryBaseMs: 10_000, retryMaxMs: 600_000, scanLimit: 1000})

export interface RunsInput {
  now: number
  jobs: readonly RunJob[]
  cursors: ReadonlyMap<string, RunCursor>
  open: readonly OpenRun[]
  /** Per child job id: successes of each parent (by name) since the child's last start. */
  successes: ReadonlyMap<string, ReadonlyMap<string, number>>
  settings?: Partial<RunSettings>
}

export interface RunEvent {
  type: string
  job: string
  run: string | null
  message: string
}

export interface RunsPlan {
  insert: Run[]
  update: Array<{id: string; patch: Partial<Run>}>
  /** Runs (inserted or updated) that need a task created now; the caller sets their taskId. */
  start: string[]
  /** Tasks to stop: a deadline passed, or a newer run replaces them. */
  kill: Array<{taskId: string; reason: string}>
  cursors: RunCursor[]
  /** Parent successes to count (per child), and children whose counters start again. */
  count: Array<{childId: string; parent: string}>
  reset: string[]
  events: RunEvent[]
}

/** Delay before attempt `attempt + 1` after attempt `attempt` failed: 10 s, 20 s, 40 s ... at most 10 min. */
export function retryDelay(attempt: number, settings: Pick<RunSettings, 'retryBaseMs' | 'retryMaxMs'> = DEFAULT_RUN_SETTINGS): number {
  return Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.min(attempt - 1, 30))
}

/** The schedule and zone a cursor was computed for. */
export function cursorKey(policy: RunPolicy): string {
  return `${policy.schedule ?? ''}|${policy.timezone}`
}

/** The bound schedule of a job (null: no schedule). */
export function scheduleOf(policy: RunPolicy, anchor: number): Schedule | null {
  return policy.schedule === null ? null : bindStart(parseSchedule(policy.schedule, policy.timezone), anchor)
}

export function planRuns(input: RunsInput): RunsPlan {
  const s = {...DEFAULT_RUN_SETTINGS, ...input.settings}
  const {now} = input
  const plan: RunsPlan = {insert: [], update: [], start: [], kill: [], cursors: [], count: [], reset: [], events: []}
  const jobsById = new Map(input.jobs.map((j) => [j.id, j]))
  const childrenByParent = new Map<string, RunJob[]>()
  for (const j of input.jobs) for (const p of j.spec.runPolicy?.after ?? []) childrenByParent.set(p, [...(childrenByParent.get(p) ?? []), j])
  const event = (type: string, job: string, run: string | null, message: string): void => {
    plan.events.push({type, job, run, message})
  }

  /** The job's runs after step 1: still going (starting, running), and waiting. */
  const live = new Map<string, OpenRun[]>()
  const waiting = new Map<string, Run[]>()
  const add = <R extends Run>(map: Map<string, R[]>, run: R): void => {
    map.set(run.jobId, [...(map.get(run.jobId) ?? []), run])
  }

  const counted = new Map<string, Map<string, number>>()
  for (const [child, m] of input.successes) counted.set(child, new Map(m))

  // 1. Open runs follow their tasks.
  for (const run of input.open) {
    const job = jobsById.get(run.jobId)
    const policy = job?.spec.runPolicy
    if (run.state === 'waiting') {
      add(waiting, run)
      continue
    }

    if (run.state === 'failed') {
      // A retry is due.
      if (run.retryAt !== null && run.retryAt <= now && job && policy && job.state === 'active') {
        const attempt = run.attempt + 1
        const retry: Run = {...blank(job, 'retry', run.scheduledAt, now), id: runId(job.name, run.scheduledAt, attempt), attempt, state: 'waiting'}
        plan.update.push({id: run.id, patch: {retryAt: null}})
        plan.insert.push(retry)
        add(waiting, retry)
        event('run.retry', job.name, retry.id, `attempt ${attempt} of ${policy.retries + 1} after ${run.reason ?? 'a failure'}`)
      } else if (run.retryAt !== null && (!job || job.state !== 'active')) plan.update.push({id: run.id, patch: {retryAt: null}})
      continue
    }

    const task = run.task
    const ended = task === null || task.state === 'finished' || task.state === 'failed' || task.state === 'killed' || task.state === 'lost'
    if (!ended) {
      if (task.state === 'running' && run.state !== 'running') {
        plan.update.push({id: run.id, patch: {state: 'running', startedAt: task.startedAt ?? now, node: task.nodeName}})
        event('run.running', run.jobName, run.id, `running on ${task.nodeName ?? '?'}`)
      }

      const since = task.startedAt ?? run.createdAt
      if (policy?.deadlineMs && now - since > policy.deadlineMs && task.desired !== 'stop') {
        plan.kill.push({taskId: run.taskId!, reason: `run ${run.id} passed its deadline of ${policy.deadlineMs / 1000}s`})
        plan.update.push({id: run.id, patch: {reason: 'deadline'}})
        event('run.deadline', run.jobName, run.id, `killed: it ran longer than its deadline (${policy.deadlineMs / 1000}s); no retry`)
      }

      add(live, run)
      continue
    }

    const succeeded = task?.state === 'finished'
    const base: Partial<Run> = {endedAt: task?.finishedAt ?? now, exitCode: task?.exitCode ?? null, node: task?.nodeName ?? run.node, startedAt: run.startedAt ?? task?.startedAt ?? null}
    if (succeeded) {
      plan.update.push({id: run.id, patch: {...base, state: 'succeeded', reason: null}})
      event('run.succeeded', run.jobName, run.id, `succeeded${run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}`)
      for (const child of childrenByParent.get(run.jobName) ?? []) {
        plan.count.push({childId: child.id, parent: run.jobName})
        const m = counted.get(child.id) ?? new Map<string, number>()
        m.set(run.jobName, (m.get(run.jobName) ?? 0) + 1)
        counted.set(child.id, m)
      }

      continue
    }

    const byDeadline = run.reason === 'deadline' || run.reason === 'replaced'
    const why = run.reason === 'deadline' ? 'killed at its deadline' : run.reason === 'replaced' ? 'replaced by a newer run' : task === null ? 'its task is gone' : (task.reason ?? `task ${task.state}`)
    const attemptsLeft = policy && job?.state === 'active' && !byDeadline && run.attempt <= policy.retries
    const retryAt = attemptsLeft ? base.endedAt! + retryDelay(run.attempt, s) : null
    plan.update.push({id: run.id, patch: {...base, state: 'failed', reason: why, retryAt}})
    event('run.failed', run.jobName, run.id, `failed: ${why}${retryAt !== null ? `; attempt ${run.attempt + 1} in ${Math.round((retryAt - now) / 1000)}s` : run.attempt > 1 ? ` (attempt ${run.attempt}, no attempts left)` : ''}`)
  }

  // 2. Schedules fire.
  for (const job of input.jobs) {
    const policy = job.spec.runPolicy
    if (!policy || policy.schedule === null) continue
    const key = cursorKey(policy)
    let cursor = input.cursors.get(job.id)
    if (!cursor || cursor.key !== key) {
      const schedule = scheduleOf(policy, job.updatedAt)!
      // A cron time at the submit instant is not due; an ISO START at it (an empty START) is.
      const from = schedule.kind === 'iso' ? job.updatedAt - 1 : job.updatedAt
      cursor = {jobId: job.id, key, anchor: job.updatedAt, evaluatedTo: from, nextAt: next(schedule, from), remaining: repeatCount(schedule)}
      plan.cursors.push(cursor)
    }

    if (job.state !== 'active' || policy.suspend || cursor.nextAt === null || cursor.nextAt > now) continue
    const schedule = scheduleOf(policy, cursor.anchor)!
    const due: number[] = []
    let t: number | null = cursor.nextAt
    let scanned = 0
    while (t !== null && t <= now && scanned < s.scanLimit) {
      due.push(t)
      scanned++
      t = next(schedule, t)
    }

    let beyond = 0
    if (t !== null && t <= now) {
      // More due times than we look at: count none of them individually, jump to now.
      beyond = 1
      t = next(schedule, now)
    }

    // Only the latest due time can be on time: earlier ones in the same pass were missed
    // (no controller ran, or the schedule is faster than the passes).
    const latest = due.at(-1)
    const onTime = latest !== undefined && now - latest < s.onTimeMs ? [latest] : []
    const missed = due.slice(0, due.length - onTime.length)
    let fire: number[]
    if (policy.catchUp === 'all') fire = [...missed.slice(-s.catchUpAllLimit), ...onTime]
    else if (policy.catchUp === 'last') fire = latest === undefined ? [] : [latest]
    else fire = onTime
    let remaining = cursor.remaining
    if (remaining !== null) {
      fire = fire.slice(0, remaining) // the count drops per launch, not per skipped period
      remaining -= fire.length
    }

    const skipped = due.length - fire.length
    if (skipped > 0 || beyond > 0) {
      event('run.skipped', job.name, null, `skipped ${skipped}${beyond ? '+' : ''} missed time${skipped === 1 && !beyond ? '' : 's'} (${due.length ? `${new Date(due[0]!).toISOString()} .. ${new Date(due.at(-1)!).toISOString()}` : 'many'}; catchUp: ${policy.catchUp}${cursor.remaining !== null && remaining === 0 ? `, ${cursor.remaining} launches left` : ''})`)
    }

    for (const at of fire) {
      const run: Run = {...blank(job, 'schedule', at, now), state: 'waiting'}
      plan.insert.push(run)
      add(waiting, run)
    }

    plan.cursors.push({...cursor, evaluatedTo: now, nextAt: remaining === 0 ? null : t, remaining})
  }

  // 3. Parents' successes fire children.
  for (const job of input.jobs) {
    const after = job.spec.runPolicy?.after ?? []
    if (after.length === 0 || job.state !== 'active' || job.spec.runPolicy!.suspend) continue
    const m = counted.get(job.id)
    if (!after.every((p) => (m?.get(p) ?? 0) >= 1)) continue
    const run: Run = {...blank(job, 'parent', now, now), state: 'waiting'}
    if (plan.insert.some((r) => r.id === run.id)) continue
    plan.insert.push(run)
    add(waiting, run)
    plan.reset.push(job.id)
    event('run.triggered', job.name, run.id, `its parents ${after.join(', ')} have each succeeded since its last start`)
  }

  // 4. The waiting queue, oldest first, by each job's concurrency policy.
  const inserted = new Set(plan.insert.map((r) => r.id))
  const patchOf = (run: Run, patch: Partial<Run>): void => {
    if (inserted.has(run.id)) Object.assign(plan.insert.find((r) => r.id === run.id)!, patch)
    else plan.update.push({id: run.id, patch})
  }

  for (const [jobId, queue] of waiting) {
    const job = jobsById.get(jobId)
    const policy = job?.spec.runPolicy
    queue.sort((a, b) => a.scheduledAt - b.scheduledAt || a.createdAt - b.createdAt)
    let going: Run[] = (live.get(jobId) ?? []).filter((r) => r.task?.desired !== 'stop')
    const stillWaiting: Run[] = []
    for (const run of queue) {
      if (!job || !policy || job.state !== 'active') {
        patchOf(run, {state: 'skipped', reason: job ? 'the job is stopped' : 'the job is gone', endedAt: now})
        continue
      }

      if (policy.startingDeadlineMs !== null && now - run.scheduledAt > policy.startingDeadlineMs) {
        patchOf(run, {state: 'skipped', reason: `could not start within its starting deadline (${policy.startingDeadlineMs / 1000}s)`, endedAt: now})
        event('run.skipped', job.name, run.id, `skipped: could not start within ${policy.startingDeadlineMs / 1000}s of its time`)
        continue
      }

      if (going.length > 0 && policy.concurrency === 'forbid') {
        stillWaiting.push(run)
        continue
      }

      if (going.length > 0 && policy.concurrency === 'replace') {
        for (const old of going) {
          if (old.taskId) plan.kill.push({taskId: old.taskId, reason: `replaced by run ${run.id}`})
          patchOf(old, {reason: 'replaced'})
        }

        event('run.replaced', job.name, run.id, `replaces ${going.map((r) => r.id).join(', ')}`)
        going = []
      }

      patchOf(run, {state: 'starting'})
      plan.start.push(run.id)
      event('run.starting', job.name, run.id, `${run.trigger} run${run.attempt > 1 ? ` (attempt ${run.attempt})` : ''} starting`)
      going.push(run)
    }

    // Forbid: at most one scheduled run waits; a newer firing is skipped while one does.
    let waitingSchedule = 0
    for (const run of stillWaiting) {
      if (run.trigger === 'schedule' && waitingSchedule++ > 0 && inserted.has(run.id) && policy?.catchUp !== 'all') {
        patchOf(run, {state: 'skipped', reason: 'the previous run is still going and one run already waits', endedAt: now})
        event('run.skipped', job!.name, run.id, 'skipped: the previous run is still going and one run already waits (concurrency: forbid)')
      } else if (inserted.has(run.id)) event('run.waiting', job!.name, run.id, `waits for ${going.map((r) => r.id).join(', ')} (concurrency: forbid)`)
    }
  }

  return plan
}

function blank(job: RunJob, trigger: RunTrigger, scheduledAt: number, now: number): Run {
  return {id: runId(job.name, scheduledAt), jobId: job.id, jobName: job.name, trigger, scheduledAt, attempt: 1, state: 'waiting', taskId: null, node: null, exitCode: null, reason: null, createdAt: now, startedAt: null, endedAt: null, retryAt: null}
}
