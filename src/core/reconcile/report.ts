/**
 * What a reconcile pass did (or, dry-run, would do): plain data that commands, the
 * daemon and presenters read without importing the pass itself.
 */
import type {Task} from '../model/task.js'
import type {RunEvent} from '../schedule/runs.js'
import type {NodeTransition} from './heartbeat.js'

export type PassActionKind = 'place' | 'start' | 'adopt' | 'stop' | 'end' | 'unreachable' | 'move' | 'health' | 'remove-orphan' | 'preempt' | 'remove-network' | 'drain'

export interface PassAction {
  kind: PassActionKind
  job: string
  instance: number | null
  taskId: string | null
  node: string | null
  detail: string
  ok: boolean
}

export interface PassReport {
  dryRun: boolean
  /** The scheduler's seed this pass (`schedule --dry-run --seed N` replays its placements). */
  seed?: number
  actions: PassAction[]
  /** Tasks left pending, with the reason a human can act on. */
  pending: Array<{job: string; instance: number; taskId: string; reason: string; counts: Record<string, number>}>
  /** Nodes that could not be observed this pass. */
  unobserved: Array<{node: string; error: string}>
  /** Node state changes this pass (heartbeats). */
  nodes: Array<{node: string} & NodeTransition>
  /** Instances waiting out their restart back-off. */
  backoff: Array<{job: string; instance: number; until: number; why: string}>
  /** Jobs whose start waits for the jobs they depend on (spec `dependsOn`), and why. */
  waiting?: Array<{job: string; why: string}>
  /** Runs of scheduled and dependent jobs: what happened to them this pass (or would, dry-run). */
  runs?: RunEvent[]
  /** The plan's totals: tasks placed this pass, tasks left pending, nodes that hold live tasks once it is applied. */
  totals?: {placed: number; pending: number; nodesUsed: number}
  /** Node conditions the health probe raised, changed or cleared this pass (docs/health.md). */
  conditions?: Array<{node: string; kind: 'raised' | 'changed' | 'cleared'; type: string; severity: string; message: string}>
  /** `daemon --auto-drain`'s decision this pass: a node drained, or only cordoned, and why. */
  autoDrain?: {kind: 'drain' | 'cordon'; node: string; why: string}
  /** Deployments that progressed, ended or rolled back this pass. */
  rollouts?: Array<{job: string; version: number; state: string; message: string}>
  /** The edge proxies this pass (docs/endpoints.md): what changed on each, or why it could not be synced (it keeps serving what it had). */
  edges?: Array<{node: string; ok: boolean; error: string | null; events: string[]; commands: number}>
  /** True when the pass changed nothing. */
  unchanged: boolean
  /** Set when a running daemon did the work: the command recorded the change and this is the daemon's first pass that started after it. */
  convergedBy?: {pid: number; hostname: string; passStartedAt: number}
}

export function emptyReport(dryRun: boolean, seed: number): PassReport {
  return {dryRun, seed, actions: [], pending: [], unobserved: [], nodes: [], backoff: [], unchanged: true}
}

/** One action on a task. */
export function taskAction(kind: PassActionKind, job: string, task: Pick<Task, 'id' | 'instance'>, node: string | null, detail: string, ok = true): PassAction {
  return {kind, job, instance: task.instance, taskId: task.id, node, detail, ok}
}

/** Whether the pass changed nothing: no action, no node state change. */
export function isUnchanged(report: Pick<PassReport, 'actions' | 'nodes' | 'runs' | 'rollouts'>): boolean {
  return report.actions.length === 0 && report.nodes.length === 0 && (report.runs ?? []).length === 0 && (report.rollouts ?? []).length === 0
}
