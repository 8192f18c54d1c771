/**
 * Named volumes (docs/volumes.md): claimed when a job is submitted or scaled (a name
 * another job holds is refused, nothing changed), listed, inspected, removed (refused
 * while a task uses them; `--wipe` deletes a local volume's data on its node) and
 * forgotten (a local volume whose node is gone: `--new-empty` gives its instance a new,
 * empty one wherever it is placed next).
 */
import {FailedError, NotFoundError, UserError} from '../errors.js'
import {connectSpecOf, type ServiceContext} from '../context.js'
import type {JobSpec} from '../model/job.js'
import type {Node} from '../model/node.js'
import {isLive, type Job, type Task} from '../model/task.js'
import {instanceVolumeName, localVolumePath, nfsDevice, type Volume} from '../model/volume.js'
import {blockedReason} from '../reconcile/volumes.js'
import {appendEvent} from '../state/events.js'
import {findJob, listJobs, listTasks} from '../state/jobs.js'
import {listNodes} from '../state/nodes.js'
import type {Store} from '../state/store.js'
import {deleteVolume, findVolume, insertVolume, listVolumes, updateVolumeSpec} from '../state/volumes.js'

/** How long a wipe may take on its node. */
const WIPE_TIMEOUT_MS = 60_000

type Claimant = Pick<Job, 'id' | 'name' | 'instances'> & {spec: Pick<JobSpec, 'volumes'>}

/** The volumes a job needs: its NFS volumes and, per instance, its local ones. */
function wanted(job: Claimant): Array<{name: string; kind: Volume['kind']; instance: number | null; sizeBytes: number; nfs: Volume['nfs']}> {
  const out: Array<{name: string; kind: Volume['kind']; instance: number | null; sizeBytes: number; nfs: Volume['nfs']}> = []
  for (const v of job.spec.volumes) {
    if (v.nfs) out.push({name: v.source, kind: 'nfs', instance: null, sizeBytes: 0, nfs: v.nfs})
    else if (v.local) for (let i = 0; i < job.instances; i++) out.push({name: instanceVolumeName(v.source, i), kind: 'local', instance: i, sizeBytes: v.local.sizeBytes, nfs: null})
  }

  return out
}

/**
 * Records the volumes a job needs (inside the caller's write transaction), after
 * checking them all: a name held by another job, or by a volume of another kind or
 * export, is refused (exit 2) and nothing is recorded. `dryRun`: only the check.
 */
export function claimVolumes(store: Store, job: Claimant, at: {now: number; newId: () => string; dryRun?: boolean}): void {
  const want = wanted(job)
  if (want.length === 0) return
  const problems: string[] = []
  const known = new Map<string, Volume>()
  for (const w of want) {
    const v = findVolume(store, w.name)
    if (!v) continue
    known.set(w.name, v)
    if (v.kind !== w.kind) problems.push(`volume ${w.name} exists already as ${v.kind === 'nfs' ? `the NFS export ${nfsDevice(v.nfs!)}` : `a local volume${v.jobName ? ` of job ${v.jobName}` : ''}`}`)
    else if (w.kind === 'nfs' && nfsDevice(v.nfs!) !== nfsDevice(w.nfs!)) problems.push(`volume ${w.name} is the NFS export ${nfsDevice(v.nfs!)}, not ${nfsDevice(w.nfs!)}`)
    else if (w.kind === 'local' && v.jobName !== null && v.jobName !== job.name) problems.push(`volume ${w.name} belongs to job ${v.jobName}`)
  }

  if (problems.length > 0) {
    throw new UserError(`Job ${job.name}: ${problems.join('; ')}; nothing was changed.`, {code: 'volume-conflict', hint: 'Give the volume another name in the spec, or remove the other one first (`clusterctl volume rm NAME`; `clusterctl volumes` lists them).'})
  }

  if (at.dryRun) return
  for (const w of want) {
    const v = known.get(w.name)
    if (!v) insertVolume(store, {id: at.newId(), name: w.name, kind: w.kind, jobId: job.id, jobName: job.name, instance: w.instance, nodeId: null, sizeBytes: w.sizeBytes, nfs: w.nfs, createdAt: at.now})
    else if (w.kind === 'local' && (v.jobId !== job.id || v.sizeBytes !== w.sizeBytes)) updateVolumeSpec(store, w.name, {jobId: job.id, jobName: job.name, sizeBytes: w.sizeBytes, nfs: null}, at.now)
  }
}

