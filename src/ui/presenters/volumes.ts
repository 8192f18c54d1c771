/** Volumes as JSON and as text (`clusterctl volumes`, `volume inspect`). */
import {formatBytes} from '../../core/model/resources.js'
import type {VolumeState, VolumeView} from '../../core/services/volumes.js'
import {renderTable} from '../table.js'

export interface VolumeJson {
  name: string
  kind: 'local' | 'nfs'
  /** Local: the node holding it (null until its first task is placed). */
  node: string | null
  /** Local: reserved on its node's disk. */
  sizeBytes: number | null
  /** Local: measured by the last observation of its node (null until then). */
  usedBytes: number | null
  usedAt: string | null
  job: string | null
  instance: number | null
  state: VolumeState
  /** Why its task waits (a local volume whose node is not ready). */
  blocked: string | null
  /** Local: its directory on the node. */
  path: string | null
  nfs: {server: string; export: string; options: string} | null
  tasks: Array<{id: string; job: string; instance: number; state: string; node: string | null}>
  createdAt: string
}

export function volumeToJson(v: VolumeView): VolumeJson {
  const {volume} = v
  const local = volume.kind === 'local'
  return {
    name: volume.name,
    kind: volume.kind,
    node: volume.nodeName ?? (volume.nodeId === null ? null : volume.nodeId),
    sizeBytes: local ? volume.sizeBytes : null,
    usedBytes: volume.usedBytes,
    usedAt: volume.usedAt === null ? null : new Date(volume.usedAt).toISOString(),
    job: volume.jobName,
    instance: volume.instance,
    state: v.state,
    blocked: v.blocked,
    path: v.path,
    nfs: volume.nfs,
    tasks: v.tasks.map((t) => ({id: t.id, job: t.jobName, instance: t.instance, state: t.state, node: t.nodeName})),
    createdAt: new Date(volume.createdAt).toISOString(),
  }
}

const bytes = (n: number | null): string => (n === null ? '-' : formatBytes(n))

export function renderVolumesTable(views: readonly VolumeView[]): string {
  if (views.length === 0) return 'No volumes. A job with `volumes: ["data:/data"]` (or run -v data:/data) makes one per instance.'
  return renderTable(
    ['NAME', 'KIND', 'NODE', 'SIZE', 'USED', 'JOB', 'INSTANCE', 'STATE'],
    views.map((v) => [
      v.volume.name,
      v.volume.kind,
      v.volume.kind === 'nfs' ? `${v.volume.nfs!.server}:${v.volume.nfs!.export}` : (v.volume.nodeName ?? '-'),
      v.volume.kind === 'local' ? formatBytes(v.volume.sizeBytes) : '-',
      bytes(v.volume.usedBytes),
      v.volume.jobName ?? '-',
      v.volume.instance === null ? '-' : String(v.volume.instance),
      v.blocked ?? v.state,
    ]),
  )
}

export function renderVolume(v: VolumeView): string {
  const j = volumeToJson(v)
  const lines = [
    `Volume ${j.name} (${j.kind})`,
    `  State:    ${j.blocked ?? j.state}`,
    ...(j.kind === 'local'
      ? [`  Node:     ${j.node ?? '- (placed with its first task)'}`, `  Size:     ${bytes(j.sizeBytes)} reserved on its node's disk`, `  Used:     ${bytes(j.usedBytes)}${j.usedAt ? ` (measured ${j.usedAt})` : ''}`, `  Path:     ${j.path}`]
      : [`  Export:   ${j.nfs!.server}:${j.nfs!.export} (${j.nfs!.options})`]),
    `  Job:      ${j.job ?? '-'}${j.instance === null ? '' : ` instance ${j.instance}`}`,
    `  Tasks:    ${j.tasks.length === 0 ? 'none' : j.tasks.map((t) => `${t.job}.${t.instance} ${t.state}${t.node ? ` on ${t.node}` : ''}`).join(', ')}`,
    `  Created:  ${j.createdAt}`,
  ]
  return lines.join('\n')
}
