import {type JobSpec, upgradeOf} from '../model/job.js'
import {type HostPortBinding, type Job, type JobCounts, NO_TASKS, type Task, type TaskHealth, type TaskState} from '../model/task.js'
import type {Store} from './store.js'

interface JobRow {
  id: string
  name: string
  kind: Job['kind']
  spec: string
  spec_hash: string
  instances: number
  generation: number
  state: Job['state']
  service_port: number | null
  created_at: number
  updated_at: number
}

interface TaskRow {
  id: string
  job_id: string
  job_name: string
  instance: number
  node_id: string | null
  node_name: string | null
  state: TaskState
  desired: 'run' | 'stop'
  health: TaskHealth
  health_failures: number
  health_checked_at: number | null
  health_message: string | null
  ready_at: number | null
  readiness: 'ready' | 'not-ready' | 'unknown'
  readiness_at: number | null
  readiness_checked_at: number | null
  replaces: string | null
  container_name: string | null
  host_ports: string
  spec_hash: string
  reason: string | null
  reason_data: string | null
  restarts: number
  exit_code: number | null
  created_at: number
  updated_at: number
  started_at: number | null
  finished_at: number | null
}

const toJob = (r: JobRow): Job => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  spec: specOf(r.spec),
  specHash: r.spec_hash,
  instances: r.instances,
  generation: r.generation,
  state: r.state,
  servicePort: r.service_port,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

/** A stored spec, with an upgrade policy recorded before deployments read as today's (upgradeOf). */
export function specOf(text: string): JobSpec {
  const spec = JSON.parse(text) as JobSpec
  return {...spec, upgrade: upgradeOf(spec)}
}

/** A task from its row's columns, read through `get` (an object row, or an array row and its column positions). */
function taskOf(get: <K extends keyof TaskRow>(column: K) => TaskRow[K]): Task {
  const hostPorts = get('host_ports')
  const reasonData = get('reason_data')
  return {
  id: get('id'),
  jobId: get('job_id'),
  jobName: get('job_name'),
  instance: get('instance'),
  nodeId: get('node_id'),
  nodeName: get('node_name'),
  state: get('state'),
  desired: get('desired'),
  health: get('health'),
  healthFailures: get('health_failures'),
  healthCheckedAt: get('health_checked_at'),
  healthMessage: get('health_message'),
  readyAt: get('ready_at'),
  readiness: get('readiness'),
  readinessAt: get('readiness_at'),
  readinessCheckedAt: get('readiness_checked_at'),
  replaces: get('replaces'),
  containerName: get('container_name'),
  hostPorts: hostPorts === '[]' ? [] : (JSON.parse(hostPorts) as HostPortBinding[]),
  specHash: get('spec_hash'),
  reason: get('reason'),
  reasonData: reasonData === null ? null : (JSON.parse(reasonData) as Record<string, unknown>),
  restarts: get('restarts'),
  exitCode: get('exit_code'),
  createdAt: get('created_at'),
  updatedAt: get('updated_at'),
  startedAt: get('started_at'),
  finishedAt: get('finished_at'),
}
}

const toTask = (r: TaskRow): Task => taskOf((k) => r[k])

const TASK_SELECT = `SELECT t.*, j.name AS job_name, n.name AS node_name FROM tasks t JOIN jobs j ON j.id = t.job_id LEFT JOIN nodes n ON n.id = t.node_id`
const LIVE = `('pending', 'staging', 'starting', 'running', 'unreachable')`

export function clusterId(store: Store): string {
  return (store.stmt(`SELECT value FROM meta WHERE key = 'cluster_id'`).get() as {value: string}).value
}

export function listJobs(store: Store): Job[] {
  return (store.stmt(`SELECT * FROM jobs ORDER BY name`).all() as JobRow[]).map(toJob)
}

/**
 * Every job's task counts in one aggregate query (linear in tasks; a listing must not
 * filter all tasks once per job). Jobs without tasks are absent: use NO_TASKS.
 */
