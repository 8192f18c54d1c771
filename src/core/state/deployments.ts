/** Deployments in the store: one row per version of a job (docs/deployments.md). */
import type {Deployment, DeploymentCause} from '../model/deployment.js'
import type {Job} from '../model/task.js'
import {appendEvent} from './events.js'
import {specOf} from './jobs.js'
import type {Store} from './store.js'

interface DeploymentRow {
  id: string
  job_id: string
  job_name: string
  version: number
  cause: Deployment['cause']
  spec: string
  spec_hash: string
  generation: number
  state: Deployment['state']
  reason: string | null
  rolled_back_to: number | null
  available: number
  progress_at: number
  counted_from: number
  promoted: number
  created_at: number
  updated_at: number
  ended_at: number | null
}

const toDeployment = (r: DeploymentRow): Deployment => ({
  id: r.id,
  jobId: r.job_id,
  jobName: r.job_name,
  version: r.version,
  cause: r.cause,
  spec: specOf(r.spec),
  specHash: r.spec_hash,
  generation: r.generation,
  state: r.state,
  reason: r.reason,
  rolledBackTo: r.rolled_back_to,
  available: r.available,
  progressAt: r.progress_at,
  countedFrom: r.counted_from,
  promoted: r.promoted === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  endedAt: r.ended_at,
})

const SELECT = `SELECT d.*, j.name AS job_name FROM deployments d JOIN jobs j ON j.id = d.job_id`

/** The open (running or paused) deployment of each job that has one. */
export function openDeployments(store: Store): Map<string, Deployment> {
  const rows = store.stmt(`${SELECT} WHERE d.state IN ('running', 'paused') ORDER BY d.version`).all() as DeploymentRow[]
  return new Map(rows.map((r) => [r.job_id, toDeployment(r)]))
}

/** A job's deployments, newest first. */
export function listDeployments(store: Store, jobId: string): Deployment[] {
  return (store.stmt(`${SELECT} WHERE d.job_id = ? ORDER BY d.version DESC`).all(jobId) as DeploymentRow[]).map(toDeployment)
}

export function findDeployment(store: Store, jobId: string, version: number): Deployment | undefined {
  const row = store.stmt(`${SELECT} WHERE d.job_id = ? AND d.version = ?`).get(jobId, version) as DeploymentRow | undefined
  return row ? toDeployment(row) : undefined
}

/** The version a rollback deployment goes back to (its failed predecessor recorded it), else null. */
export function rollbackTarget(store: Store, dep: Pick<Deployment, 'jobId' | 'version' | 'cause'>): number | null {
  return dep.cause === 'rollback' ? findDeployment(store, dep.jobId, dep.version - 1)?.rolledBackTo ?? null : null
}

/** The newest version that completed with every instance available and runs other containers than `specHash`. */
export function lastStable(store: Store, jobId: string, specHash: string): Deployment | undefined {
  const row = store.stmt(`${SELECT} WHERE d.job_id = ? AND d.state = 'succeeded' AND d.spec_hash <> ? ORDER BY d.version DESC LIMIT 1`).get(jobId, specHash) as DeploymentRow | undefined
  return row ? toDeployment(row) : undefined
}

/**
 * A new version of the job (its current spec): an open deployment before it is
 * superseded (recorded, with why, and a `deployment.superseded` event), in the same
 * transaction (callers hold one).
 */
export function startDeployment(store: Store, job: Pick<Job, 'id' | 'spec' | 'specHash' | 'generation'>, cause: DeploymentCause, at: {id: string; now: number}): Deployment {
  const {id, now} = at
  const last = store.stmt(`SELECT max(version) AS v FROM deployments WHERE job_id = ?`).get(job.id) as {v: number | null}
  const version = (last.v ?? 0) + 1
  const open = store.stmt(`SELECT version FROM deployments WHERE job_id = ? AND state IN ('running', 'paused')`).all(job.id) as Array<{version: number}>
  store.stmt(`UPDATE deployments SET state = 'superseded', reason = ?, updated_at = ?, ended_at = ? WHERE job_id = ? AND state IN ('running', 'paused')`).run(`superseded by version ${version}`, now, now, job.id)
  for (const o of open) appendEvent(store, {type: 'deployment.superseded', subjectKind: 'job', subject: job.spec.name, message: `version ${o.version} superseded by version ${version} (${cause}), which goes on from the instances running now`, data: {version: o.version, by: version}})
  store
    .stmt(`INSERT INTO deployments (id, job_id, version, cause, spec, spec_hash, generation, state, available, progress_at, counted_from, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', 0, ?, ?, ?, ?)`)
    .run(id, job.id, version, cause, JSON.stringify(job.spec), job.specHash, job.generation, now, now, now, now)
  return findDeployment(store, job.id, version)!
}

export type DeploymentPatch = Partial<Pick<Deployment, 'state' | 'reason' | 'rolledBackTo' | 'available' | 'progressAt' | 'countedFrom' | 'endedAt' | 'promoted'>>

export function updateDeployment(store: Store, id: string, patch: DeploymentPatch, now: number): void {
  const columns: Record<keyof DeploymentPatch, string> = {state: 'state', reason: 'reason', rolledBackTo: 'rolled_back_to', available: 'available', progressAt: 'progress_at', countedFrom: 'counted_from', endedAt: 'ended_at', promoted: 'promoted'}
  const keys = (Object.keys(patch) as Array<keyof DeploymentPatch>).filter((k) => patch[k] !== undefined)
  if (keys.length === 0) return
  store.stmt(`UPDATE deployments SET ${keys.map((k) => `${columns[k]} = @${k}`).join(', ')}, updated_at = @now WHERE id = @id`).run({...Object.fromEntries(keys.map((k) => [k, k === 'promoted' ? Number(patch[k]) : patch[k]])), id, now})
}

/** Failed tasks of each open deployment's version since it counts them, by deployment id (the failure budget). */
export function deploymentFailures(store: Store): Map<string, number> {
  const rows = store
    .stmt(
      `SELECT d.id, count(t.id) AS n FROM deployments d JOIN tasks t ON t.job_id = d.job_id AND t.spec_hash = d.spec_hash AND t.state = 'failed' AND t.created_at >= d.counted_from
       WHERE d.state IN ('running', 'paused') GROUP BY d.id`,
    )
    .all() as Array<{id: string; n: number}>
  return new Map(rows.map((r) => [r.id, r.n]))
}
