/**
 * Generated clusters and workloads for the scheduler benchmark. Deterministic for a seed
 * (the scheduler's own mulberry32), so every run measures the same input.
 */
import type {Resources} from '../src/core/model/resources.js'
import {mulberry32} from '../src/core/scheduler/random.js'
import type {Rng} from '../src/core/scheduler/random.js'
import type {Constraint, NodeState, PlacedTask, Preference, SchedNode, Snapshot, Strategy, TaskRequest} from '../src/core/scheduler/types.js'

export const Gi = 1024 ** 3
export const Mi = 1024 ** 2

const between = (rng: Rng, lo: number, hi: number) => lo + rng() * (hi - lo)
const int = (rng: Rng, lo: number, hi: number) => Math.floor(between(rng, lo, hi + 1))

function res(cpuMilli: number, memBytes: number, diskBytes = 0, gpus = 0): Resources {
  return {cpuMilli: Math.round(cpuMilli), memBytes: Math.round(memBytes), diskBytes: Math.round(diskBytes), gpus}
}

interface NodeType {
  name: string
  share: number
  allocatable: Resources
}

const NODE_TYPES: readonly NodeType[] = [
  {name: 'standard', share: 0.5, allocatable: res(16000, 64 * Gi, 400 * Gi)},
  {name: 'large', share: 0.35, allocatable: res(32000, 128 * Gi, 800 * Gi)},
  {name: 'highmem', share: 0.1, allocatable: res(16000, 256 * Gi, 400 * Gi)},
  {name: 'gpu', share: 0.05, allocatable: res(32000, 256 * Gi, 1024 * Gi, 4)},
]

/**
 * A production-like cluster: four machine types, zones, racks of 50, disk kinds, 3 % of
 * nodes not ready, 40 % already 10-50 % busy, and `placedJobs` jobs already running.
 */
export function mixedCluster(nodes: number, seed: number, placedJobs = 500): Snapshot {
  const rng = mulberry32(seed)
  const out: SchedNode[] = []
  for (let i = 0; i < nodes; i++) {
    let r = rng()
    let type = NODE_TYPES[0]!
    for (const t of NODE_TYPES) {
      if (r < t.share) {
        type = t
        break
      }
      r -= t.share
    }
    const s = rng()
    const state: NodeState = s < 0.97 ? 'ready' : s < 0.98 ? 'cordoned' : s < 0.99 ? 'draining' : s < 0.995 ? 'down' : 'unreachable'
    const a = type.allocatable
    const busy = rng() < 0.4 ? between(rng, 0.1, 0.5) : 0
    const name = `node-${String(i).padStart(5, '0')}`
    out.push({
      id: `id-${i}`,
      name,
      state,
      labels: {zone: `z${(i % 3) + 1}`, rack: `r${String(Math.floor(i / 50)).padStart(3, '0')}`, disk: rng() < 0.7 ? 'ssd' : 'hdd', type: type.name},
      allocatable: a,
      allocated: busy > 0 ? res(a.cpuMilli * busy, a.memBytes * busy * between(rng, 0.5, 1.5), a.diskBytes * busy * 0.5, 0) : res(0, 0),
      usedPorts: busy > 0 ? [31000, 31001, 31002].slice(0, int(rng, 0, 3)) : [],
    })
  }
  const placed: PlacedTask[] = []
  for (let j = 0; j < placedJobs; j++) {
    const count = int(rng, 1, 40)
    for (let k = 0; k < count; k++) placed.push({taskId: `old-${j}-${k}`, jobId: `job-${j}`, nodeId: `id-${int(rng, 0, nodes - 1)}`})
  }
  return {nodes: out, placed}
}

interface Shape {
  share: number
  make(rng: Rng): Resources
}

const SHAPES: readonly Shape[] = [
  {share: 0.5, make: (rng) => res(between(rng, 100, 500), between(rng, 128 * Mi, 1 * Gi), between(rng, 0, 2 * Gi))},
  {share: 0.35, make: (rng) => res(between(rng, 500, 2000), between(rng, 1 * Gi, 4 * Gi), between(rng, 1 * Gi, 10 * Gi))},
  {share: 0.13, make: (rng) => res(between(rng, 2000, 8000), between(rng, 4 * Gi, 32 * Gi), between(rng, 10 * Gi, 50 * Gi))},
  {share: 0.02, make: () => res(4000, 16 * Gi, 20 * Gi, 1)},
]

