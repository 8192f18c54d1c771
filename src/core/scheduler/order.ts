/**
 * The order in which pending work is offered to the node search: weighted Dominant
 * Resource Fairness between teams (Ghodsi et al., NSDI 2011) under hard quotas, and
 * within a team the highest priority first, then the largest request first.
 *
 * Pure, and separate from the search and the scorers: it decides only which task is
 * tried next and which may not be tried at all (over quota). The engine tells it what
 * became of each task (`settle`), because DRF is progressive filling: a team's share
 * grows only by what it actually got, so a team whose next task did not fit keeps its
 * turn for its other tasks, and the cluster's leftovers go to whoever can use them.
 */
import {formatBytes, formatCpu, type Resources, ZERO_RESOURCES} from '../model/resources.js'
import {DEFAULT_PRIORITY, DEFAULT_TEAM} from '../model/team.js'

/** A team's standing when the pass starts. */
export interface TeamShare {
  name: string
  /** > 0; a team of weight 2 is entitled to twice the dominant share of a team of weight 1. */
  weight: number
  /** Hard limits on what the team's live tasks may hold together; an absent dimension is unlimited. */
  quota?: Partial<Resources>
  /** What the team's placed tasks hold already. */
  allocated: Resources
  /** How many placed tasks it has (the first tie-break). */
  running: number
}

/** What the ordering needs of one pending task. */
export interface OrderedTask {
  team?: string | undefined
  /** 1..100, higher first within a team (default 50). */
  priority?: number | undefined
  resources: Resources
}

export interface OrderOptions {
  /** The whole cluster's resources: dominant shares are fractions of these. */
  total: Resources
  /** Known teams; a team that appears only in `work` gets weight 1, no quota, nothing allocated. */
  teams?: readonly TeamShare[]
  /** Per task, the size `largest-first` sorts by; absent: keep the order of `work` within a priority. */
  size?: (index: number) => number
}

export interface QuotaRefusal {
  team: string
  /** e.g. `team data over quota: cpus 12/12` */
  reason: string
  dimension: keyof Resources
  used: number
  quota: number
  need: number
}

const DIMENSIONS: ReadonlyArray<keyof Resources> = ['cpuMilli', 'memBytes', 'diskBytes', 'gpus']
const NAMES: Record<keyof Resources, string> = {cpuMilli: 'cpus', memBytes: 'mem', diskBytes: 'disk', gpus: 'gpus'}

/** max over the dimensions of allocated/total (dimensions the cluster has none of do not count). */
export function dominantShare(allocated: Resources, total: Resources): number {
  let share = 0
  for (const d of DIMENSIONS) if (total[d] > 0) share = Math.max(share, allocated[d] / total[d])
  return share
}

/** The first dimension in which `allocated + need` exceeds the quota, or null. */
export function quotaExceeded(team: string, allocated: Resources, need: Resources, quota: Partial<Resources> | undefined): QuotaRefusal | null {
  if (!quota) return null
  for (const d of DIMENSIONS) {
    const limit = quota[d]
    if (limit === undefined || allocated[d] + need[d] <= limit) continue
    const f = (v: number): string => (d === 'cpuMilli' ? formatCpu(v) : d === 'gpus' ? String(v) : formatBytes(v))
    const full = allocated[d] >= limit
    return {team, dimension: d, used: allocated[d], quota: limit, need: need[d], reason: `team ${team} over quota: ${NAMES[d]} ${f(allocated[d])}/${f(limit)}${full ? '' : ` (needs ${f(need[d])} more)`}`}
  }

  return null
}

interface TeamQueue {
  readonly name: string
  readonly weight: number
  readonly quota: Partial<Resources> | undefined
  allocated: Resources
  running: number
  share: number
  readonly tasks: number[]
  head: number
}

/**
 * The work queue of one scheduling run: `next()` gives the index of the task to try,
 * `settle(index, placed)` reports the outcome. Tasks over their team's quota are never
 * given out; they are in `refused` with the reason.
 */
export class WorkOrder {
  readonly refused = new Map<number, QuotaRefusal>()
  private readonly queues: TeamQueue[]
  private readonly teamOf: TeamQueue[]

  constructor(
    private readonly work: readonly OrderedTask[],
    private readonly options: OrderOptions,
  ) {
    const byName = new Map<string, TeamQueue>()
    const queue = (name: string, t?: TeamShare): TeamQueue => {
      let q = byName.get(name)
      if (q === undefined) {
        const allocated = t?.allocated ?? ZERO_RESOURCES
        q = {name, weight: t?.weight ?? 1, quota: t?.quota, allocated, running: t?.running ?? 0, share: 0, tasks: [], head: 0}
        q.share = dominantShare(allocated, options.total) / q.weight
        byName.set(name, q)
      }

      return q
    }

    for (const t of options.teams ?? []) queue(t.name, t)
    this.teamOf = work.map((t) => queue(t.team ?? DEFAULT_TEAM))
    for (let i = 0; i < work.length; i++) this.teamOf[i]!.tasks.push(i)
    const size = options.size
    for (const q of byName.values()) {
      // Stable: equal keys keep the order of `work`, so a job's instances stay together.
      q.tasks.sort((a, b) => priorityOf(work[b]!) - priorityOf(work[a]!) || (size ? size(b) - size(a) : 0))
    }

    this.queues = [...byName.values()].filter((q) => q.tasks.length > 0)
  }

  /** The next task to try, or undefined when every task has been given out or refused. */
  next(): number | undefined {
    for (;;) {
      let best: TeamQueue | undefined
      for (const q of this.queues) {
        if (q.head < q.tasks.length && (best === undefined || before(q, best))) best = q
      }

      if (best === undefined) return undefined
      const index = best.tasks[best.head++]!
      const refusal = quotaExceeded(best.name, best.allocated, this.work[index]!.resources, best.quota)
      if (refusal === null) return index
      this.refused.set(index, refusal)
    }
  }

  /** What became of a task `next()` gave out: a placed task adds to its team's allocation and share. */
  settle(index: number, placed: boolean): void {
    if (!placed) return
    const q = this.teamOf[index]!
    const r = this.work[index]!.resources
    q.allocated = {cpuMilli: q.allocated.cpuMilli + r.cpuMilli, memBytes: q.allocated.memBytes + r.memBytes, diskBytes: q.allocated.diskBytes + r.diskBytes, gpus: q.allocated.gpus + r.gpus}
    q.running++
    q.share = dominantShare(q.allocated, this.options.total) / q.weight
  }
}

const priorityOf = (t: OrderedTask): number => t.priority ?? DEFAULT_PRIORITY

/** DRF's pick: the lowest weighted dominant share; ties: fewer running tasks, then the name. */
function before(a: TeamQueue, b: TeamQueue): boolean {
  // Shares are quotients: equal ones may differ in the last bit (12/18 against 6/9 after a weight).
  if (Math.abs(a.share - b.share) > 1e-12) return a.share < b.share
  if (a.running !== b.running) return a.running < b.running
  return a.name < b.name
}

/** What dominant shares are fractions of: the resources of every node that is up (not down or unreachable). */
export function clusterTotal(nodes: ReadonlyArray<{state: string; allocatable: Resources}>): Resources {
  const total = {cpuMilli: 0, memBytes: 0, diskBytes: 0, gpus: 0}
  for (const n of nodes) {
    if (n.state === 'down' || n.state === 'unreachable') continue
    for (const d of DIMENSIONS) total[d] += n.allocatable[d]
  }

  return total
}
