/** Runs of scheduled and dependent jobs, their schedule cursors and parent counters (migration 0008). */
import type {Run, RunCursor} from '../model/run.js'
import type {OpenRun} from '../schedule/runs.js'
import type {Store} from './store.js'

interface RunRow {
  id: string
  job_id: string
  job_name: string
  trigger: Run['trigger']
  scheduled_at: number
  attempt: number
  state: Run['state']
  task_id: string | null
  node: string | null
  exit_code: number | null
  reason: string | null
  created_at: number
  started_at: number | null
  ended_at: number | null
  retry_at: number | null
}

const COLUMNS: Record<keyof Run, keyof RunRow> = {
  id: 'id',
  jobId: 'job_id',
  jobName: 'job_name',
  trigger: 'trigger',
  scheduledAt: 'scheduled_at',
  attempt: 'attempt',
  state: 'state',
  taskId: 'task_id',
  node: 'node',
  exitCode: 'exit_code',
  reason: 'reason',
  createdAt: 'created_at',
  startedAt: 'started_at',
  endedAt: 'ended_at',
  retryAt: 'retry_at',
}

const toRun = (r: RunRow): Run => Object.fromEntries(Object.entries(COLUMNS).map(([k, c]) => [k, r[c]])) as unknown as Run

export function insertRun(store: Store, run: Run): void {
  store.stmt(`INSERT INTO runs (${Object.values(COLUMNS).join(', ')}) VALUES (${Object.keys(COLUMNS).map((k) => `@${k}`).join(', ')})`).run(run)
}

export function updateRun(store: Store, id: string, patch: Partial<Run>): void {
  const keys = (Object.keys(patch) as Array<keyof Run>).filter((k) => patch[k] !== undefined && k !== 'id')
  if (keys.length === 0) return
  store.stmt(`UPDATE runs SET ${keys.map((k) => `${COLUMNS[k]} = @${k}`).join(', ')} WHERE id = @id`).run({...Object.fromEntries(keys.map((k) => [k, patch[k]])), id})
}

/** Open runs (waiting, starting, running) and failed ones with a retry pending, with their tasks. */
export function listOpenRuns(store: Store): OpenRun[] {
  const rows = store
    .stmt(
      `SELECT r.*, t.state AS t_state, t.desired AS t_desired, n.name AS t_node, t.exit_code AS t_exit, t.started_at AS t_started, t.finished_at AS t_finished, t.reason AS t_reason
       FROM runs r LEFT JOIN tasks t ON t.id = r.task_id LEFT JOIN nodes n ON n.id = t.node_id
       WHERE r.state IN ('waiting', 'starting', 'running') OR r.retry_at IS NOT NULL`,
    )
    .all() as Array<RunRow & {t_state: string | null; t_desired: 'run' | 'stop'; t_node: string | null; t_exit: number | null; t_started: number | null; t_finished: number | null; t_reason: string | null}>
  return rows.map((r) => ({
    ...toRun(r),
    task: r.t_state === null ? null : {state: r.t_state as NonNullable<OpenRun['task']>['state'], desired: r.t_desired, nodeName: r.t_node, exitCode: r.t_exit, startedAt: r.t_started, finishedAt: r.t_finished, reason: r.t_reason},
  }))
}

/** History, newest first. */
export function listRuns(store: Store, filter: {jobId?: string; limit?: number} = {}): Run[] {
  return (store.stmt(`SELECT * FROM runs WHERE (@jobId IS NULL OR job_id = @jobId) ORDER BY scheduled_at DESC, attempt DESC LIMIT @limit`).all({jobId: filter.jobId ?? null, limit: filter.limit ?? -1}) as RunRow[]).map(toRun)
}

/** The latest run of each job, by job id. */
export function lastRuns(store: Store): Map<string, Run> {
  const rows = store.stmt(`SELECT r.* FROM runs r WHERE r.rowid = (SELECT u.rowid FROM runs u WHERE u.job_id = r.job_id ORDER BY u.scheduled_at DESC, u.attempt DESC LIMIT 1)`).all() as RunRow[]
  return new Map(rows.map((r) => [r.job_id, toRun(r)]))
}

export function listCursors(store: Store): Map<string, RunCursor> {
  const rows = store.stmt(`SELECT * FROM run_cursors`).all() as Array<{job_id: string; key: string; anchor: number; evaluated_to: number; next_at: number | null; remaining: number | null}>
  return new Map(rows.map((r) => [r.job_id, {jobId: r.job_id, key: r.key, anchor: r.anchor, evaluatedTo: r.evaluated_to, nextAt: r.next_at, remaining: r.remaining}]))
}

export function saveCursor(store: Store, c: RunCursor): void {
  store
    .stmt(`INSERT INTO run_cursors (job_id, key, anchor, evaluated_to, next_at, remaining) VALUES (@jobId, @key, @anchor, @evaluatedTo, @nextAt, @remaining)
           ON CONFLICT (job_id) DO UPDATE SET key = excluded.key, anchor = excluded.anchor, evaluated_to = excluded.evaluated_to, next_at = excluded.next_at, remaining = excluded.remaining`)
    .run(c)
}

export function listParentSuccesses(store: Store): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>()
  for (const r of store.stmt(`SELECT * FROM parent_successes WHERE successes > 0`).all() as Array<{child_id: string; parent: string; successes: number}>) {
    const m = out.get(r.child_id) ?? new Map<string, number>()
    m.set(r.parent, r.successes)
    out.set(r.child_id, m)
  }

  return out
}

export function countParentSuccess(store: Store, childId: string, parent: string): void {
  store.stmt(`INSERT INTO parent_successes (child_id, parent, successes) VALUES (?, ?, 1) ON CONFLICT (child_id, parent) DO UPDATE SET successes = successes + 1`).run(childId, parent)
}

export function resetParentSuccesses(store: Store, childId: string): void {
  store.stmt(`UPDATE parent_successes SET successes = 0 WHERE child_id = ?`).run(childId)
}