export function jobCounts(store: Store, jobId?: string): Map<string, JobCounts> {
  const rows = store
    .stmt(
      `SELECT t.job_id,
              sum(t.desired = 'run' AND t.state = 'running') AS running,
              sum(t.desired = 'run' AND t.state = 'pending') AS pending,
              sum(t.desired = 'run' AND t.state IN ${LIVE}) AS live,
              count(DISTINCT CASE WHEN t.state = 'finished' AND t.spec_hash = j.spec_hash AND t.instance < j.instances THEN t.instance END) AS finished,
              max(CASE WHEN t.state = 'failed' AND t.spec_hash = j.spec_hash THEN t.restarts END) AS failed_restarts
       FROM tasks t JOIN jobs j ON j.id = t.job_id
       WHERE @jobId IS NULL OR t.job_id = @jobId
       GROUP BY t.job_id`,
    )
    .all({jobId: jobId ?? null}) as Array<{job_id: string; running: number; pending: number; live: number; finished: number; failed_restarts: number | null}>
  return new Map(rows.map((r) => [r.job_id, {...NO_TASKS, running: r.running, pending: r.pending, live: r.live, finished: r.finished, failedRestarts: r.failed_restarts}]))
}

export function findJob(store: Store, name: string): Job | undefined {
  const row = store.stmt(`SELECT * FROM jobs WHERE name = ?`).get(name) as JobRow | undefined
  return row ? toJob(row) : undefined
}

