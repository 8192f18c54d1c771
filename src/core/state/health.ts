/** Node conditions and the health probe's sample history (migration 0009, docs/health.md). */
import type {HealthSample, NodeCondition, Severity} from '../model/health.js'
import type {Store} from './store.js'

/** Samples kept per node: 60 probes, half an hour at the 30 s interval (enough for deltas and the fill trend). */
export const HEALTH_HISTORY = 60

interface ConditionRow {
  node_id: string
  type: string
  severity: Severity
  reason: string
  message: string
  since: number
  last_seen: number
}

const SEVERITY_RANK: Record<Severity, number> = {critical: 0, warning: 1, info: 2}

/** Conditions by node id, worst first (of one node, or of all). */
export function listConditions(store: Store, nodeId?: string): Map<string, NodeCondition[]> {
  const rows = store.stmt(`SELECT * FROM node_conditions WHERE (@nodeId IS NULL OR node_id = @nodeId)`).all({nodeId: nodeId ?? null}) as ConditionRow[]
  const out = new Map<string, NodeCondition[]>()
  for (const r of rows) {
    const list = out.get(r.node_id) ?? []
    list.push({type: r.type, severity: r.severity, reason: r.reason, message: r.message, since: r.since, lastSeen: r.last_seen})
    out.set(r.node_id, list)
  }

  for (const list of out.values()) list.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.type.localeCompare(b.type))
  return out
}

/** The node's conditions become exactly these. */
export function replaceConditions(store: Store, nodeId: string, conditions: readonly NodeCondition[]): void {
  store.stmt(`DELETE FROM node_conditions WHERE node_id = ?`).run(nodeId)
  const insert = store.stmt(`INSERT INTO node_conditions (node_id, type, severity, reason, message, since, last_seen) VALUES (@nodeId, @type, @severity, @reason, @message, @since, @lastSeen)`)
  for (const c of conditions) insert.run({nodeId, type: c.type, severity: c.severity, reason: c.reason, message: c.message, since: c.since, lastSeen: c.lastSeen})
}

/** The node's newest samples, oldest first. */
export function recentSamples(store: Store, nodeId: string, limit = HEALTH_HISTORY): HealthSample[] {
  const rows = store.stmt(`SELECT sample FROM health_samples WHERE node_id = ? ORDER BY at DESC LIMIT ?`).all(nodeId, limit) as Array<{sample: string}>
  return rows.reverse().map((r) => JSON.parse(r.sample) as HealthSample)
}

/**
 * Records a sample (without its kernel lines: the history serves
 * counters and trends, and stays small), keeps the newest HEALTH_HISTORY, and marks
 * the node probed.
 */
export function recordSample(store: Store, nodeId: string, sample: HealthSample): void {
  const slim: HealthSample = {...sample, kernel: []}
  store.stmt(`INSERT OR REPLACE INTO health_samples (node_id, at, sample) VALUES (?, ?, ?)`).run(nodeId, sample.at, JSON.stringify(slim))
  store.stmt(`DELETE FROM health_samples WHERE node_id = @nodeId AND at < (SELECT at FROM health_samples WHERE node_id = @nodeId ORDER BY at DESC LIMIT 1 OFFSET @keep)`).run({nodeId, keep: HEALTH_HISTORY - 1})
  store.stmt(`UPDATE nodes SET health_probed_at = ? WHERE id = ?`).run(sample.at, nodeId)
}
