import type {JobKind, JobSpec} from './job.js'

export const TASK_STATES = ['pending', 'staging', 'starting', 'running', 'finished', 'failed', 'killed', 'lost', 'unreachable'] as const
export type TaskState = (typeof TASK_STATES)[number]

/** States of a task that still holds (or waits for) a place: it counts toward its job's instances. */
export const LIVE_TASK_STATES: readonly TaskState[] = ['pending', 'staging', 'starting', 'running', 'unreachable']
export const TERMINAL_TASK_STATES: readonly TaskState[] = ['finished', 'failed', 'killed', 'lost']

export function isLive(state: TaskState): boolean {
  return LIVE_TASK_STATES.includes(state)
}

export type TaskHealth = 'healthy' | 'unhealthy' | 'unknown'

export interface HostPortBinding {
  containerPort: number
  hostPort: number
  protocol: 'tcp' | 'udp'
}

export interface Task {
  id: string
  jobId: string
  jobName: string
  instance: number
  nodeId: string | null
  nodeName: string | null
  state: TaskState
  /** What the controller wants of it: keep it running, or stop it. */
  desired: 'run' | 'stop'
  health: TaskHealth
  /** Consecutive failed health checks, the time of the last check and what it said. */
  healthFailures: number
  healthCheckedAt: number | null
  healthMessage: string | null
  /**
   * Since when it has been ready (running and passing its health check): minHealthyTime
   * counts from here. Null: not ready; absent or null on a ready task recorded before
   * deployments: ready long enough.
   */
  readyAt?: number | null
  /** The job's readiness check (absent: not recorded): since when it passes, and when it last ran. */
  readiness?: 'ready' | 'not-ready' | 'unknown'
  readinessAt?: number | null
  readinessCheckedAt?: number | null
  /** The task this one replaces in a make-before-break move (better node, drain); it stops once this one runs (healthy). */
  replaces: string | null
  containerName: string | null
  hostPorts: HostPortBinding[]
  specHash: string
  /** Why it is pending, or its last failure, in words a human can act on. */
  reason: string | null
  reasonData: Record<string, unknown> | null
  restarts: number
  exitCode: number | null
  createdAt: number
  updatedAt: number
  startedAt: number | null
  finishedAt: number | null
}

export interface Job {
  id: string
  name: string
  kind: JobKind
  spec: JobSpec
  specHash: string
  /** Desired number of instances (the spec's, or what `scale` set). */
  instances: number
  /** Restart generation (`clusterctl restart` bumps it); part of specHash. */
  generation: number
  state: 'active' | 'stopped'
  /**
   * The service port it holds (core/edge/service-ports.ts): a service with a TCP port
   * has one for its whole life. Null or absent: none.
   */
  servicePort?: number | null
  createdAt: number
  updatedAt: number
}

/** A job's tasks counted for listings (tasks the controller wants running; `finished`: instances of a batch job done with the current spec). */
export interface JobCounts {
  running: number
  pending: number
  /** Live tasks (pending to running) the controller keeps. */
  live: number
  /** Instances with a finished task of the current spec (batch jobs). */
  finished: number
  /** The most restarts among failed tasks of the current spec, or null when none failed. */
  failedRestarts: number | null
}

export const NO_TASKS: JobCounts = {running: 0, pending: 0, live: 0, finished: 0, failedRestarts: null}

/**
 * What a listing says a job is: `stopped` (by the user), `completed` (a batch job whose
 * instances all finished), `failed` (a batch job that gave up: nothing live, not all
 * finished, out of retries), else `active`.
 */
export type JobStatus = 'active' | 'stopped' | 'completed' | 'failed'

export function jobStatus(job: Pick<Job, 'state' | 'kind' | 'instances' | 'spec'>, counts: JobCounts): JobStatus {
  if (job.state === 'stopped') return 'stopped'
  if (job.kind !== 'batch' || counts.live > 0) return 'active'
  if (counts.finished >= job.instances) return 'completed'
  const {policy, maxRetries} = job.spec.restart
  if (counts.failedRestarts !== null && (policy === 'never' || counts.failedRestarts >= maxRetries)) return 'failed'
  return 'active'
}
