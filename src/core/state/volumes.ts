/** Named volumes (migration 0014, docs/volumes.md). */
import type {Volume, VolumeKind} from '../model/volume.js'
import type {Store} from './store.js'

interface VolumeRow {
  id: string
  name: string
  kind: VolumeKind
  job_id: string | null
  job_name: string | null
  instance: number | null
  node_id: string | null
  node_name: string | null
  size_bytes: number
  used_bytes: number | null
  used_at: number | null
  nfs_server: string | null
  nfs_export: string | null
  nfs_options: string | null
  created_at: number
  updated_at: number
}

const toVolume = (r: VolumeRow): Volume => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  jobId: r.job_id,
  jobName: r.job_name,
  instance: r.instance,
  nodeId: r.node_id,
  nodeName: r.node_name,
  sizeBytes: r.size_bytes,
  usedBytes: r.used_bytes,
  usedAt: r.used_at,
  nfs: r.nfs_server !== null && r.nfs_export !== null ? {server: r.nfs_server, export: r.nfs_export, options: r.nfs_options ?? 'rw'} : null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

const SELECT = `SELECT v.*, n.name AS node_name FROM volumes v LEFT JOIN nodes n ON n.id = v.node_id`

export function listVolumes(store: Store): Volume[] {
  return (store.stmt(`${SELECT} ORDER BY v.name`).all() as VolumeRow[]).map(toVolume)
}

export function findVolume(store: Store, name: string): Volume | undefined {
  const row = store.stmt(`${SELECT} WHERE v.name = ?`).get(name) as VolumeRow | undefined
  return row ? toVolume(row) : undefined
}

/** Records a volume (its node may still be unknown). */
export function insertVolume(store: Store, v: Omit<Volume, 'nodeName' | 'usedBytes' | 'usedAt' | 'updatedAt'>): void {
  store
    .stmt(
      `INSERT INTO volumes (id, name, kind, job_id, job_name, instance, node_id, size_bytes, nfs_server, nfs_export, nfs_options, created_at, updated_at)
       VALUES (@id, @name, @kind, @jobId, @jobName, @instance, @nodeId, @sizeBytes, @server, @export, @options, @createdAt, @createdAt)`,
    )
    .run({id: v.id, name: v.name, kind: v.kind, jobId: v.jobId, jobName: v.jobName, instance: v.instance, nodeId: v.nodeId, sizeBytes: v.sizeBytes, server: v.nfs?.server ?? null, export: v.nfs?.export ?? null, options: v.nfs?.options ?? null, createdAt: v.createdAt})
}

/** A local volume's node, chosen by its first placement. */
export function setVolumeNode(store: Store, name: string, nodeId: string, now: number): void {
  store.stmt(`UPDATE volumes SET node_id = ?, updated_at = ? WHERE name = ? AND node_id IS NULL`).run(nodeId, now, name)
}

/** The job a volume belongs to now (a job applied again under its name takes it back), its size and export. */
export function updateVolumeSpec(store: Store, name: string, patch: {jobId: string; jobName: string; sizeBytes: number; nfs: Volume['nfs']}, now: number): void {
  store
    .stmt(`UPDATE volumes SET job_id = ?, job_name = ?, size_bytes = ?, nfs_server = ?, nfs_export = ?, nfs_options = ?, updated_at = ? WHERE name = ?`)
    .run(patch.jobId, patch.jobName, patch.sizeBytes, patch.nfs?.server ?? null, patch.nfs?.export ?? null, patch.nfs?.options ?? null, now, name)
}

/** What the observation of a volume's node measured. */
export function recordVolumeUsage(store: Store, id: string, usedBytes: number, at: number): void {
  store.stmt(`UPDATE volumes SET used_bytes = ?, used_at = ? WHERE id = ?`).run(usedBytes, at, id)
}

export function deleteVolume(store: Store, name: string): void {
  store.stmt(`DELETE FROM volumes WHERE name = ?`).run(name)
}

/** A placement's volume: recorded when new, else given its node when it had none (volumesToRecord). */
export function recordVolumeNode(store: Store, v: Volume, now: number): void {
  if (findVolume(store, v.name)) {
    if (v.nodeId !== null) setVolumeNode(store, v.name, v.nodeId, now)
  } else insertVolume(store, v)
}
