/** Teams as JSON and as a table (`clusterctl teams`). */
import {formatBytes, formatCpu, type Resources, type ResourcesJson, resourcesToJson} from '../../core/model/resources.js'
import type {TeamView} from '../../core/services/teams.js'
import {renderTable} from '../table.js'

export interface TeamJson {
  name: string
  weight: number
  /** Only the limited dimensions: cpus (cores), memBytes, diskBytes, gpus. */
  quota: Partial<ResourcesJson>
  jobs: number
  running: number
  pending: number
  allocated: ResourcesJson
  /** 0..1: the largest fraction of the cluster's cpus, mem, disk or gpus the team holds. */
  dominantShare: number
  dominantResource: 'cpus' | 'mem' | 'disk' | 'gpus' | null
  /** dominantShare / weight: pending work goes to the lowest first. */
  weightedShare: number
  /** Per limited dimension, allocated / quota (0..1). */
  quotaUse: Partial<Record<'cpus' | 'mem' | 'disk' | 'gpus', number>>
}

const NAMES = {cpuMilli: 'cpus', memBytes: 'mem', diskBytes: 'disk', gpus: 'gpus'} as const

function quotaJson(q: Partial<Resources>): Partial<ResourcesJson> {
  return {...(q.cpuMilli === undefined ? {} : {cpus: q.cpuMilli / 1000}), ...(q.memBytes === undefined ? {} : {memBytes: q.memBytes}), ...(q.diskBytes === undefined ? {} : {diskBytes: q.diskBytes}), ...(q.gpus === undefined ? {} : {gpus: q.gpus})}
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000

export function teamToJson(v: TeamView): TeamJson {
  const quotaUse: TeamJson['quotaUse'] = {}
  for (const d of ['cpuMilli', 'memBytes', 'diskBytes', 'gpus'] as const) {
    const limit = v.team.quota[d]
    if (limit !== undefined) quotaUse[NAMES[d]] = limit === 0 ? (v.allocated[d] > 0 ? 1 : 0) : round(v.allocated[d] / limit)
  }

  return {
    name: v.team.name,
    weight: v.team.weight,
    quota: quotaJson(v.team.quota),
    jobs: v.jobs,
    running: v.running,
    pending: v.pending,
    allocated: resourcesToJson(v.allocated),
    dominantShare: round(v.dominantShare),
    dominantResource: v.dominantResource ? NAMES[v.dominantResource] : null,
    weightedShare: round(v.weightedShare),
    quotaUse,
  }
}

const amount = (d: keyof Resources, v: number): string => (d === 'cpuMilli' ? formatCpu(v) : d === 'gpus' ? String(v) : formatBytes(v))

/** `cpus 12/12 mem 3Gi/8Gi` for limited dimensions, `-` without a quota. */
export function quotaText(v: Pick<TeamView, 'team' | 'allocated'>): string {
  const parts = (['cpuMilli', 'memBytes', 'diskBytes', 'gpus'] as const).filter((d) => v.team.quota[d] !== undefined).map((d) => `${NAMES[d]} ${amount(d, v.allocated[d])}/${amount(d, v.team.quota[d]!)}`)
  return parts.join(' ') || '-'
}

export function renderTeamsTable(views: readonly TeamView[]): string {
  return renderTable(
    ['TEAM', 'WEIGHT', 'JOBS', 'RUNNING', 'PENDING', 'CPUS', 'MEM', 'GPUS', 'DOMINANT SHARE', 'QUOTA USE'],
    views.map((v) => [v.team.name, String(v.team.weight), String(v.jobs), String(v.running), String(v.pending), formatCpu(v.allocated.cpuMilli), formatBytes(v.allocated.memBytes), String(v.allocated.gpus), v.dominantResource ? `${(v.dominantShare * 100).toFixed(1)}% ${NAMES[v.dominantResource]}${v.team.weight === 1 ? '' : ` (/${v.team.weight} = ${(v.weightedShare * 100).toFixed(1)}%)`}` : '0%', quotaText(v)]),
  )
}
