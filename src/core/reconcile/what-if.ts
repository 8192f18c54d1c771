/**
 * What if these nodes died? Pure: the real scheduler on a copy of the cluster without
 * them. The live tasks placed on them become requests (as the pass would replace them:
 * the same `requestOf`, the same snapshot with what every other task holds); the answer
 * says, per task, where it would go or why it could not (the scheduler's own reasons),
 * and per service how many instances keep running through the loss against its health
 * bound (N - upgrade.maxUnavailable).
 */
import {rolloutBounds} from '../model/job.js'
import type {Node} from '../model/node.js'
import type {Job, Task} from '../model/task.js'
import {schedule} from '../scheduler/index.js'
import {requestOf, snapshotOf} from './plan.js'

export interface WhatIfMove {
  job: string
  instance: number
  taskId: string
  from: string
  to: string
}

export interface WhatIfUnplaced {
  job: string
  instance: number
  taskId: string
  from: string
  /** The scheduler's summary, e.g. `0/2 nodes fit: 2 insufficient mem (need 2Gi, max free 1.5Gi)`. */
  reason: string
}

export interface WhatIfService {
  job: string
  instances: number
  /** Instances still running the moment the nodes die (before any replacement). */
  runningAfterLoss: number
  /** The job's bound: instances - upgrade.maxUnavailable (docs/deployments.md). */
  minHealthy: number
  ok: boolean
}

export interface WhatIfResult {
  down: string[]
  fits: boolean
  moves: WhatIfMove[]
  unplaced: WhatIfUnplaced[]
  services: WhatIfService[]
}

/** Tasks that hold a node: placed and live. */
function holding(t: Task): boolean {
  return t.nodeId !== null && (t.state === 'running' || t.state === 'starting' || t.state === 'staging')
}

export function whatIf(input: {nodes: readonly Node[]; jobs: readonly Job[]; tasks: readonly Task[]; down: readonly string[]; seed: number}): WhatIfResult {
  const down = new Set(input.down)
  const jobsById = new Map(input.jobs.map((j) => [j.id, j]))
  const nodeNames = new Map(input.nodes.map((n) => [n.id, n.name]))
  const lost = new Set(input.nodes.filter((n) => down.has(n.name)).map((n) => n.id))
  const placed = input.tasks.filter(holding)
  const survivors = placed.filter((t) => !lost.has(t.nodeId!))
  const orphaned = placed.filter((t) => lost.has(t.nodeId!) && jobsById.has(t.jobId) && t.desired === 'run')
  const snapshot = snapshotOf(
    input.nodes.filter((n) => !lost.has(n.id)),
    survivors,
    jobsById,
  )
  const plan = schedule(snapshot, orphaned.map((t) => requestOf(t, jobsById.get(t.jobId)!)), {seed: input.seed})
  const byId = new Map(orphaned.map((t) => [t.id, t]))
  const moves = plan.placements.map((p) => {
    const t = byId.get(p.taskId)!
    return {job: t.jobName, instance: t.instance, taskId: t.id, from: nodeNames.get(t.nodeId!) ?? '?', to: nodeNames.get(p.nodeId) ?? p.nodeId}
  })
  const unplaced = plan.pending.map((p) => {
    const t = byId.get(p.taskId)!
    return {job: t.jobName, instance: t.instance, taskId: t.id, from: nodeNames.get(t.nodeId!) ?? '?', reason: p.reason}
  })
  const touched = new Set(orphaned.map((t) => t.jobId))
  const services = input.jobs
    .filter((j) => j.kind === 'service' && j.state === 'active' && touched.has(j.id))
    .map((j) => {
      const runningAfterLoss = survivors.filter((t) => t.jobId === j.id && t.state === 'running' && t.desired === 'run').length
      // the job's own floor: N - maxUnavailable (docs/deployments.md)
      const minHealthy = j.instances - rolloutBounds(j.spec.upgrade, j.instances).maxUnavailable
      return {job: j.name, instances: j.instances, runningAfterLoss, minHealthy, ok: runningAfterLoss >= minHealthy}
    })
  return {down: [...input.down], fits: unplaced.length === 0, moves, unplaced, services}
}
