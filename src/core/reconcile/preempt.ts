/**
 * Priorities and budgeted preemption (pure; docs/teams.md "Priorities and preemption").
 *
 * A task pending for at least the preemption delay (default 3 min: brief pressure kills
 * nothing) may stop running tasks of a priority at least PRIORITY_GAP lower to make room
 * on one node. Victims: the smallest set on one node, lowest priority first, never more
 * of a service than its disruption budget lets go. A job with `preemption: never` does
 * not preempt. The scheduler then checks the preemptor fits that node once the victims
 * are gone (constraints, ports), so a preemption is never wasted.
 */
import {rolloutBounds} from '../model/job.js'
import type {Job, Task} from '../model/task.js'
import {DEFAULT_PRIORITY} from '../model/team.js'
import {addResources, fitsWithin, type Resources, subtractResources, ZERO_RESOURCES} from '../model/resources.js'

export const DEFAULT_PREEMPTION_DELAY_MS = 180_000
/** A preemptor's priority must exceed each victim's by at least this much. */
export const PRIORITY_GAP = 10

export interface VictimCandidate {
  taskId: string
  jobId: string
  nodeId: string
  priority: number
  resources: Resources
}

export interface PreemptNode {
  id: string
  name: string
  /** allocatable - allocated (what running tasks and this pass's placements hold). */
  free: Resources
}

export interface VictimChoice {
  nodeId: string
  victims: VictimCandidate[]
}

/** How many more tasks of each job may be stopped now (absent: any number, e.g. batch jobs). */
export type Budgets = ReadonlyMap<string, number>

const size = (r: Resources): number => r.cpuMilli / 1000 + r.memBytes / 1024 ** 3 + r.diskBytes / 1024 ** 4 + r.gpus * 8

/**
 * The victims on one node for a request: lowest priority first (then largest, then id),
 * within the budgets, then pruned of any the request does not need. Null when the node
 * cannot make room, or has room already (preempting would not help).
 */
export function victimsOnNode(need: Resources, priority: number, node: PreemptNode, running: readonly VictimCandidate[], budgets: Budgets): VictimCandidate[] | null {
  if (fitsWithin(need, node.free)) return null
  const eligible = running
    .filter((v) => v.nodeId === node.id && v.priority <= priority - PRIORITY_GAP)
    .sort((a, b) => a.priority - b.priority || size(b.resources) - size(a.resources) || (a.taskId < b.taskId ? -1 : 1))
  const taken: VictimCandidate[] = []
  const used = new Map<string, number>()
  let free = node.free
  for (const v of eligible) {
    if (fitsWithin(need, free)) break
    const budget = budgets.get(v.jobId)
    if (budget !== undefined && (used.get(v.jobId) ?? 0) >= budget) continue
    taken.push(v)
    used.set(v.jobId, (used.get(v.jobId) ?? 0) + 1)
    free = addResources(free, v.resources)
  }

  if (!fitsWithin(need, free)) return null
  // Drop the ones not needed after all, the highest priority first.
  for (let i = taken.length - 1; i >= 0; i--) {
    const without = subtractResources(free, taken[i]!.resources)
    if (fitsWithin(need, without)) {
      free = without
      taken.splice(i, 1)
    }
  }

  return taken
}

/**
 * The node needing the fewest victims (ties: the lower highest victim priority, the less
 * taken away, the node name) whose victims `accept` agrees to (the scheduler's check).
 */
export function chooseVictims(need: Resources, priority: number, nodes: readonly PreemptNode[], running: readonly VictimCandidate[], budgets: Budgets, accept: (choice: VictimChoice) => boolean = () => true): VictimChoice | null {
  const options: Array<{choice: VictimChoice; key: [number, number, number, string]}> = []
  for (const node of nodes) {
    const victims = victimsOnNode(need, priority, node, running, budgets)
    if (victims === null || victims.length === 0) continue
    const taken = victims.reduce((r, v) => addResources(r, v.resources), ZERO_RESOURCES)
    options.push({choice: {nodeId: node.id, victims}, key: [victims.length, Math.max(...victims.map((v) => v.priority)), size(taken), node.name]})
  }

  options.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2] || (a.key[3] < b.key[3] ? -1 : a.key[3] > b.key[3] ? 1 : 0))
  return options.find((o) => accept(o.choice))?.choice ?? null
}

export const priorityOf = (job: Pick<Job, 'spec'>): number => job.spec.priority ?? DEFAULT_PRIORITY

/**
 * What each service may lose now: the instances its upgrade strategy lets be unavailable
 * (the rollout's maxUnavailable, rolloutBounds) minus those
 * already not running. Batch jobs have no budget (absent).
 */
export function disruptionBudgets(jobs: Iterable<Job>, running: readonly Pick<Task, 'jobId' | 'state'>[]): Map<string, number> {
  const up = new Map<string, number>()
  for (const t of running) if (t.state === 'running') up.set(t.jobId, (up.get(t.jobId) ?? 0) + 1)
  const out = new Map<string, number>()
  for (const job of jobs) {
    if (job.kind !== 'service') continue
    const n = job.instances
    const allowed = rolloutBounds(job.spec.upgrade, n).maxUnavailable
    out.set(job.id, Math.max(0, allowed - Math.max(0, n - (up.get(job.id) ?? 0))))
  }

  return out
}
