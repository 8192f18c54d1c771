/** Deployments for people (lines, a table) and for scripts (JSON without the full spec). */
import {type Deployment, type DeploymentState, inCanaryPhase, isOpen, type RolloutStatus, waitsForPromote} from '../../core/model/deployment.js'
import type {UpgradePolicy} from '../../core/model/job.js'
import type {RolloutStep} from '../../core/reconcile/rollout.js'
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

/** One line: `web v2 (apply) running: 2 of 4 updated, 2 old; at most 1 unavailable, 0 extra` (a rollback: `web v5 (rollback to v3) running: ...`). */
export function statusLine(s: RolloutStatus): string {
  const d = s.deployment
  if (!d) return `${s.job}: no deployment recorded (the job predates deployments); ${s.updated} of ${s.desired} instances available`
  return `${s.job} v${d.version} (${d.cause}${s.backTo === null ? '' : ` to v${s.backTo}`}) ${d.state}: ${s.updated} of ${s.desired} updated, ${s.old} old; at most ${s.bounds.maxUnavailable} unavailable, ${s.bounds.maxSurge} extra${d.reason ? ` (${d.reason})` : ''}`
}

/**
 * What `rollout status --no-follow` reports: the newest version's state, `waiting` while
 * its canaries are available and it waits for `rollout promote` (as a followed status
 * ends), `none` for a job recorded before deployments.
 */
export function rolloutOutcome(s: RolloutStatus): DeploymentState | 'none' | 'waiting' {
  const d = s.deployment
  if (!d) return 'none'
  return d.state === 'running' && waitsForPromote({...s, deployment: d}, d.spec.upgrade) ? 'waiting' : d.state
}

/**
 * An open rollout in a few words, for a table cell: `rolling v3 2/4`, `canary v3 1/2`,
 * `canary v3 waits promote`, `rolling back to v2 1/4`, `paused v3 2/4`; '' when none is open.
 */
export function rolloutBrief(s: RolloutStatus, upgrade: Pick<UpgradePolicy, 'canary' | 'autoPromoteMs'>): string {
  const d = s.deployment
  if (!d || !isOpen(d.state)) return ''
  const count = `${s.updated}/${s.desired}`
  if (d.state === 'paused') return `paused v${d.version} ${count}`
  if (waitsForPromote({...s, deployment: d}, upgrade)) return `canary v${d.version} waits promote`
  if (inCanaryPhase(d, upgrade)) return `canary v${d.version} ${s.updated}/${Math.min(upgrade.canary, s.desired)}`
  if (d.cause === 'rollback') return `rolling back ${s.backTo === null ? `v${d.version}` : `to v${s.backTo}`} ${count}`
  return `rolling v${d.version} ${count}`
}

export const HISTORY_COLUMNS = ['VERSION', 'CAUSE', 'STATE', 'IMAGE', 'CREATED', 'REASON'] as const

/** A version's cells under HISTORY_COLUMNS (`rollout history` and the dashboard's job detail). */
export function historyCells(d: Deployment): string[] {
  return [String(d.version), d.cause, d.state, d.spec.image, new Date(d.createdAt).toISOString(), `${d.reason ?? ''}${d.rolledBackTo === null ? '' : ` (rolled back to v${d.rolledBackTo})`}`]
}

export function renderHistory(list: readonly Deployment[]): string {
  if (list.length === 0) return 'No deployment recorded.'
  return renderTable([...HISTORY_COLUMNS], list.map(historyCells))
}

/** `apply --dry-run`'s rollout plan: one line per step. */
export function renderRolloutPlan(steps: readonly RolloutStep[]): string {
  return ['  rollout plan:', ...steps.map((s, i) => `    step ${i + 1}: start ${s.start}, stop ${s.stop}, at least ${s.lowestAvailable} available`)].join('\n')
}
