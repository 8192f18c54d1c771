/**
 * What the pass (and `node doctor`) do with one probe of one node, pure: when the probe
 * is due, what it is given, and the conditions after its answer.
 */
import type {HealthSample, NodeCondition} from '../model/health.js'
import type {Node} from '../model/node.js'
import {type ConditionChange, DEFAULT_THRESHOLDS, findingsOf, type HealthThresholds, nextConditions} from './conditions.js'
import type {ProbeArgs} from './probe.js'
import {DEFAULT_TREND, trendFindings, type TrendSettings} from './trend.js'

export interface HealthSettings {
  /** A node is probed when its last probe is this old. Default 30 s. */
  intervalMs: number
  thresholds: HealthThresholds
  trend: TrendSettings
}

export const DEFAULT_HEALTH: Readonly<HealthSettings> = Object.freeze({intervalMs: 30_000, thresholds: DEFAULT_THRESHOLDS, trend: DEFAULT_TREND})

/** The probe is due on a node never probed, or probed `intervalMs` ago (so every 30-60 s with a pass every few seconds, not every pass). */
export function isProbeDue(node: Pick<Node, 'healthProbedAt'>, now: number, intervalMs = DEFAULT_HEALTH.intervalMs): boolean {
  return node.healthProbedAt === null || now - node.healthProbedAt >= intervalMs
}

/** Where a node's runtime keeps images and containers: podman's graph root as the inventory saw it, else the runtime's default. */
export function runtimeStoreOf(node: Pick<Node, 'runtime' | 'inventory'>): string {
  if (node.runtime === 'containerd') return '/var/lib/containerd'
  const storage = node.inventory.runtimes.podman.storage
  const m = storage ? /\((\/[^)]*)\)/.exec(storage) : null
  return m ? m[1]! : '/var/lib/containers/storage'
}

/** The probe's arguments for a node: `/` and its runtime's store are watched. */
export function probeArgsFor(node: Pick<Node, 'runtime' | 'inventory'>): ProbeArgs {
  return {paths: ['/', runtimeStoreOf(node)], runtime: node.runtime}
}

export interface ProbeJudgement {
  sample: HealthSample
  conditions: NodeCondition[]
  changes: ConditionChange[]
}

/** The conditions after a probe answered `sample`, from the node's conditions and its recent samples (oldest first). */
export function judgeProbe(current: readonly NodeCondition[], history: readonly HealthSample[], sample: HealthSample, settings: HealthSettings = DEFAULT_HEALTH): ProbeJudgement {
  const previous = history.length > 0 ? history[history.length - 1]! : null
  const findings = [...findingsOf(sample, previous, settings.thresholds), ...trendFindings([...history, sample], settings.trend)]
  return {sample, ...nextConditions(current, findings, sample.at, settings.thresholds.transitionMs)}
}

/** How a condition change reads as an event: `node.condition.raised` etc. */
export function conditionEvent(node: string, change: ConditionChange): {type: string; message: string; data: Record<string, unknown>} {
  const c = change.condition
  const verb = change.kind === 'raised' ? 'raised' : change.kind === 'cleared' ? 'cleared' : 'now'
  return {type: `node.condition.${change.kind}`, message: `${c.type} ${verb}${change.kind === 'cleared' ? ` (absent for 5 min)` : ` (${c.severity}, ${c.reason})`}: ${c.message}`, data: {node, type: c.type, severity: c.severity, reason: c.reason}}
}