export function insertJob(store: Store, job: Job): void {
  store
    .stmt(`INSERT INTO jobs (id, name, kind, spec, spec_hash, instances, generation, state, service_port, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(job.id, job.name, job.kind, JSON.stringify(job.spec), job.specHash, job.instances, job.generation, job.state, job.servicePort ?? null, job.createdAt, job.updatedAt)
}

/** Every job's service port, to the job's name (core/edge/service-ports.ts). */
export function servicePortHolders(store: Store): Map<number, string> {
  const rows = store.stmt(`SELECT service_port, name FROM jobs WHERE service_port IS NOT NULL`).all() as Array<{service_port: number; name: string}>
  return new Map(rows.map((r) => [r.service_port, r.name]))
}

/** Gives a job its service port (null: none); the column's unique index refuses one another job holds. */
export function setServicePort(store: Store, id: string, port: number | null): void {
  store.stmt(`UPDATE jobs SET service_port = ? WHERE id = ?`).run(port, id)
}

export function updateJob(store: Store, job: Pick<Job, 'id' | 'spec' | 'specHash' | 'instances' | 'state' | 'kind' | 'generation'>, at: number): void {
  store
    .stmt(`UPDATE jobs SET kind = ?, spec = ?, spec_hash = ?, instances = ?, generation = ?, state = ?, updated_at = ? WHERE id = ?`)
    .run(job.kind, JSON.stringify(job.spec), job.specHash, job.instances, job.generation, job.state, at, job.id)
}

/** Changes only the stored spec (suspend/resume): updated_at, which anchors a schedule, stays. */
export function setJobSpec(store: Store, id: string, spec: JobSpec): void {
  store.stmt(`UPDATE jobs SET spec = ? WHERE id = ?`).run(JSON.stringify(spec), id)
}

export function deleteJob(store: Store, id: string): void {
  store.stmt(`DELETE FROM jobs WHERE id = ?`).run(id)
}

/** Every node that ever held a task of these jobs: where their containers, ended ones too, may still be. */
export function nodeIdsOfJobs(store: Store, jobIds: readonly string[]): Set<string> {
  const stmt = store.stmt(`SELECT DISTINCT node_id FROM tasks WHERE job_id = ? AND node_id IS NOT NULL`)
  return new Set(jobIds.flatMap((id) => (stmt.all(id) as Array<{node_id: string}>).map((r) => r.node_id)))
}

export function listTasks(store: Store, filter: {jobId?: string; live?: boolean; nodeId?: string} = {}): Task[] {
  const rows = store
    .stmt(
      `${TASK_SELECT} WHERE (@jobId IS NULL OR t.job_id = @jobId) AND (@nodeId IS NULL OR t.node_id = @nodeId)
         AND (@live = 0 OR t.state IN ${LIVE}) ORDER BY j.name, t.instance, t.created_at`,
    )
    .all({jobId: filter.jobId ?? null, nodeId: filter.nodeId ?? null, live: filter.live ? 1 : 0}) as TaskRow[]
  return rows.map(toTask)
}

/** Failed tasks since `since`, counted per instance (`jobId/instance`) and node name. */
export function recentFailures(store: Store, since: number): Map<string, Map<string, number>> {
  const rows = store
    .stmt(
      `SELECT t.job_id, t.instance, n.name AS node_name, count(*) AS n FROM tasks t JOIN nodes n ON n.id = t.node_id
       WHERE t.state = 'failed' AND t.finished_at >= ? GROUP BY t.job_id, t.instance, n.name`,
    )
    .all(since) as Array<{job_id: string; instance: number; node_name: string; n: number}>
  const out = new Map<string, Map<string, number>>()
  for (const r of rows) {
    const key = `${r.job_id}/${r.instance}`
    const byNode = out.get(key) ?? new Map<string, number>()
    byNode.set(r.node_name, r.n)
    out.set(key, byNode)
  }

  return out
}

/**
 * Live tasks, plus the latest ended task of each desired instance of an active job that
 * has no live task of the current spec (restarts and batch completions count from it; an
 * instance with one needs none: if that task ends in this pass, it is the latest). Reads
 * live rows only: two index seeks per instance, never the history behind (docs/history.md).
 */
export function listTasksForReconcile(store: Store): Task[] {
  const statement = store.stmt(
      `${TASK_SELECT} WHERE t.state IN ${LIVE}
       UNION ALL
       SELECT * FROM (
         WITH RECURSIVE want (job_id, instance, n, spec_hash) AS (
           SELECT id, 0, instances, spec_hash FROM jobs WHERE state = 'active' AND instances > 0
           UNION ALL SELECT job_id, instance + 1, n, spec_hash FROM want WHERE instance + 1 < n)
         SELECT t.*, j.name AS job_name, n.name AS node_name
         FROM want w CROSS JOIN tasks t ON t.id = (
                SELECT u.id FROM tasks u WHERE u.job_id = w.job_id AND u.instance = w.instance AND u.state IN ('finished', 'failed', 'lost')
                ORDER BY u.created_at DESC LIMIT 1)
         JOIN jobs j ON j.id = t.job_id LEFT JOIN nodes n ON n.id = t.node_id
         WHERE NOT EXISTS (SELECT 1 FROM tasks l WHERE l.job_id = w.job_id AND l.instance = w.instance AND l.state IN ${LIVE} AND l.desired = 'run' AND l.spec_hash = w.spec_hash))
       ORDER BY created_at`,
    )
  // Rows as arrays, one object per task: at 50,000 tasks the row objects better-sqlite3 would
  // build first cost more than the query (allocation and GC in the controller's large heap).
  const at = new Map(statement.columns().map((c, i) => [c.name, i]))
  const rows = statement.raw(true).all() as unknown[][]
  return rows.map((values) => taskOf((k) => values[at.get(k)!] as never))
}

/**
 * The latest ended task of each instance of an active job that has no live task (an
 * instance waiting out its restart back-off, or given up on), for listings.
 */
export function waitingInstances(store: Store, jobId?: string): Task[] {
  const rows = store
    .stmt(
      `WITH ended AS (
         SELECT t.id, row_number() OVER (PARTITION BY t.job_id, t.instance ORDER BY t.created_at DESC) AS rn
         FROM tasks t JOIN jobs j ON j.id = t.job_id
         WHERE t.state IN ('failed', 'lost') AND j.state = 'active' AND t.instance < j.instances AND t.spec_hash = j.spec_hash
           AND (@jobId IS NULL OR t.job_id = @jobId))
       ${TASK_SELECT} JOIN ended e ON e.id = t.id AND e.rn = 1
       WHERE NOT EXISTS (SELECT 1 FROM tasks l WHERE l.job_id = t.job_id AND l.instance = t.instance AND l.state IN ${LIVE})
         AND NOT EXISTS (SELECT 1 FROM tasks f WHERE f.job_id = t.job_id AND f.instance = t.instance AND f.state = 'finished' AND f.spec_hash = t.spec_hash)
       ORDER BY j.name, t.instance`,
    )
    .all({jobId: jobId ?? null}) as TaskRow[]
  return rows.map(toTask)
}

/** Pending tasks that replace a live task on this node (drain moves not yet placed). */
export function pendingReplacementsOn(store: Store, nodeId: string): Task[] {
  return (
    store.stmt(`${TASK_SELECT} WHERE t.state = 'pending' AND t.replaces IN (SELECT o.id FROM tasks o WHERE o.node_id = ? AND o.state IN ${LIVE}) ORDER BY j.name, t.instance`).all(nodeId) as TaskRow[]
  ).map(toTask)
}

export function findTask(store: Store, idOrPrefix: string): Task[] {
  return (store.stmt(`${TASK_SELECT} WHERE t.id LIKE ? || '%' OR t.container_name = ? ORDER BY t.created_at`).all(idOrPrefix, idOrPrefix) as TaskRow[]).map(toTask)
}

export function insertTask(store: Store, task: Omit<Task, 'jobName' | 'nodeName'>): void {
  store
    .stmt(
      `INSERT INTO tasks (id, job_id, instance, node_id, state, desired, health, health_failures, health_checked_at, health_message, replaces, container_name, host_ports, spec_hash, reason, reason_data, restarts, exit_code, created_at, updated_at, started_at, finished_at)
       VALUES (@id, @jobId, @instance, @nodeId, @state, @desired, @health, @healthFailures, @healthCheckedAt, @healthMessage, @replaces, @containerName, @hostPorts, @specHash, @reason, @reasonData, @restarts, @exitCode, @createdAt, @updatedAt, @startedAt, @finishedAt)`,
    )
    .run({...task, hostPorts: JSON.stringify(task.hostPorts), reasonData: task.reasonData === null ? null : JSON.stringify(task.reasonData)})
}

export type TaskPatch = Partial<Pick<Task, 'nodeId' | 'state' | 'desired' | 'health' | 'healthFailures' | 'healthCheckedAt' | 'healthMessage' | 'readyAt' | 'readiness' | 'readinessAt' | 'readinessCheckedAt' | 'replaces' | 'containerName' | 'hostPorts' | 'specHash' | 'reason' | 'reasonData' | 'restarts' | 'exitCode' | 'startedAt' | 'finishedAt'>>

export function updateTask(store: Store, id: string, patch: TaskPatch, at: number): void {
  const columns: Record<keyof TaskPatch, string> = {
    nodeId: 'node_id',
    state: 'state',
    desired: 'desired',
    health: 'health',
    healthFailures: 'health_failures',
    healthCheckedAt: 'health_checked_at',
    healthMessage: 'health_message',
    readyAt: 'ready_at',
    readiness: 'readiness',
    readinessAt: 'readiness_at',
    readinessCheckedAt: 'readiness_checked_at',
    replaces: 'replaces',
    containerName: 'container_name',
    hostPorts: 'host_ports',
    specHash: 'spec_hash',
    reason: 'reason',
    reasonData: 'reason_data',
    restarts: 'restarts',
    exitCode: 'exit_code',
    startedAt: 'started_at',
    finishedAt: 'finished_at',
  }
  const keys = (Object.keys(patch) as Array<keyof TaskPatch>).filter((k) => patch[k] !== undefined)
  if (keys.length === 0) return
  const values: Record<string, unknown> = {id, at}
  for (const k of keys) {
    const v = patch[k]
    values[k] = k === 'hostPorts' || k === 'reasonData' ? (v === null ? null : JSON.stringify(v)) : v
  }

  store.stmt(`UPDATE tasks SET ${keys.map((k) => `${columns[k]} = @${k}`).join(', ')}, updated_at = @at WHERE id = @id`).run(values)
}
