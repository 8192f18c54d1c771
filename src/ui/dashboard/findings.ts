/**
 * What is worth a look on a node, from what the state file knows: heartbeat
 * failures, the health probe's conditions (docs/health.md: worst first), load above
 * its CPU threads, little memory left, an unusable runtime. Pure.
 */
import type {Node} from '../../core/model/node.js'
import {formatBytes} from '../../core/model/resources.js'

export interface Finding {
  severity: 'error' | 'warn'
  text: string
}

/** Memory available below this share of the total (or this many bytes) is a finding. */
export const LOW_MEMORY_SHARE = 0.1
export const LOW_MEMORY_BYTES = 256 * 1024 ** 2

export function nodeFindings(node: Node): Finding[] {
  const out: Finding[] = []
  if (node.heartbeatError) out.push({severity: 'error', text: `heartbeat: ${node.heartbeatError}`})
  if (node.missedHeartbeats > 0) out.push({severity: node.missedHeartbeats > 1 ? 'error' : 'warn', text: `missed ${node.missedHeartbeats} heartbeat${node.missedHeartbeats === 1 ? '' : 's'}`})
  for (const c of node.conditions) out.push({severity: c.severity === 'critical' ? 'error' : 'warn', text: `${c.type}: ${c.message}`})
  const runtime = node.inventory.runtimes[node.runtime]
  if (runtime && !runtime.usable) out.push({severity: 'error', text: `${node.runtime} not usable${runtime.problem ? `: ${runtime.problem}` : ''}`})
  const threads = node.inventory.cpu.threads ?? node.capacity.cpuMilli / 1000
  const load = node.usage?.load1 ?? null
  if (load !== null && threads > 0 && load > threads) out.push({severity: 'warn', text: `load ${load.toFixed(1)} > ${threads} threads`})
  const free = node.usage?.memAvailableBytes ?? null
  const total = node.inventory.memory.totalBytes ?? node.capacity.memBytes
  if (free !== null && total > 0 && (free < total * LOW_MEMORY_SHARE || free < LOW_MEMORY_BYTES)) {
    out.push({severity: 'warn', text: `low memory: ${formatBytes(free)} of ${formatBytes(total)} free`})
  }

  return out
}
