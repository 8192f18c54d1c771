/** Runs of scheduled and dependent jobs: one firing (or one attempt of it) each. Plain data. */

export const RUN_STATES = ['waiting', 'starting', 'running', 'succeeded', 'failed', 'skipped'] as const
export type RunState = (typeof RUN_STATES)[number]
export const OPEN_RUN_STATES: readonly RunState[] = ['waiting', 'starting', 'running']

export type RunTrigger = 'schedule' | 'parent' | 'manual' | 'retry'

export interface Run {
  /** `JOB@SCHEDULED_TIME` (UTC, compact), `#N` for attempt N > 1: a firing can be recorded once only. */
  id: string
  jobId: string
  jobName: string
  trigger: RunTrigger
  scheduledAt: number
  attempt: number
  state: RunState
  /** The task that runs it (null while it waits, or once skipped). */
  taskId: string | null
  node: string | null
  exitCode: number | null
  reason: string | null
  createdAt: number
  startedAt: number | null
  endedAt: number | null
  /** A failed attempt with attempts left: when the next one is due (null once made, or none). */
  retryAt: number | null
}

/** Where a job's schedule stands: every time up to `evaluatedTo` was fired or skipped. */
export interface RunCursor {
  jobId: string
  /** The schedule and zone it was computed for: a change starts it afresh. */
  key: string
  /** The empty START of an ISO schedule (the submit time). */
  anchor: number
  evaluatedTo: number
  /** The next firing (null: none). */
  nextAt: number | null
  /** Launches left of an `Rn` schedule (null: unlimited). */
  remaining: number | null
}

/** `20261202T170000Z`, with milliseconds only when there are some. */
export function runStamp(ms: number): string {
  const iso = new Date(ms).toISOString().replace(/[-:]/g, '')
  return iso.endsWith('.000Z') ? iso.replace('.000Z', 'Z') : iso
}

export function runId(jobName: string, scheduledAt: number, attempt = 1): string {
  return `${jobName}@${runStamp(scheduledAt)}${attempt > 1 ? `#${attempt}` : ''}`
}

/** What jobs, inspect and the dashboard show of a scheduled or dependent job. */
export interface ScheduleView {
  schedule: string | null
  timezone: string
  /** The next firings, local time with its UTC offset (`2026-03-08T03:00:00-04:00`). */
  next: string[]
  parents: string[]
  children: string[]
  suspended: boolean
  lastRun: Run | null
}

/** A scheduled or dependent job's schedule view and its newest runs (the dashboard's job detail). */
export interface JobRuns {
  job: string
  schedule: ScheduleView
  /** Newest first. */
  runs: Run[]
}
