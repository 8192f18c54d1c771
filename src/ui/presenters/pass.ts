/** Pass reports as text: the verbs of its actions, the command's summary, the daemon's log lines. */
import type {PassActionKind, PassReport} from '../../core/reconcile/report.js'
import {paint} from '../style.js'

/** The past-tense verb of each action, for log lines and reports. */
export const ACTION_VERBS: Readonly<Record<PassActionKind, string>> = {
  place: 'placed',
  start: 'started',
  adopt: 'adopted',
  stop: 'stopped',
  end: 'ended',
  unreachable: 'unreachable',
  move: 'moving',
  health: 'health',
  'remove-orphan': 'removed orphan',
  preempt: 'preempted',
  'remove-network': 'removed network',
  drain: 'draining',
}

/** The same in the plan's words (`schedule --dry-run`: "would ..."). */
export const PLAN_VERBS: Readonly<Record<PassActionKind, string>> = {
  place: 'place',
  start: 'start',
  adopt: 'adopt',
  stop: 'stop',
  end: 'end',
  unreachable: 'give up on',
  move: 'move',
  health: 'health',
  'remove-orphan': 'remove orphan',
  preempt: 'preempt',
  'remove-network': 'remove network',
  drain: 'drain',
}

export function renderPass(pass: PassReport, color: boolean): string {
  const lines: string[] = []
  for (const a of pass.actions) {
    const who = `${a.job}${a.instance === null ? '' : `.${a.instance}`}`
    const mark = a.ok ? '' : paint.error(' FAILED', color)
    const verb = (pass.dryRun ? PLAN_VERBS : ACTION_VERBS)[a.kind]
    lines.push(`${pass.dryRun ? 'would ' : ''}${verb.padEnd(pass.dryRun ? 8 : 14)} ${who.padEnd(20)} ${a.node ? `on ${a.node}` : ''}  ${a.detail}${mark}`.trimEnd())
  }

  for (const n of pass.nodes) lines.unshift(`node ${n.node.padEnd(14)} ${n.from} -> ${paint.nodeState(n.to, color)}: ${n.reason}`)
  if (pass.autoDrain) lines.push(`${paint.warn(`auto-${pass.autoDrain.kind}`, color)}  node ${pass.autoDrain.node}: ${pass.autoDrain.why}`)
  for (const c of pass.conditions ?? []) lines.push(`${c.kind === 'cleared' ? 'cleared' : c.severity === 'critical' ? paint.error('critical', color) : paint.warn(c.severity, color)}  node ${c.node}: ${conditionText(c)}`)
  for (const r of pass.runs ?? []) lines.push(`${pass.dryRun ? 'would: ' : ''}${r.type.padEnd(14)} ${(r.run ?? r.job).padEnd(20)} ${r.message}`)
  for (const r of pass.rollouts ?? []) lines.push(`${`rollout ${r.state}`.padEnd(14)} ${`${r.job} v${r.version}`.padEnd(20)} ${r.message}`)
  for (const b of pass.backoff) lines.push(`${paint.warn('back-off', color)}       ${`${b.job}.${b.instance}`.padEnd(20)} restarts after ${new Date(b.until).toISOString()}: ${b.why}`)
  for (const w of pass.waiting ?? []) lines.push(`${paint.warn('waiting', color)}        ${w.job.padEnd(20)} ${w.why}`)
  for (const p of pass.pending) lines.push(`${paint.warn('pending', color)}        ${`${p.job}.${p.instance}`.padEnd(20)} ${p.reason}`)
  for (const u of pass.unobserved) lines.push(`${paint.warn('unreachable', color)}    node ${u.node}: ${u.error}`)
  for (const e of pass.edges ?? []) {
    if (!e.ok) lines.push(`${paint.warn('edge', color)}           node ${e.node}: ${e.error ?? 'not synced'}`)
    else if (e.events.length > 0 || e.commands > 0) lines.push(`${'edge'.padEnd(14)} node ${e.node}: ${[...e.events, ...(e.commands > 0 ? [`${e.commands} runtime-API command${e.commands === 1 ? '' : 's'}`] : [])].join(', ')}`)
  }
  if (pass.convergedBy) lines.unshift(`A daemon (pid ${pass.convergedBy.pid} on ${pass.convergedBy.hostname}) converges this cluster: the change was recorded, and its pass that started at ${new Date(pass.convergedBy.passStartedAt).toISOString()} applied it:`)
  if (lines.length === 0) lines.push('Nothing to do: the cluster matches the desired state.')
  const t = pass.totals
  if (pass.dryRun && t) lines.push(`totals: ${t.placed} placed, ${t.pending} pending, ${t.nodesUsed} node${t.nodesUsed === 1 ? '' : 's'} used`)
  return lines.join('\n')
}

/** The daemon's log lines for one pass: node state changes, then one line per action. */
export function passLogLines(pass: PassReport): string[] {
  const nodes = pass.nodes.map((n) => `node ${n.node}: ${n.from} -> ${n.to} (${n.reason})`)
  const conditions = [...(pass.conditions ?? []).map((c) => `node ${c.node}: ${conditionText(c)}`), ...(pass.autoDrain ? [`node ${pass.autoDrain.node}: auto-${pass.autoDrain.kind}: ${pass.autoDrain.why}`] : [])]
  const runs = (pass.runs ?? []).map((r) => `${r.type} ${r.run ?? r.job}: ${r.message}`)
  const rollouts = (pass.rollouts ?? []).map((r) => `rollout ${r.job} v${r.version} ${r.state}: ${r.message}`)
  const edges = (pass.edges ?? []).filter((e) => !e.ok || e.events.length > 0 || e.commands > 0).map((e) => `edge ${e.node}: ${e.ok ? [...e.events, ...(e.commands > 0 ? [`${e.commands} runtime-API command${e.commands === 1 ? '' : 's'}`] : [])].join(', ') : `not synced: ${e.error ?? 'unknown error'}`}`)
  return [...nodes, ...conditions, ...runs, ...rollouts, ...edges, ...pass.actions.map((a) => `${ACTION_VERBS[a.kind]} ${a.job}${a.instance === null ? '' : `.${a.instance}`}${a.node ? ` on ${a.node}` : ''}: ${a.detail}${a.ok ? '' : ' (FAILED)'}`)]
}

/** A condition change in a line: `DiskPressure raised (warning): /var/lib/containers 4% free ...`. */
function conditionText(c: NonNullable<PassReport['conditions']>[number]): string {
  return `${c.type} ${c.kind === 'changed' ? `now ${c.severity}` : c.kind}${c.kind === 'raised' ? ` (${c.severity})` : ''}: ${c.message}`
}
