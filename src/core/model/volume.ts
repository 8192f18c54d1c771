/**
 * Named volumes (docs/volumes.md): plain data and pure rules. A `local` volume is a
 * directory clusterctl creates on one node; its size is reserved on that node's disk
 * and the tasks that use it are pinned there. An `nfs` volume is an export every node
 * mounts. Host paths (`/srv/data:/data`) are not volume objects.
 */
import type {NfsSource, VolumeSpec} from './job.js'

export type VolumeKind = 'local' | 'nfs'

export interface Volume {
  id: string
  name: string
  kind: VolumeKind
  /** The job that made it, and for a local volume the instance it belongs to. */
  jobId: string | null
  jobName: string | null
  instance: number | null
  /** Local: the node holding it, once its first task was placed. */
  nodeId: string | null
  nodeName: string | null
  /** Local: reserved on its node's disk. */
  sizeBytes: number
  /** Local: what `du` measured in the last observation of its node; null until then. */
  usedBytes: number | null
  usedAt: number | null
  nfs: NfsSource | null
  createdAt: number
  updatedAt: number
}

/** Where local volumes live on a node: one directory each, named after the volume and its id (a forgotten volume's successor starts empty). */
export const LOCAL_VOLUME_ROOT = '/var/lib/clusterctl/volumes'
/** Where containerd nodes mount NFS exports (podman mounts them itself). */
export const NFS_MOUNT_ROOT = '/var/lib/clusterctl/nfs'

export const VOLUME_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/** The directory of a local volume on its node. */
export function localVolumePath(v: Pick<Volume, 'name' | 'id'>): string {
  return `${LOCAL_VOLUME_ROOT}/${v.name}-${v.id}`
}

/** Instance i of a job gets local volume `NAME-i`. */
export function instanceVolumeName(name: string, instance: number): string {
  return `${name}-${instance}`
}

export function isNamed(v: VolumeSpec): boolean {
  return v.local !== undefined || v.nfs !== undefined
}

/** The names of the local volumes one instance of a job uses. */
export function localVolumesOf(volumes: readonly VolumeSpec[], instance: number): Array<{name: string; sizeBytes: number}> {
  return volumes.filter((v) => v.local).map((v) => ({name: instanceVolumeName(v.source, instance), sizeBytes: v.local!.sizeBytes}))
}

/** Whether a job keeps data on one node (a local volume): it is placed only there and updates stop-then-start. */
export function hasLocalVolume(volumes: readonly VolumeSpec[]): boolean {
  return volumes.some((v) => v.local !== undefined)
}

/** `SERVER:/EXPORT` as mount(8) writes it. */
export function nfsDevice(n: NfsSource): string {
  return `${n.server}:${n.export}`
}

/** What brings back a task that waits for the node holding its local volume: `its volume data-0 is there; ...uncordon... or ...forget...`. */
export function waitsForNode(node: string, volumes: readonly string[]): string {
  const many = volumes.length > 1
  return `its volume${many ? 's' : ''} ${volumes.join(', ')} ${many ? 'are' : 'is'} there; \`clusterctl node uncordon ${node}\` runs it there again, or \`clusterctl volume forget ${volumes[0]!} --new-empty\` moves it without its data`
}
