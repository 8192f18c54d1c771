/**
 * Health checks, the pure half: which checks are due, and what a result does to a
 * task's health (Marathon's rules: failures inside the grace period after a start do
 * not count, successes do; `maxConsecutiveFailures` failures in a row make the task
 * unhealthy, and the reconcile pass replaces it).
 */
import type {HealthCheckSpec, JobSpec} from '../model/job.js'
import type {Task, TaskHealth} from '../model/task.js'

export interface HealthUpdate {
  health: TaskHealth
  healthFailures: number
  healthCheckedAt: number
  healthMessage: string
  /** Since when it has been healthy (null: not healthy). */
  readyAt: number | null
}

export function isCheckDue(task: Pick<Task, 'state' | 'healthCheckedAt'>, check: HealthCheckSpec | null, now: number): boolean {
  if (!check || task.state !== 'running') return false
  return task.healthCheckedAt === null || now - task.healthCheckedAt >= check.intervalMs
}

export function applyCheckResult(task: Pick<Task, 'health' | 'healthFailures' | 'startedAt' | 'readyAt'>, check: HealthCheckSpec, passed: boolean, message: string, now: number): HealthUpdate {
  const since = task.health === 'healthy' ? (task.readyAt ?? null) : null
  if (passed) return {health: 'healthy', healthFailures: 0, healthCheckedAt: now, healthMessage: message, readyAt: task.health === 'healthy' ? since ?? task.startedAt ?? now : now}
  const inGrace = task.startedAt !== null && now - task.startedAt < check.gracePeriodMs
  if (inGrace && task.health !== 'healthy') return {health: task.health, healthFailures: 0, healthCheckedAt: now, healthMessage: `${message} (in the ${check.gracePeriodMs / 1000}s grace period)`, readyAt: null}
  const failures = task.healthFailures + 1
  const health: TaskHealth = failures >= check.maxConsecutiveFailures ? 'unhealthy' : task.health
  return {health, healthFailures: failures, healthCheckedAt: now, healthMessage: `${message} (${failures}/${check.maxConsecutiveFailures} in a row)`, readyAt: health === 'healthy' ? since : null}
}

/** Whether a task serves: running, and healthy when its job has a health check. Moves and rollouts wait for this. */
export function isReady(task: Pick<Task, 'state' | 'health'>, check: HealthCheckSpec | null): boolean {
  return task.state === 'running' && (check === null || task.health === 'healthy')
}

/**
 * Whether a task counts as available in a rollout: ready, for `minHealthyTimeMs` (from
 * its first passing check, or its start without a check). A ready task whose readiness
 * time was never recorded (from before deployments) has been ready long enough.
 */
export function isAvailable(task: Pick<Task, 'state' | 'health' | 'startedAt' | 'readyAt' | 'readiness' | 'readinessAt'>, spec: Pick<JobSpec, 'healthCheck' | 'readinessCheck' | 'upgrade'>, now: number): boolean {
  const check = spec.healthCheck
  if (!isReady(task, check)) return false
  if (spec.readinessCheck && task.readiness !== 'ready') return false
  const healthySince = check === null ? task.startedAt : task.readyAt ?? null
  const since = spec.readinessCheck ? Math.max(healthySince ?? 0, task.readinessAt ?? now) : healthySince
  return since === null || now - since >= spec.upgrade.minHealthyTimeMs
}

/** Whether the job's readiness check is due for a task (running, its interval passed). */
export function isReadinessDue(task: Pick<Task, 'state' | 'readinessCheckedAt'>, check: HealthCheckSpec | undefined, now: number): boolean {
  if (!check || task.state !== 'running') return false
  return task.readinessCheckedAt === undefined || task.readinessCheckedAt === null || now - task.readinessCheckedAt >= check.intervalMs
}

/** A readiness result: ready (since when) or not; it never makes a task unhealthy. */
export function applyReadinessResult(task: Pick<Task, 'readiness' | 'readinessAt'>, passed: boolean, now: number): Pick<Task, 'readiness' | 'readinessAt' | 'readinessCheckedAt'> {
  if (!passed) return {readiness: 'not-ready', readinessAt: null, readinessCheckedAt: now}
  return {readiness: 'ready', readinessAt: task.readiness === 'ready' ? task.readinessAt ?? now : now, readinessCheckedAt: now}
}
