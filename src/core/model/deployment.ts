/** Deployments: the versions of a job's containers and how each rollout went (docs/deployments.md). Plain data. */
import type {JobSpec, UpgradePolicy} from './job.js'

export const DEPLOYMENT_STATES = ['running', 'paused', 'succeeded', 'failed', 'superseded'] as const
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number]
export type DeploymentCause = 'create' | 'apply' | 'restart' | 'rollback' | 'undo' | 'import'

export interface Deployment {
  id: string
  jobId: string
  jobName: string
  /** 1, 2, ... per job. */
  version: number
  cause: DeploymentCause
  spec: JobSpec
  specHash: string
  generation: number
  state: DeploymentState
  /** Why it failed, was paused or superseded. */
  reason: string | null
  /** The version a failed deployment rolled back to. */
  rolledBackTo: number | null
  /** New instances available when last seen: more means progress. */
  available: number
  /** When an instance last became available (or the rollout started or resumed). */
  progressAt: number
  /** Its canaries were promoted (by `rollout promote` or autoPromote): the rest of the rollout may go on. */
  promoted: boolean
  /** Failed tasks of this version count from this time (the start, or the last resume). */
  countedFrom: number
  createdAt: number
  updatedAt: number
  endedAt: number | null
}

/** How a job's newest version rolls out, as `rollout status` and the dashboard show it (src/core/services/deployments.ts statusOf). */
export interface RolloutStatus {
  job: string
  /** The newest version, or null for a job recorded before deployments. */
  deployment: Deployment | null
  desired: number
  /** Instances available on the newest version's spec, and live tasks on older specs. */
  updated: number
  old: number
  bounds: {maxUnavailable: number; maxSurge: number}
  /** For a rollback: the version it goes back to. */
  backTo: number | null
}

/** A job's newest version with its status, and its latest versions (newest first): the dashboard's job detail. */
export interface JobDeployments {
  job: string
  status: RolloutStatus
  history: Deployment[]
}

/** Running and paused deployments are open: the pass drives (or holds) them. */
export function isOpen(state: DeploymentState): boolean {
  return state === 'running' || state === 'paused'
}

/** Whether a deployment waits in its canary phase: canaries configured, not promoted, old instances to replace. */
export function inCanaryPhase(dep: Pick<Deployment, 'cause' | 'promoted' | 'state'>, upgrade: Pick<UpgradePolicy, 'canary'>): boolean {
  return upgrade.canary > 0 && !dep.promoted && dep.cause !== 'create' && isOpen(dep.state)
}

/** A canary phase whose canaries are all available and that waits for `rollout promote` (no autoPromote). */
export function waitsForPromote(s: Pick<RolloutStatus, 'updated' | 'desired'> & {deployment: Pick<Deployment, 'cause' | 'promoted' | 'state'>}, upgrade: Pick<UpgradePolicy, 'canary' | 'autoPromoteMs'>): boolean {
  return inCanaryPhase(s.deployment, upgrade) && upgrade.autoPromoteMs === null && s.updated >= Math.min(upgrade.canary, s.desired)
}
