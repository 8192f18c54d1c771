/** Pure reads of the dashboard state: the rows each view shows, after its filter, and the cluster totals. */
import type {RolloutStatus} from '../../core/model/deployment.js'
import type {ClusterEvent} from '../../core/model/event.js'
import {allocatableOf, type Node, NODE_STATES, type NodeState} from '../../core/model/node.js'
import {addResources, type Resources, ZERO_RESOURCES} from '../../core/model/resources.js'
import type {Job, Task} from '../../core/model/task.js'
import type {DashboardSnapshot} from './types.js'

export interface LogEntry {
  /** Unique in the log: `e<id>` for events, `l<seq>` for daemon lines. */
  key: string
  at: number
  source: 'event' | 'daemon'
  type: string
  subject: string
  message: string
  event: ClusterEvent | null
}

export interface JobRow {
  job: Job
  running: number
  pending: number
  other: number
  /** Its open rollout (running or paused), else null. */
  rollout: RolloutStatus | null
}

export interface NodeRow {
  node: Node
  allocated: Resources
  allocatable: Resources
  tasks: number
}

export interface ClusterSummary {
  nodes: number
  byState: Array<[NodeState, number]>
  allocated: Resources
  allocatable: Resources
  tasksByState: Array<[string, number]>
  unhealthy: number
  jobs: number
  /** `job.instance: reason`, for every pending task. */
  pending: string[]
}

const EMPTY: DashboardSnapshot = {at: 0, nodes: [], jobs: [], tasks: [], events: [], jobRuns: null, rollouts: [], jobDeployments: null}

/** Case-insensitive match of every word of the filter somewhere in the text. */
export function matches(filter: string, text: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean)
  const hay = text.toLowerCase()
  return words.every((w) => hay.includes(w))
}

function placed(t: Task): boolean {
  return t.nodeName !== null && t.state !== 'pending'
}

/** Resources held per node: the job's per-instance request for every live task placed there. */
export function allocationByNode(snapshot: DashboardSnapshot): Map<string, {allocated: Resources; tasks: number}> {
  const jobs = new Map(snapshot.jobs.map((j) => [j.id, j]))
  const out = new Map<string, {allocated: Resources; tasks: number}>()
  for (const t of snapshot.tasks) {
    if (!placed(t)) continue
    const res = jobs.get(t.jobId)?.spec.resources ?? ZERO_RESOURCES
    const cur = out.get(t.nodeName!) ?? {allocated: ZERO_RESOURCES, tasks: 0}
    out.set(t.nodeName!, {allocated: addResources(cur.allocated, res), tasks: cur.tasks + 1})
  }

  return out
}

export function nodeRows(snapshot: DashboardSnapshot | null, filter: string): NodeRow[] {
  const s = snapshot ?? EMPTY
  const alloc = allocationByNode(s)
  return s.nodes
    .filter((n) => matches(filter, `${n.name} ${n.state} ${n.resolvedAddress} ${n.runtime} ${Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`))
    .map((node) => ({node, allocated: alloc.get(node.name)?.allocated ?? ZERO_RESOURCES, allocatable: allocatableOf(node), tasks: alloc.get(node.name)?.tasks ?? 0}))
}

function byJobAndInstance(a: Task, b: Task): number {
  return a.jobName.localeCompare(b.jobName) || a.instance - b.instance || a.createdAt - b.createdAt
}

export function taskRows(snapshot: DashboardSnapshot | null, filter: string, only?: {job?: string; node?: string}): Task[] {
  const s = snapshot ?? EMPTY
  return s.tasks
    .filter((t) => (only?.job === undefined || t.jobName === only.job) && (only?.node === undefined || t.nodeName === only.node))
    .filter((t) => matches(filter, `${t.jobName} ${t.jobName}.${t.instance} ${t.nodeName ?? 'pending'} ${t.state} ${t.health} ${t.id}`))
    .sort(byJobAndInstance)
}

export function jobRows(snapshot: DashboardSnapshot | null, filter: string): JobRow[] {
  const s = snapshot ?? EMPTY
  const rollouts = new Map(s.rollouts.map((r) => [r.job, r]))
  return s.jobs
    .filter((j) => matches(filter, `${j.name} ${j.kind} ${j.state} ${j.spec.image}${rollouts.has(j.name) ? ' rollout' : ''}`))
    .map((job) => {
      const mine = s.tasks.filter((t) => t.jobId === job.id && t.desired === 'run')
      const running = mine.filter((t) => t.state === 'running').length
      const pending = mine.filter((t) => t.state === 'pending').length
      return {job, running, pending, other: mine.length - running - pending, rollout: rollouts.get(job.name) ?? null}
    })
    .sort((a, b) => a.job.name.localeCompare(b.job.name))
}

export function logRows(log: readonly LogEntry[], filter: string): LogEntry[] {
  return log.filter((e) => matches(filter, `${e.type} ${e.subject} ${e.message}`))
}

export function clusterSummary(snapshot: DashboardSnapshot | null): ClusterSummary {
  const s = snapshot ?? EMPTY
  const byState = new Map<NodeState, number>()
  let allocatable: Resources = ZERO_RESOURCES
  for (const n of s.nodes) {
    byState.set(n.state, (byState.get(n.state) ?? 0) + 1)
    // Work on a node that is down or unreachable cannot be counted on.
    if (n.state !== 'down' && n.state !== 'unreachable') allocatable = addResources(allocatable, allocatableOf(n))
  }

  let allocated: Resources = ZERO_RESOURCES
  for (const a of allocationByNode(s).values()) allocated = addResources(allocated, a.allocated)
  const tasksByState = new Map<string, number>()
  for (const t of s.tasks) tasksByState.set(t.state, (tasksByState.get(t.state) ?? 0) + 1)
  return {
    nodes: s.nodes.length,
    byState: NODE_STATES.filter((st) => byState.has(st)).map((st) => [st, byState.get(st)!]),
    allocated,
    allocatable,
    tasksByState: [...tasksByState.entries()],
    unhealthy: s.tasks.filter((t) => t.health === 'unhealthy').length,
    jobs: s.jobs.length,
    pending: s.tasks.filter((t) => t.state === 'pending').sort(byJobAndInstance).map((t) => `${t.jobName}.${t.instance}: ${t.reason ?? 'waiting to be placed'}`),
  }
}

export function findNodeByName(snapshot: DashboardSnapshot | null, name: string): Node | undefined {
  return snapshot?.nodes.find((n) => n.name === name)
}

export function findJobByName(snapshot: DashboardSnapshot | null, name: string): Job | undefined {
  return snapshot?.jobs.find((j) => j.name === name)
}

export function findTaskById(snapshot: DashboardSnapshot | null, id: string): Task | undefined {
  return snapshot?.tasks.find((t) => t.id === id)
}

/** `web.2`: how a person names a task. */
export function taskLabel(t: Pick<Task, 'jobName' | 'instance'>): string {
  return `${t.jobName}.${t.instance}`
}