const CONSTRAINTS: ReadonlyArray<{share: number; list: readonly Constraint[]}> = [
  {share: 0.1, list: [{field: 'hostname', operator: 'UNIQUE'}]},
  {share: 0.05, list: [{field: 'zone', operator: 'GROUP_BY'}]},
  {share: 0.04, list: [{field: 'rack', operator: 'MAX_PER', value: '2'}]},
  {share: 0.03, list: [{field: 'disk', operator: 'IS', value: 'ssd'}]},
  {share: 0.01, list: [{field: 'rack', operator: 'LIKE', value: 'r0[0-4].*'}]},
  {share: 0.01, list: [{field: 'rack', operator: 'CLUSTER'}]},
  {share: 0.01, list: [{field: 'type', operator: 'UNLIKE', value: 'gpu'}, {field: 'hostname', operator: 'UNIQUE'}]},
]

const PREFERENCES: ReadonlyArray<{share: number; list: readonly Preference[]}> = [
  {share: 0.05, list: [{field: 'zone', value: 'z1'}]},
  {share: 0.05, list: [{field: 'disk', value: 'ssd', weight: 2}]},
]

function choose<T extends {share: number}>(rng: Rng, xs: readonly T[]): T | undefined {
  let r = rng()
  for (const x of xs) {
    if (r < x.share) return x
    r -= x.share
  }
  return undefined
}

/**
 * Jobs of 1-300 instances until `tasks` tasks: four size classes (small to GPU), host
 * ports for a third, constraints for a quarter, preferences for a tenth, spread for a tenth.
 * A job's instances share one request shape (and one constraints array).
 */
export function mixedWork(tasks: number, seed: number): TaskRequest[] {
  const rng = mulberry32(seed)
  const out: TaskRequest[] = []
  for (let j = 0; out.length < tasks; j++) {
    const size = rng()
    const instances = Math.min(tasks - out.length, size < 0.4 ? int(rng, 1, 5) : size < 0.8 ? int(rng, 10, 50) : int(rng, 100, 300))
    const resources = choose(rng, SHAPES)!.make(rng)
    const p = rng()
    const ports = p < 0.05 ? 2 : p < 0.35 ? 1 : 0
    const constraints = choose(rng, CONSTRAINTS)?.list ?? []
    const preferences = choose(rng, PREFERENCES)?.list ?? []
    const strategy: Strategy | undefined = rng() < 0.1 ? 'spread' : undefined
    const jobId = `job-${j}`
    for (let k = 0; k < instances; k++) {
      out.push({taskId: `${jobId}.${k}`, jobId, instance: k, resources, ports, constraints, preferences, ...(strategy ? {strategy} : {})})
    }
  }
  return out
}

/** Identical empty nodes, for packing quality against a lower bound. */
export function emptyCluster(nodes: number, allocatable: Resources): Snapshot {
  const out: SchedNode[] = []
  for (let i = 0; i < nodes; i++) {
    out.push({id: `n${i}`, name: `n${i}`, state: 'ready', labels: {}, allocatable, allocated: res(0, 0), usedPorts: []})
  }
  return {nodes: out, placed: []}
}

export interface PackingWorkload {
  name: string
  describe: string
  make(rng: Rng): Resources
}

export const PACKING_NODE: Resources = res(16000, 64 * Gi)

export const PACKING_WORKLOADS: readonly PackingWorkload[] = [
  {
    name: 'uniform random',
    describe: 'cpus U(0.1, 4), mem U(128Mi, 16Gi), independent',
    make: (rng) => res(between(rng, 100, 4000), between(rng, 128 * Mi, 16 * Gi)),
  },
  {
    name: 'cpu-heavy + mem-heavy',
    describe: 'half cpus U(2, 4) with mem U(512Mi, 2Gi), half cpus U(0.25, 1) with mem U(8Gi, 16Gi)',
    make: (rng) => (rng() < 0.5 ? res(between(rng, 2000, 4000), between(rng, 512 * Mi, 2 * Gi)) : res(between(rng, 250, 1000), between(rng, 8 * Gi, 16 * Gi))),
  },
  {
    name: 'some large tasks',
    describe: '90 % cpus U(0.1, 1) with mem U(256Mi, 2Gi), 10 % cpus U(6, 12) with mem U(24Gi, 48Gi)',
    make: (rng) => (rng() < 0.9 ? res(between(rng, 100, 1000), between(rng, 256 * Mi, 2 * Gi)) : res(between(rng, 6000, 12000), between(rng, 24 * Gi, 48 * Gi))),
  },
]

export function packingWork(workload: PackingWorkload, tasks: number, seed: number): TaskRequest[] {
  const rng = mulberry32(seed)
  return Array.from({length: tasks}, (_, i) => ({
    taskId: `t${i}`,
    jobId: `j${i}`,
    instance: 0,
    resources: workload.make(rng),
    ports: 0,
    constraints: [],
    preferences: [],
  }))
}
