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

/** Running and paused deployments are open: the pass drives (or holds) them. */
export function isOpen(state: DeploymentState): boolean {
  return state === 'running' || state === 'paused'
}

/** Whether a deployment waits in its canary phase: canaries configured, not promoted, old instances to replace. */
export function inCanaryPhase(dep: Pick<Deployment, 'cause' | 'promoted' | 'state'>, upgrade: Pick<UpgradePolicy, 'canary'>): boolean {
  return upgrade.canary > 0 && !dep.promoted && dep.cause !== 'create' && isOpen(dep.state)
}