export type VolumeState = 'in-use' | 'idle' | 'unplaced' | 'blocked'

export interface VolumeView {
  volume: Volume
  state: VolumeState
  /** The live tasks that use it. */
  tasks: Task[]
  /** A local volume: the directory on its node. */
  path: string | null
  /** Why its task waits, when its node is not ready. */
  blocked: string | null
}

/** A task uses a volume when it is live and its job mounts it (a local one: for its own instance). */
function usesVolume(task: Task, job: Job | undefined, v: Volume): boolean {
  if (!job || !isLive(task.state)) return false
  return job.spec.volumes.some((s) => (s.nfs ? s.source === v.name : s.local ? instanceVolumeName(s.source, task.instance) === v.name : false))
}

function viewsOf(volumes: readonly Volume[], jobs: readonly Job[], tasks: readonly Task[], nodes: readonly Node[], now: number): VolumeView[] {
  const jobsById = new Map(jobs.map((j) => [j.id, j]))
  const nodesById = new Map(nodes.map((n) => [n.id, n]))
  return volumes.map((volume) => {
    const using = tasks.filter((t) => usesVolume(t, jobsById.get(t.jobId), volume))
    const node = volume.nodeId === null ? undefined : nodesById.get(volume.nodeId)
    const blocked = volume.kind === 'local' && volume.nodeId !== null && node?.state !== 'ready' ? blockedReason(volume.name, node, now) : null
    const state: VolumeState = blocked ? 'blocked' : using.some((t) => t.state !== 'pending') ? 'in-use' : volume.kind === 'local' && volume.nodeId === null ? 'unplaced' : 'idle'
    return {volume, state, tasks: using, path: volume.kind === 'local' ? localVolumePath(volume) : null, blocked}
  })
}

export function volumeViews(ctx: Pick<ServiceContext, 'store' | 'clock'>): VolumeView[] {
  const {store} = ctx
  return store.read(() => viewsOf(listVolumes(store), listJobs(store), listTasks(store, {live: true}), listNodes(store), ctx.clock.now()))
}

export function inspectVolume(ctx: Pick<ServiceContext, 'store' | 'clock'>, name: string): VolumeView {
  const view = volumeViews(ctx).find((v) => v.volume.name === name)
  if (!view) throw notFound(name)
  return view
}

/** Events of a volume are its job's (the event log's subjects are the cluster, nodes, jobs and tasks). */
function eventSubject(v: Volume): {subjectKind: 'job' | 'cluster'; subject: string} {
  return v.jobName ? {subjectKind: 'job', subject: v.jobName} : {subjectKind: 'cluster', subject: v.name}
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`No volume named ${name}; nothing was changed.`, {hint: 'Run `clusterctl volumes` to list the volumes.'})
}

function refuseInUse(view: VolumeView, what: string): void {
  if (view.tasks.length === 0) return
  const users = view.tasks.map((t) => `${t.jobName}.${t.instance} (${t.state}${t.nodeName ? ` on ${t.nodeName}` : ''})`).join(', ')
  throw new UserError(`Volume ${view.volume.name} is in use by ${users}; it was not ${what}.`, {code: 'volume-in-use', hint: `Stop or scale down its job first (\`clusterctl scale ${view.tasks[0]!.jobName} 0\`).`})
}

/** Deletes a local volume's directory on its node (over SSH). */
async function wipe(ctx: ServiceContext, volume: Volume, node: Node): Promise<void> {
  const path = localVolumePath(volume)
  const result = await ctx.connect(connectSpecOf(node)).exec(['rm', '-rf', '--', path], {timeoutMs: WIPE_TIMEOUT_MS})
  if (result.code !== 0) throw new FailedError(`Wiping volume ${volume.name} (${path}) on ${node.name} failed: ${result.stderr.trim() || `exit ${result.code}`}; its record was kept.`)
}

