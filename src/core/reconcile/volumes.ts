/**
 * Local volumes in the pass (pure; docs/volumes.md). A task whose job has a local
 * volume goes only to the node holding it: pinned there when that node is ready,
 * blocked (never moved: its data is there) while the node is not, and free to go
 * anywhere only for a volume with no node yet, whose size it then needs on the node
 * it goes to. Every local volume's size stays reserved on its node's disk, whatever
 * its tasks do (stopped, scaled to 0, removed job).
 */
import type {Constraint} from '../model/placement.js'
import type {Node} from '../model/node.js'
import type {Job, Task} from '../model/task.js'
import {instanceVolumeName, localVolumesOf, type Volume} from '../model/volume.js'

export interface VolumePlacement {
  /** Tasks pinned to the node of their volumes. */
  pins: Map<string, Constraint>
  /** Tasks that wait for the node of one of their volumes: why. */
  blocked: Map<string, string>
  /** Disk a task needs on its node for its volumes that have no node yet. */
  extraDisk: Map<string, number>
  /** Nodes a task is kept off (an NFS export they could not mount: nfs-probe.ts). */
  avoid?: Map<string, string[]>
  /** Why, added to the task's pending reason when it stays pending. */
  notes?: Map<string, string>
}

/** 45s, 4m, 3h, 2d. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86_400) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86_400)}d`
}

/** `blocked: volume data-0 is on node-3 (down 4m)`. */
export function blockedReason(volume: string, node: Pick<Node, 'name' | 'state' | 'stateSince'> | undefined, now: number): string {
  if (!node) return `blocked: volume ${volume} is on a node that is no longer in the cluster (clusterctl volume forget ${volume} --new-empty gives it a new, empty one)`
  return `blocked: volume ${volume} is on ${node.name} (${node.state}${node.stateSince === null ? '' : ` ${shortDuration(now - node.stateSince)}`})`
}

/** Two reasons that say the same thing but for how long the node has been down. */
export function sameBlock(a: string | null, b: string | null): boolean {
  const bare = (r: string | null): string | null => r?.replace(/ \((\S+) \d+[smhd]\)$/, ' ($1)') ?? null
  return a !== null && b !== null && a.startsWith('blocked: ') && bare(a) === bare(b)
}

export function volumePlacement(pending: readonly Task[], jobsById: ReadonlyMap<string, Job>, volumes: ReadonlyMap<string, Volume>, nodesById: ReadonlyMap<string, Node>, now: number): VolumePlacement {
  const out: VolumePlacement = {pins: new Map(), blocked: new Map(), extraDisk: new Map()}
  for (const task of pending) {
    const job = jobsById.get(task.jobId)
    if (!job) continue
    let pinned: Node | undefined
    let extra = 0
    for (const {name, sizeBytes} of localVolumesOf(job.spec.volumes, task.instance)) {
      const volume = volumes.get(name)
      if (!volume || volume.nodeId === null) {
        extra += volume?.sizeBytes ?? sizeBytes
        continue
      }

      const node = nodesById.get(volume.nodeId)
      if (!node || node.state !== 'ready') {
        out.blocked.set(task.id, blockedReason(name, node, now))
        break
      }

      if (pinned && pinned.id !== node.id) {
        out.blocked.set(task.id, `blocked: its volumes are on two nodes (${pinned.name} and ${node.name}); remove or forget one of them`)
        break
      }

      pinned = node
    }

    if (out.blocked.has(task.id)) continue
    if (pinned) out.pins.set(task.id, {field: 'hostname', operator: 'IS', value: pinned.name})
    if (extra > 0) out.extraDisk.set(task.id, extra)
  }

  return out
}

/** The nodes as the scheduler sees them: every local volume's size reserved on its node's disk. */
export function withVolumeReservations<N extends Pick<Node, 'id' | 'reserved'>>(nodes: readonly N[], volumes: Iterable<Volume>): N[] {
  const reserved = new Map<string, number>()
  for (const v of volumes) if (v.kind === 'local' && v.nodeId !== null) reserved.set(v.nodeId, (reserved.get(v.nodeId) ?? 0) + v.sizeBytes)
  if (reserved.size === 0) return [...nodes]
  return nodes.map((n) => (reserved.has(n.id) ? {...n, reserved: {...n.reserved, diskBytes: n.reserved.diskBytes + reserved.get(n.id)!}} : n))
}

/**
 * The volumes a placement gives a node to, or records for the first time: the task's
 * local volumes that had no node (a new record when it has none yet) and its NFS
 * volumes that have no record.
 */
export function volumesToRecord(task: Pick<Task, 'instance'>, job: Pick<Job, 'id' | 'name' | 'spec'>, nodeId: string, volumes: ReadonlyMap<string, Volume>, newId: () => string, now: number): Volume[] {
  const out: Volume[] = []
  const fresh = (name: string, kind: Volume['kind'], extra: Partial<Volume>): Volume => ({id: newId(), name, kind, jobId: job.id, jobName: job.name, instance: null, nodeId: null, nodeName: null, sizeBytes: 0, usedBytes: null, usedAt: null, nfs: null, createdAt: now, updatedAt: now, ...extra})
  for (const v of job.spec.volumes) {
    if (v.local) {
      const name = instanceVolumeName(v.source, task.instance)
      const known = volumes.get(name)
      if (!known) out.push(fresh(name, 'local', {instance: task.instance, nodeId, sizeBytes: v.local.sizeBytes}))
      else if (known.nodeId === null) out.push({...known, nodeId, updatedAt: now})
    } else if (v.nfs && !volumes.has(v.source)) out.push(fresh(v.source, 'nfs', {nfs: v.nfs}))
  }

  return out
}
