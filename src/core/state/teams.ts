/** Teams: weights and quotas (migration 0009, docs/teams.md). */
import type {Resources} from '../model/resources.js'
import type {Team} from '../model/team.js'
import type {Store} from './store.js'

interface TeamRow {
  name: string
  weight: number
  quota_cpu_milli: number | null
  quota_mem_bytes: number | null
  quota_disk_bytes: number | null
  quota_gpus: number | null
  created_at: number
  updated_at: number
}

const toTeam = (r: TeamRow): Team => {
  const quota: Partial<Resources> = {}
  if (r.quota_cpu_milli !== null) quota.cpuMilli = r.quota_cpu_milli
  if (r.quota_mem_bytes !== null) quota.memBytes = r.quota_mem_bytes
  if (r.quota_disk_bytes !== null) quota.diskBytes = r.quota_disk_bytes
  if (r.quota_gpus !== null) quota.gpus = r.quota_gpus
  return {name: r.name, weight: r.weight, quota, createdAt: r.created_at, updatedAt: r.updated_at}
}

export function listTeams(store: Store): Team[] {
  return (store.stmt(`SELECT * FROM teams ORDER BY name`).all() as TeamRow[]).map(toTeam)
}

export function findTeam(store: Store, name: string): Team | undefined {
  const row = store.stmt(`SELECT * FROM teams WHERE name = ?`).get(name) as TeamRow | undefined
  return row ? toTeam(row) : undefined
}

export function upsertTeam(store: Store, team: Team): void {
  store
    .stmt(
      `INSERT INTO teams (name, weight, quota_cpu_milli, quota_mem_bytes, quota_disk_bytes, quota_gpus, created_at, updated_at)
       VALUES (@name, @weight, @cpu, @mem, @disk, @gpus, @createdAt, @updatedAt)
       ON CONFLICT (name) DO UPDATE SET weight = excluded.weight, quota_cpu_milli = excluded.quota_cpu_milli, quota_mem_bytes = excluded.quota_mem_bytes,
         quota_disk_bytes = excluded.quota_disk_bytes, quota_gpus = excluded.quota_gpus, updated_at = excluded.updated_at`,
    )
    .run({name: team.name, weight: team.weight, cpu: team.quota.cpuMilli ?? null, mem: team.quota.memBytes ?? null, disk: team.quota.diskBytes ?? null, gpus: team.quota.gpus ?? null, createdAt: team.createdAt, updatedAt: team.updatedAt})
}
