/**
 * Builders for scheduler tests, fast-check arbitraries, and an independent checker of
 * plans: it re-derives every rule from the specification (PRODUCT.md, Marathon's
 * constraint docs) without using the scheduler's own code.
 */
import fc from 'fast-check'

import type {Resources} from '../../../../src/core/model/resources.js'
import type {
  Constraint,
  NodeState,
  PlacedTask,
  Plan,
  Preference,
  SchedNode,
  Snapshot,
  Strategy,
  TaskRequest,
} from '../../../../src/core/scheduler/types.js'

export const Gi = 1024 ** 3
export const Mi = 1024 ** 2

export function res(cpuMilli: number, memBytes: number, diskBytes = 0, gpus = 0): Resources {
  return {cpuMilli, memBytes, diskBytes, gpus}
}

export interface NodeInit {
  state?: NodeState
  labels?: Record<string, string>
  allocatable?: Resources
  allocated?: Resources
  usedPorts?: number[]
  host?: string
  blockedBy?: string
}

export function node(name: string, init: NodeInit = {}): SchedNode {
  return {
    id: `id-${name}`,
    name,
    state: init.state ?? 'ready',
    labels: init.labels ?? {},
    allocatable: init.allocatable ?? res(4000, 8 * Gi, 100 * Gi),
    allocated: init.allocated ?? res(0, 0),
    usedPorts: init.usedPorts ?? [],
    ...(init.host === undefined ? {} : {host: init.host}),
    ...(init.blockedBy === undefined ? {} : {blockedBy: init.blockedBy}),
  }
}

export interface TaskInit {
  jobId?: string
  instance?: number
  resources?: Resources
  ports?: number
  constraints?: Constraint[]
  preferences?: Preference[]
  strategy?: Strategy
}

export function task(taskId: string, init: TaskInit = {}): TaskRequest {
  return {
    taskId,
    jobId: init.jobId ?? 'job',
    instance: init.instance ?? 0,
    resources: init.resources ?? res(500, 512 * Mi),
    ports: init.ports ?? 0,
    constraints: init.constraints ?? [],
    preferences: init.preferences ?? [],
    ...(init.strategy ? {strategy: init.strategy} : {}),
  }
}

/** `count` instances of one job sharing one request. */
export function instances(jobId: string, count: number, init: Omit<TaskInit, 'jobId' | 'instance'> = {}): TaskRequest[] {
  return Array.from({length: count}, (_, i) => task(`${jobId}.${i}`, {...init, jobId, instance: i}))
}

/** Node name per task id. */
export function where(plan: Plan, snapshot: Snapshot): Record<string, string> {
  const names = new Map(snapshot.nodes.map((n) => [n.id, n.name]))
  return Object.fromEntries(plan.placements.map((p) => [p.taskId, names.get(p.nodeId)!]))
}

// ---------------------------------------------------------------------------------------
// Independent reference semantics

export function fieldValue(n: SchedNode, field: string): string | undefined {
  if (field === 'hostname') return n.name
  return Object.prototype.hasOwnProperty.call(n.labels, field) ? n.labels[field] : undefined
}

/** Does `value` (the candidate node's) satisfy `c`, given the values of the job's tasks so far? */
export function constraintHolds(c: Constraint, value: string | undefined, jobValues: ReadonlyArray<string | undefined>): boolean {
  if (value === undefined) return c.operator === 'UNLIKE' // Marathon: only UNLIKE accepts a node without the field
  const count = (v: string) => jobValues.filter((x) => x === v).length
  switch (c.operator) {
    case 'IS':
      return value === c.value
    case 'LIKE':
      return new RegExp(`^(?:${c.value})$`).test(value)
    case 'UNLIKE':
      return !new RegExp(`^(?:${c.value})$`).test(value)
    case 'UNIQUE':
      return count(value) === 0
    case 'MAX_PER':
      return count(value) < Number(c.value)
    case 'CLUSTER':
      return (c.value === undefined || value === c.value) && jobValues.every((v) => v === value)
    case 'GROUP_BY': {
      if (count(value) === 0) return true
      const groups = new Map<string, number>()
      for (const v of jobValues) if (v !== undefined) groups.set(v, (groups.get(v) ?? 0) + 1)
      const min = Math.min(...groups.values())
      return groups.size >= Number(c.value ?? 0) && count(value) === min
    }
  }
}

