/**
 * What if these nodes died? Pure: the real scheduler on a copy of the cluster without
 * them. The live tasks placed on them become requests (as the pass would replace them:
 * the same `requestOf`, the same snapshot with what every other task holds); the answer
 * says, per task, where it would go or why it could not (the scheduler's own reasons),
 * and per service how many instances keep running through the loss against its health
 * bound (N - upgrade.maxUnavailable).
 *
 * Local volumes count as in the pass, through the same code (volumes.ts, plan.ts
 * planPlacements): every local volume's size stays reserved on its node's disk, a task
 * whose volume is on a surviving node goes only there, and one whose volume is on a lost
 * node is not moved: it waits for that node (`waiting`), which a drain does on purpose
 * (docs/volumes.md), so it does not make the answer `fits: false`.
 */
import {rolloutBounds} from '../model/job.js'
import type {Node} from '../model/node.js'
import type {Job, Task} from '../model/task.js'
import {localVolumesOf, type Volume} from '../model/volume.js'
import {planPlacements} from './plan.js'
import {volumePlacement, withVolumeReservations} from './volumes.js'

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

/** A task that would not move: its local volume is on a lost node (it waits for that node, or `volume forget`). */
export interface WhatIfWaiting {
  job: string
  instance: number
  taskId: string
  from: string
  /** The local volume that holds it there. */
  volume: string
  /** The pass's own reason, e.g. `blocked: volume data-0 is on h2 (down)`. */
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
  waiting: WhatIfWaiting[]
  services: WhatIfService[]
}

/** Tasks that hold a node: placed and live. */
function holding(t: Task): boolean {
  return t.nodeId !== null && (t.state === 'running' || t.state === 'starting' || t.state === 'staging')
}

export function whatIf(input: {nodes: readonly Node[]; jobs: readonly Job[]; tasks: readonly Task[]; volumes?: readonly Volume[]; down: readonly string[]; seed: number}): WhatIfResult {
  const down = new Set(input.down)
  const jobsById = new Map(input.jobs.map((j) => [j.id, j]))
  const nodeNames = new Map(input.nodes.map((n) => [n.id, n.name]))
  const lost = new Set(input.nodes.filter((n) => down.has(n.name)).map((n) => n.id))
  const placed = input.tasks.filter(holding)
  const survivors = placed.filter((t) => !lost.has(t.nodeId!))
  const orphaned = placed.filter((t) => lost.has(t.nodeId!) && jobsById.has(t.jobId) && t.desired === 'run')
  const volumeList = input.volumes ?? []
  const volumes = new Map(volumeList.map((v) => [v.name, v]))
  // The lost nodes as the pass would see them (down, for no time yet); the rest with every local volume's reservation.
  const seen = new Map(input.nodes.map((n) => [n.id, lost.has(n.id) ? {...n, state: 'down' as const, stateSince: null} : n]))
  const {plan} = planPlacements({
    pending: orphaned,
    pins: new Map(),
    schedulable: withVolumeReservations(input.nodes.filter((n) => !lost.has(n.id)), volumeList),
    holding: survivors,
    jobsById,
    recentFailures: new Map(),
    seed: input.seed,
    volumes: volumePlacement(orphaned, jobsById, volumes, seen, 0),
  })
  const byId = new Map(orphaned.map((t) => [t.id, t]))
  const moves = plan.placements.map((p) => {
    const t = byId.get(p.taskId)!
    return {job: t.jobName, instance: t.instance, taskId: t.id, from: nodeNames.get(t.nodeId!) ?? '?', to: nodeNames.get(p.nodeId) ?? p.nodeId}
  })
  const heldBy = (t: Task): string | undefined => localVolumesOf(jobsById.get(t.jobId)!.spec.volumes, t.instance).find((v) => lost.has(volumes.get(v.name)?.nodeId ?? ''))?.name
  const unplaced: WhatIfUnplaced[] = []
  const waiting: WhatIfWaiting[] = []
  for (const p of plan.pending) {
    const t = byId.get(p.taskId)!
    const entry = {job: t.jobName, instance: t.instance, taskId: t.id, from: nodeNames.get(t.nodeId!) ?? '?', reason: p.reason}
    const volume = heldBy(t)
    if (volume === undefined) unplaced.push(entry)
    else waiting.push({...entry, volume})
  }

  const touched = new Set(orphaned.map((t) => t.jobId))
  const services = input.jobs
    .filter((j) => j.kind === 'service' && j.state === 'active' && touched.has(j.id))
    .map((j) => {
      const runningAfterLoss = survivors.filter((t) => t.jobId === j.id && t.state === 'running' && t.desired === 'run').length
      // the job's own floor: N - maxUnavailable (docs/deployments.md)
      const minHealthy = j.instances - rolloutBounds(j.spec.upgrade, j.instances).maxUnavailable
      return {job: j.name, instances: j.instances, runningAfterLoss, minHealthy, ok: runningAfterLoss >= minHealthy}
    })
  return {down: [...input.down], fits: unplaced.length === 0, moves, unplaced, waiting, services}
}
