/**
 * Health checks, the pure half: which checks are due, and what a result does to a
 * task's health (Marathon's rules: failures inside the grace period after a start do
 * not count, successes do; `maxConsecutiveFailures` failures in a row make the task
 * unhealthy, and the reconcile pass replaces it).
 */
import type {HealthCheckSpec} from '../model/job.js'
import type {Task, TaskHealth} from '../model/task.js'

export interface HealthUpdate {
  health: TaskHealth
  healthFailures: number
  healthCheckedAt: number
  healthMessage: string
}

export function isCheckDue(task: Pick<Task, 'state' | 'healthCheckedAt'>, check: HealthCheckSpec | null, now: number): boolean {
  if (!check || task.state !== 'running') return false
  return task.healthCheckedAt === null || now - task.healthCheckedAt >= check.intervalMs
}

export function applyCheckResult(task: Pick<Task, 'health' | 'healthFailures' | 'startedAt'>, check: HealthCheckSpec, passed: boolean, message: string, now: number): HealthUpdate {
  if (passed) return {health: 'healthy', healthFailures: 0, healthCheckedAt: now, healthMessage: message}
  const inGrace = task.startedAt !== null && now - task.startedAt < check.gracePeriodMs
  if (inGrace && task.health !== 'healthy') return {health: task.health, healthFailures: 0, healthCheckedAt: now, healthMessage: `${message} (in the ${check.gracePeriodMs / 1000}s grace period)`}
  const failures = task.healthFailures + 1
  const health: TaskHealth = failures >= check.maxConsecutiveFailures ? 'unhealthy' : task.health
  return {health, healthFailures: failures, healthCheckedAt: now, healthMessage: `${message} (${failures}/${check.maxConsecutiveFailures} in a row)`}
}

/** Whether a task serves: running, and healthy when its job has a health check. Moves and rollouts wait for this. */
export function isReady(task: Pick<Task, 'state' | 'health'>, check: HealthCheckSpec | null): boolean {
  return task.state === 'running' && (check === null || task.health === 'healthy')
}