/**
 * Checks a plan against the specification; returns the problems found (empty = valid).
 * Placements are replayed in plan order, so constraints are judged against the tasks of
 * the job already placed (snapshot + earlier placements), as the scheduler must.
 */
export function planProblems(snapshot: Snapshot, work: readonly TaskRequest[], plan: Plan, portRange = {from: 31000, to: 32000}): string[] {
  const problems: string[] = []
  const nodes = new Map(snapshot.nodes.map((n) => [n.id, n]))
  const tasks = new Map(work.map((t) => [t.taskId, t]))
  const seen = new Set<string>()
  for (const id of [...plan.placements.map((p) => p.taskId), ...plan.pending.map((p) => p.taskId)]) {
    if (seen.has(id)) problems.push(`task ${id} appears twice`)
    seen.add(id)
  }
  for (const t of work) if (!seen.has(t.taskId)) problems.push(`task ${t.taskId} is neither placed nor pending`)

  const used = new Map<string, Resources>()
  // Host ports per machine: nodes with the same `host` share one port space.
  const ports = new Map<string, Set<number>>()
  const space = (n: SchedNode): string => (n.host === undefined ? `node:${n.id}` : `host:${n.host}`)
  const initial = (n: SchedNode): Set<number> => new Set(snapshot.nodes.filter((m) => space(m) === space(n)).flatMap((m) => m.usedPorts))
  const jobNodes = new Map<string, SchedNode[]>()
  for (const p of snapshot.placed) {
    const n = nodes.get(p.nodeId)
    if (n) jobNodes.set(p.jobId, [...(jobNodes.get(p.jobId) ?? []), n])
  }
  for (const p of plan.placements) {
    const n = nodes.get(p.nodeId)
    const t = tasks.get(p.taskId)
    if (!n || !t) {
      problems.push(`placement ${p.taskId} -> ${p.nodeId} names an unknown task or node`)
      continue
    }
    if (n.state !== 'ready') problems.push(`${t.taskId} placed on ${n.name}, which is ${n.state}`)
    if (n.blockedBy !== undefined) problems.push(`${t.taskId} placed on ${n.name}, which has the condition ${n.blockedBy}`)
    const u = used.get(n.id) ?? res(0, 0)
    const after = res(u.cpuMilli + t.resources.cpuMilli, u.memBytes + t.resources.memBytes, u.diskBytes + t.resources.diskBytes, u.gpus + t.resources.gpus)
    used.set(n.id, after)
    for (const d of ['cpuMilli', 'memBytes', 'diskBytes', 'gpus'] as const) {
      if (n.allocated[d] + after[d] > n.allocatable[d]) problems.push(`${n.name} overcommitted in ${d} after ${t.taskId}`)
    }
    const taken = ports.get(space(n)) ?? initial(n)
    if (p.hostPorts.length !== t.ports) problems.push(`${t.taskId} got ${p.hostPorts.length} ports, asked ${t.ports}`)
    for (const port of p.hostPorts) {
      if (port < portRange.from || port > portRange.to) problems.push(`${t.taskId} got port ${port} outside ${portRange.from}-${portRange.to}`)
      if (taken.has(port)) problems.push(`${t.taskId} got port ${port}, already taken on ${n.name}${n.host === undefined ? '' : ` (host ${n.host})`}`)
      taken.add(port)
    }
    ports.set(space(n), taken)
    const before = jobNodes.get(t.jobId) ?? []
    for (const c of t.constraints) {
      const field = c.field === '@hostname' ? 'hostname' : c.field
      const cc = {...c, field}
      if (!constraintHolds(cc, fieldValue(n, field), before.map((b) => fieldValue(b, field)))) {
        problems.push(`${t.taskId} on ${n.name} breaks ${field}:${c.operator}${c.value === undefined ? '' : `:${c.value}`}`)
      }
    }
    jobNodes.set(t.jobId, [...before, n])
  }
  // Pending summaries against the final state, recomputed from the spec.
  const freeOf = (n: SchedNode) => {
    const u = used.get(n.id) ?? res(0, 0)
    const inRange = new Set([...(ports.get(space(n)) ?? initial(n))].filter((x) => x >= portRange.from && x <= portRange.to))
    return {
      cpu: n.allocatable.cpuMilli - n.allocated.cpuMilli - u.cpuMilli,
      mem: n.allocatable.memBytes - n.allocated.memBytes - u.memBytes,
      disk: n.allocatable.diskBytes - n.allocated.diskBytes - u.diskBytes,
      gpus: n.allocatable.gpus - n.allocated.gpus - u.gpus,
      ports: portRange.to - portRange.from + 1 - inRange.size,
    }
  }
  for (const p of plan.pending) {
    const t = tasks.get(p.taskId)
    if (t !== undefined) {
      const want = referenceSummary(snapshot.nodes, t, jobNodes.get(t.jobId) ?? [], freeOf)
      const got = {counts: p.counts, maxFree: Object.fromEntries(p.details.filter((d) => d.maxFree !== undefined).map((d) => [d.reason, d.maxFree]))}
      if (JSON.stringify(sortKeys(got)) !== JSON.stringify(sortKeys(want))) problems.push(`${p.taskId} summary ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
    }
    if (p.reason.trim() === '') problems.push(`${p.taskId} pending without a reason`)
    const total = Object.values(p.counts).reduce((a, b) => a + (b ?? 0), 0)
    if (total !== snapshot.nodes.length) problems.push(`${p.taskId} counts add up to ${total}, not ${snapshot.nodes.length}: ${p.reason}`)
    if (!p.reason.startsWith(`0/${snapshot.nodes.length} nodes fit`)) problems.push(`${p.taskId} reason does not start with 0/N nodes fit: ${p.reason}`)
  }
  return problems
}

function sortKeys(x: {counts: object; maxFree: object}): unknown {
  const sort = (o: object) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)))
  return {counts: sort(x.counts), maxFree: sort(x.maxFree)}
}

const OPERATOR_REASON = {
  UNIQUE: 'constraint-unique',
  CLUSTER: 'constraint-cluster',
  GROUP_BY: 'constraint-group-by',
  LIKE: 'constraint-like',
  UNLIKE: 'constraint-unlike',
  MAX_PER: 'constraint-max-per',
  IS: 'constraint-is',
} as const

/**
 * Each node under the first reason that refuses it, in the documented order: node state;
 * constraints, label parts first (field present, IS/LIKE/UNLIKE/CLUSTER's value), then
 * the parts that count the job's tasks; cpus, mem, disk, gpus; host ports. Resource and
 * port reasons also report the most any refusing node has free.
 */
export function referenceSummary(
  nodes: readonly SchedNode[],
  t: TaskRequest,
  jobNodes: readonly SchedNode[],
  freeOf: (n: SchedNode) => {cpu: number; mem: number; disk: number; gpus: number; ports: number},
): {counts: Record<string, number>; maxFree: Record<string, number>} {
  const counts: Record<string, number> = {}
  const maxFree: Record<string, number> = {}
  const labelOnly = (c: Constraint, v: string) =>
    c.operator === 'IS' || c.operator === 'LIKE' || c.operator === 'UNLIKE' || (c.operator === 'CLUSTER' && c.value !== undefined)
      ? constraintHolds(c.operator === 'CLUSTER' ? {...c, operator: 'IS'} : c, v, [])
      : true
  for (const n of nodes) {
    let reason: string | undefined
    let free: number | undefined
    if (n.state !== 'ready') reason = `node-${n.state}`
    else if (n.blockedBy !== undefined) reason = 'node-condition'
    for (const c of reason === undefined ? t.constraints : []) {
      const v = fieldValue(n, c.field)
      if (v === undefined && c.operator !== 'UNLIKE') reason = 'constraint-missing-field'
      else if (v !== undefined && !labelOnly(c, v)) reason = OPERATOR_REASON[c.operator]
      if (reason !== undefined) break
    }
    for (const c of reason === undefined ? t.constraints : []) {
      const values = jobNodes.map((j) => fieldValue(j, c.field))
      if (!constraintHolds(c, fieldValue(n, c.field), values)) reason = OPERATOR_REASON[c.operator]
      if (reason !== undefined) break
    }
    if (reason === undefined) {
      const f = freeOf(n)
      const r = t.resources
      const amounts: Array<[string, number, number]> = [
        ['insufficient-cpu', f.cpu, r.cpuMilli],
        ['insufficient-mem', f.mem, r.memBytes],
        ['insufficient-disk', f.disk, r.diskBytes],
        ['insufficient-gpus', f.gpus, r.gpus],
        ...(t.ports > 0 ? [['insufficient-ports', f.ports, t.ports] as [string, number, number]] : []),
      ]
      const short = amounts.find(([, have, need]) => have < need)
      if (short !== undefined) [reason, free] = short
    }
    if (reason === undefined) reason = 'fits'
    counts[reason] = (counts[reason] ?? 0) + 1
    if (free !== undefined) maxFree[reason] = Math.max(maxFree[reason] ?? 0, free)
  }
  return {counts, maxFree}
}

// ---------------------------------------------------------------------------------------
// Arbitraries: small clusters where every rule gets exercised

const STATES: NodeState[] = ['ready', 'ready', 'ready', 'ready', 'ready', 'cordoned', 'draining', 'suspect', 'down', 'unreachable']

export const arbNode = (i: number) =>
  fc
    .record({
      state: fc.constantFrom(...STATES),
      rack: fc.option(fc.constantFrom('r1', 'r2', 'r3'), {nil: undefined, freq: 8}),
      zone: fc.constantFrom('a', 'b'),
      cpu: fc.integer({min: 1, max: 8}),
      mem: fc.integer({min: 1, max: 8}),
      gpus: fc.constantFrom(0, 0, 0, 1, 2),
      usedCpu: fc.integer({min: 0, max: 9}),
      usedMem: fc.integer({min: 0, max: 8}),
      usedPorts: fc.subarray([31000, 31001, 31002, 30000]),
      // Some nodes share a machine (several names for one address): one port space.
      host: fc.option(fc.constantFrom('m1', 'm2'), {nil: undefined, freq: 2}),
      // Now and then a health condition keeps new work off the node (docs/health.md).
      blockedBy: fc.constantFrom<string | undefined>(undefined, undefined, undefined, undefined, undefined, 'DiskPressure', 'SMARTFailing'),
    })
    .map(
      (r): SchedNode =>
        node(`n${i}`, {
          state: r.state,
          labels: r.rack === undefined ? {zone: r.zone} : {zone: r.zone, rack: r.rack},
          allocatable: res(r.cpu * 1000, r.mem * Gi, 10 * Gi, r.gpus),
          // Sometimes more than allocatable: an overcommitted node must take nothing.
          allocated: res(r.usedCpu * 600, Math.min(r.usedMem, r.mem) * 512 * Mi, 0, 0),
          usedPorts: r.usedPorts,
          ...(r.host === undefined ? {} : {host: r.host}),
          ...(r.blockedBy === undefined ? {} : {blockedBy: r.blockedBy}),
        }),
    )

export const arbConstraint: fc.Arbitrary<Constraint> = fc.oneof(
  fc.constantFrom<Constraint>(
    {field: 'hostname', operator: 'UNIQUE'},
    {field: 'rack', operator: 'UNIQUE'},
    {field: 'rack', operator: 'CLUSTER'},
    {field: 'rack', operator: 'CLUSTER', value: 'r2'},
    {field: 'hostname', operator: 'CLUSTER'},
    {field: 'rack', operator: 'GROUP_BY'},
    {field: 'zone', operator: 'GROUP_BY'},
    {field: 'rack', operator: 'GROUP_BY', value: '3'},
    {field: 'hostname', operator: 'GROUP_BY'},
    {field: 'rack', operator: 'LIKE', value: 'r[12]'},
    {field: 'hostname', operator: 'LIKE', value: 'n[0-4]'},
    {field: 'rack', operator: 'UNLIKE', value: 'r1'},
    {field: 'zone', operator: 'IS', value: 'a'},
  ),
  fc.integer({min: 1, max: 3}).map((n): Constraint => ({field: 'rack', operator: 'MAX_PER', value: String(n)})),
  fc.integer({min: 1, max: 2}).map((n): Constraint => ({field: 'hostname', operator: 'MAX_PER', value: String(n)})),
)

const arbJob = fc.record({
  /** Two entries with the same id make one job with two request shapes. */
  id: fc.integer({min: 0, max: 3}),
  cpu: fc.integer({min: 0, max: 6}),
  mem: fc.integer({min: 0, max: 6}),
  gpus: fc.constantFrom(0, 0, 0, 1),
  ports: fc.constantFrom(0, 0, 1, 2),
  instances: fc.integer({min: 1, max: 6}),
  constraints: fc.array(arbConstraint, {maxLength: 2}),
  preferences: fc.array(fc.record({field: fc.constantFrom('zone', 'rack'), value: fc.constantFrom('a', 'b', 'r1', 'r3'), weight: fc.integer({min: 1, max: 3})}), {maxLength: 2}),
  strategy: fc.constantFrom<Strategy | undefined>(undefined, 'binpack', 'spread'),
})

export interface Case {
  snapshot: Snapshot
  work: TaskRequest[]
  seed: number
  portRange: {from: number; to: number}
}

export const arbCase: fc.Arbitrary<Case> = fc
  .record({
    nodeCount: fc.integer({min: 0, max: 10}),
    jobs: fc.array(arbJob, {minLength: 1, maxLength: 4}),
    placed: fc.array(fc.record({job: fc.integer({min: 0, max: 3}), node: fc.nat()}), {maxLength: 6}),
    seed: fc.integer({min: 0, max: 2 ** 31}),
    narrowPorts: fc.boolean(),
  })
  .chain((r) =>
    fc.tuple(...Array.from({length: r.nodeCount}, (_, i) => arbNode(i))).map((nodes): Case => {
      const placed: PlacedTask[] = nodes.length === 0 ? [] : r.placed.map((p, k) => ({taskId: `old${k}`, jobId: `j${p.job}`, nodeId: nodes[p.node % nodes.length]!.id}))
      const work = r.jobs.flatMap((j, k) =>
        instances(`j${j.id}`, j.instances, {
          resources: res(j.cpu * 250, j.mem * 256 * Mi, 0, j.gpus),
          ports: j.ports,
          constraints: j.constraints,
          preferences: j.preferences,
          ...(j.strategy ? {strategy: j.strategy} : {}),
        }).map((t) => ({...t, taskId: `s${k}.${t.taskId}`})),
      )
      return {snapshot: {nodes, placed}, work, seed: r.seed, portRange: r.narrowPorts ? {from: 31000, to: 31003} : {from: 31000, to: 32000}}
    }),
  )
