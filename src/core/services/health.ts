/**
 * `node doctor`: the health probe now, on one node or all, judged with the node's
 * stored conditions and history and recorded like a pass's probe (sample, conditions,
 * events), so the daemon and the doctor agree.
 */
import type {ServiceContext} from '../context.js'
import {connectSpecOf} from '../context.js'
import {forEachLimited} from '../async.js'
import {conditionEvent, judgeProbe, probeArgsFor} from '../health/judge.js'
import {parseHealthProbe} from '../health/parse.js'
import {healthProbeArgv} from '../health/probe.js'
import type {HealthSample, NodeCondition} from '../model/health.js'
import type {Node} from '../model/node.js'
import {appendEvent} from '../state/events.js'
import {recentSamples, recordSample, replaceConditions} from '../state/health.js'
import {listNodes} from '../state/nodes.js'
import {getNode} from './nodes.js'

export interface DoctorResult {
  node: Node
  /** The conditions after this probe (the stored ones when the node could not be probed). */
  conditions: NodeCondition[]
  sample: HealthSample | null
  /** How long the probe's round trip took. */
  probeMs: number | null
  error: Error | null
}

/** The probe's own deadline: SMART and nvidia-smi may take seconds; every tool in it has a shorter one. */
export const DOCTOR_TIMEOUT_MS = 60_000

export async function doctorNodes(ctx: ServiceContext, names: string[] | 'all'): Promise<DoctorResult[]> {
  const nodes = names === 'all' ? listNodes(ctx.store) : names.map((n) => getNode(ctx, n))
  const out = new Map<string, DoctorResult>()
  await forEachLimited(nodes, 32, async (node) => {
    const sentAt = ctx.clock.now()
    try {
      const result = await ctx.connect(connectSpecOf(node)).exec(healthProbeArgv(probeArgsFor(node)), {timeoutMs: DOCTOR_TIMEOUT_MS})
      const at = ctx.clock.now()
      const {store} = ctx
      const judged = store.write(() => {
        const j = judgeProbe(listConditionsOf(ctx, node), recentSamples(store, node.id), parseHealthProbe(result.stdout, at))
        recordSample(store, node.id, j.sample)
        replaceConditions(store, node.id, j.conditions)
        for (const change of j.changes) appendEvent(store, {subjectKind: 'node', subject: node.name, ...conditionEvent(node.name, change)})
        return j
      })
      out.set(node.id, {node: {...node, conditions: judged.conditions, healthProbedAt: at}, conditions: judged.conditions, sample: judged.sample, probeMs: at - sentAt, error: null})
    } catch (error) {
      out.set(node.id, {node, conditions: node.conditions, sample: null, probeMs: null, error: error as Error})
    }
  })
  return nodes.map((n) => out.get(n.id)!)
}

/** The node's stored conditions as of now (another process may have probed it since it was read). */
function listConditionsOf(ctx: Pick<ServiceContext, 'store'>, node: Node): NodeCondition[] {
  return getNode(ctx, node.name).conditions
}

/** `node doctor`'s exit code: 0 healthy, 1 warnings, 2 critical (a node that could not be probed: see the command). */
export function doctorVerdict(results: readonly DoctorResult[]): 0 | 1 | 2 {
  const all = results.flatMap((r) => r.conditions)
  if (all.some((c) => c.severity === 'critical')) return 2
  if (all.some((c) => c.severity === 'warning')) return 1
  return 0
}
