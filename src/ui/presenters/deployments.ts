/** Deployments for people (lines, a table) and for scripts (JSON without the full spec). */
import type {Deployment} from '../../core/model/deployment.js'
import type {RolloutStep} from '../../core/reconcile/rollout.js'
import type {RolloutStatus} from '../../core/services/deployments.js'
import {renderTable} from '../table.js'

export interface DeploymentJson {
  version: number
  cause: string
  state: string
  reason: string | null
  rolledBackTo: number | null
  image: string
  specHash: string
  createdAt: string
  endedAt: string | null
}

export function deploymentToJson(d: Deployment): DeploymentJson {
  return {version: d.version, cause: d.cause, state: d.state, reason: d.reason, rolledBackTo: d.rolledBackTo, image: d.spec.image, specHash: d.specHash, createdAt: new Date(d.createdAt).toISOString(), endedAt: d.endedAt === null ? null : new Date(d.endedAt).toISOString()}
}

/** One line: `web v2 (apply) running: 2 of 4 updated, 2 old; at most 1 unavailable, 0 extra`. */
export function statusLine(s: RolloutStatus): string {
  const d = s.deployment
  if (!d) return `${s.job}: no deployment recorded (the job predates deployments); ${s.updated} of ${s.desired} instances available`
  return `${s.job} v${d.version} (${d.cause}) ${d.state}: ${s.updated} of ${s.desired} updated, ${s.old} old; at most ${s.bounds.maxUnavailable} unavailable, ${s.bounds.maxSurge} extra${d.reason ? ` (${d.reason})` : ''}`
}

export function renderHistory(list: readonly Deployment[]): string {
  if (list.length === 0) return 'No deployment recorded.'
  return renderTable(
    ['VERSION', 'CAUSE', 'STATE', 'IMAGE', 'CREATED', 'REASON'],
    list.map((d) => [String(d.version), d.cause, d.state, d.spec.image, new Date(d.createdAt).toISOString(), `${d.reason ?? ''}${d.rolledBackTo === null ? '' : ` (rolled back to v${d.rolledBackTo})`}`]),
  )
}

/** `apply --dry-run`'s rollout plan: one line per step. */
export function renderRolloutPlan(steps: readonly RolloutStep[]): string {
  return ['  rollout plan:', ...steps.map((s, i) => `    step ${i + 1}: start ${s.start}, stop ${s.stop}, at least ${s.lowestAvailable} available`)].join('\n')
}