/**
 * Forgets a volume: refused while a task uses it. `wipe` first deletes a local volume's
 * data on its node (which must answer); without it, the data stays on the node, no longer reserved.
 */
export async function removeVolume(ctx: ServiceContext, name: string, options: {wipe?: boolean} = {}): Promise<VolumeView> {
  const view = inspectVolume(ctx, name)
  refuseInUse(view, 'removed')
  const node = view.volume.nodeId === null ? undefined : ctx.store.read(() => listNodes(ctx.store).find((n) => n.id === view.volume.nodeId))
  if (options.wipe && view.volume.kind === 'local' && node) await wipe(ctx, view.volume, node)
  ctx.store.write(() => {
    deleteVolume(ctx.store, name)
    appendEvent(ctx.store, {type: 'volume.removed', ...eventSubject(view.volume), message: options.wipe && node ? `volume ${name} removed; its data on ${node.name} was wiped` : `volume ${name} removed${view.path && node ? `; its data stays in ${view.path} on ${node.name}` : ''}`, data: {volume: name, node: node?.name ?? null}})
  })
  return view
}

/** Removes the local volumes of removed jobs (`rm JOB --wipe-volumes`): each wiped on its node. Returns the names removed. */
export async function wipeJobVolumes(ctx: ServiceContext, jobNames: readonly string[]): Promise<string[]> {
  const names = new Set(jobNames)
  const mine = volumeViews(ctx).filter((v) => v.volume.kind === 'local' && v.volume.jobName !== null && names.has(v.volume.jobName))
  const removed: string[] = []
  for (const v of mine) {
    await removeVolume(ctx, v.volume.name, {wipe: true})
    removed.push(v.volume.name)
  }

  return removed
}

/**
 * Gives up a local volume's data on its node (a node that is down for good): the record
 * goes and no disk stays reserved there; nothing on the node is touched. When its
 * job still wants that instance, `newEmpty` must say so: the instance then starts with a
 * new, empty volume wherever it is placed next.
 */
export function forgetVolume(ctx: ServiceContext, name: string, options: {newEmpty?: boolean} = {}): {forgotten: VolumeView; replacement: Volume | null} {
  const {store} = ctx
  return store.write(() => {
    const view = viewsOf(listVolumes(store), listJobs(store), listTasks(store, {live: true}), listNodes(store), ctx.clock.now()).find((v) => v.volume.name === name)
    if (!view) throw notFound(name)
    const v = view.volume
    if (v.kind !== 'local') throw new UserError(`Volume ${name} is an NFS export; there is nothing on a node to forget (use \`clusterctl volume rm ${name}\`).`)
    // Its waiting task and the one lost with its node do not hold it: giving their data up is the point.
    refuseInUse({...view, tasks: view.tasks.filter((t) => t.state !== 'pending' && t.state !== 'unreachable')}, 'forgotten')
    const job = v.jobName ? findJob(store, v.jobName) : undefined
    const wanted = job !== undefined && v.instance !== null && v.instance < job.instances && job.state === 'active'
    if (wanted && !options.newEmpty) {
      throw new UserError(`Volume ${name} holds the data of ${job.name}.${v.instance}; forgetting it gives that instance a new, empty volume. Add --new-empty to do so; nothing was changed.`, {code: 'volume-in-use', hint: view.blocked ? `Or wait: ${view.blocked.replace(/^blocked: /, '')}, and its task runs there again once it is back.` : undefined})
    }

    deleteVolume(store, name)
    let replacement: Volume | null = null
    if (options.newEmpty && job && v.instance !== null) {
      replacement = {...v, id: ctx.newId(), nodeId: null, nodeName: null, usedBytes: null, usedAt: null, jobId: job.id, createdAt: ctx.clock.now(), updatedAt: ctx.clock.now()}
      insertVolume(store, replacement)
    }

    appendEvent(store, {type: 'volume.forgotten', ...eventSubject(v), message: `volume ${name} forgotten${view.volume.nodeName ? `; its data is left in ${view.path} on ${view.volume.nodeName}` : ''}${replacement ? '; a new, empty one takes its place' : ''}`, data: {volume: name, node: view.volume.nodeName, newEmpty: replacement !== null}})
    return {forgotten: view, replacement}
  })
}
