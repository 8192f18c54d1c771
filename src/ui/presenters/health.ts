/** Node conditions and `node doctor` as JSON and as text (docs/health.md, docs/json.md). */
import {adviceFor, blocksWork, recommendsDrain} from '../../core/health/conditions.js'
import type {HealthSample, NodeCondition} from '../../core/model/health.js'
import type {Node} from '../../core/model/node.js'
import {formatBytes} from '../../core/model/resources.js'
import type {DoctorResult} from '../../core/services/health.js'
import {paint} from '../style.js'
import {renderTable} from '../table.js'
import {ago} from './nodes.js'

export interface ConditionJson {
  type: string
  severity: string
  reason: string
  message: string
  since: string
  lastSeen: string
  /** The node takes no new work while it holds. */
  blocksWork: boolean
  /** Critical: `daemon --auto-drain` moves the node's work away. */
  recommendsDrain: boolean
  /** What to do about it. */
  advice: string
}

export function conditionToJson(c: NodeCondition): ConditionJson {
  return {type: c.type, severity: c.severity, reason: c.reason, message: c.message, since: new Date(c.since).toISOString(), lastSeen: new Date(c.lastSeen).toISOString(), blocksWork: blocksWork(c), recommendsDrain: recommendsDrain(c), advice: adviceFor(c)}
}

/** The CONDITIONS cell of `nodes`: the types, a critical one marked `!`, or `-`. */
export function conditionsCell(node: Pick<Node, 'conditions'>, color: boolean): string {
  if (node.conditions.length === 0) return '-'
  return node.conditions.map((c) => (c.severity === 'critical' ? paint.error(`${c.type}!`, color) : c.severity === 'warning' ? paint.warn(c.type, color) : c.type)).join(',')
}

export function renderConditions(conditions: readonly NodeCondition[], now: number, color: boolean, advice = false): string {
  if (conditions.length === 0) return 'No conditions: the health probe found nothing wrong.'
  return renderTable(
    ['TYPE', 'SEVERITY', 'REASON', 'SINCE', 'MESSAGE', ...(advice ? ['WHAT TO DO'] : [])],
    conditions.map((c) => [c.type, c.severity === 'critical' ? paint.error(c.severity, color) : paint.warn(c.severity, color), c.reason, `${ago(c.since, now)} ago`, `${c.message}${blocksWork(c) ? ' (no new work)' : ''}`, ...(advice ? [adviceFor(c)] : [])]),
  )
}

/** The figures of a probe in a few lines: memory, filesystems, runtime, clock. */
export function sampleLines(s: HealthSample): string[] {
  const mem = s.memory.availableBytes === null ? '-' : `${formatBytes(s.memory.availableBytes)} available of ${s.memory.totalBytes === null ? '?' : formatBytes(s.memory.totalBytes)}${s.psi.memory ? `, pressure ${s.psi.memory.some10}%` : ''}`
  const fs = s.filesystems.map((f) => `${f.path} ${f.sizeBytes && f.freeBytes !== null ? `${Math.round((100 * f.freeBytes) / f.sizeBytes)}% free (${formatBytes(f.freeBytes)})` : '?'}${f.readOnly ? ' READ-ONLY' : ''}`).join(', ')
  return [
    `memory    ${mem}`,
    `disks     ${fs || '-'}`,
    `runtime   ${s.runtime.ok === null ? '-' : s.runtime.ok ? 'answers' : `not answering (${s.runtime.detail ?? 'failed'})`}`,
    `clock     ${s.clock.synchronized === null ? 'sync unknown' : s.clock.synchronized ? 'NTP synchronised' : 'NOT synchronised'}${s.clock.offsetMs === null ? '' : `, offset ${s.clock.offsetMs.toFixed(1)} ms`}`,
    `hardware  ${s.smart.length} disk(s) with SMART, ${s.gpus.length} GPU(s), ${s.edac.length} memory controller(s) with EDAC, ${s.temperatures.length} sensor(s), ${s.raid.length} md array(s)`,
  ]
}

export function renderDoctor(results: readonly DoctorResult[], now: number, color: boolean): string {
  return results
    .map((r) => {
      const head = paint.bold(`Node ${r.node.name}`, color)
      if (r.error) return [`${head}: ${paint.error('not probed', color)}: ${r.error.message}`, 'Stored conditions:', renderConditions(r.conditions, now, color, true)].join('\n')
      const verdict = r.conditions.some((c) => c.severity === 'critical') ? paint.error('critical', color) : r.conditions.length > 0 ? paint.warn('warnings', color) : paint.ok('healthy', color)
      return [`${head}: ${verdict} (probed in ${r.probeMs} ms)`, ...(r.sample ? sampleLines(r.sample).map((l) => `  ${l}`) : []), '', renderConditions(r.conditions, now, color, true)].join('\n')
    })
    .join('\n\n')
}
