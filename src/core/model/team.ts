/** Teams share the cluster (docs/teams.md): weighted Dominant Resource Fairness and hard quotas. */
import type {Resources} from './resources.js'

/** The team of a job that names none. */
export const DEFAULT_TEAM = 'default'
/** A job's priority when it gives none (1..100). */
export const DEFAULT_PRIORITY = 50
export const TEAM_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

export interface Team {
  name: string
  /** > 0, default 1: a team of weight 2 is entitled to twice the dominant share. */
  weight: number
  /** Hard limits on what the team's live tasks hold together; an absent dimension is unlimited. */
  quota: Partial<Resources>
  createdAt: number
  updatedAt: number
}

/** Why `name` is not a team name, or null. */
export function teamNameProblem(name: string): string | null {
  return TEAM_NAME.test(name) ? null : `${JSON.stringify(name)} is not a team name: use lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit`
}

/** What a team holds: the resources of its placed live tasks, and how many there are. */
export interface TeamAllocation {
  allocated: Resources
  running: number
}

/** Per team, what the given placed tasks hold (each task counts its job's resources toward the job's team). */
export function teamAllocations(placed: ReadonlyArray<{jobId: string}>, jobsById: ReadonlyMap<string, {spec: {resources: Resources; team?: string}}>): Map<string, TeamAllocation> {
  const out = new Map<string, TeamAllocation>()
  for (const t of placed) {
    const spec = jobsById.get(t.jobId)?.spec
    if (!spec) continue
    const name = spec.team ?? DEFAULT_TEAM
    const a = out.get(name) ?? {allocated: {cpuMilli: 0, memBytes: 0, diskBytes: 0, gpus: 0}, running: 0}
    a.allocated = {cpuMilli: a.allocated.cpuMilli + spec.resources.cpuMilli, memBytes: a.allocated.memBytes + spec.resources.memBytes, diskBytes: a.allocated.diskBytes + spec.resources.diskBytes, gpus: a.allocated.gpus + spec.resources.gpus}
    a.running++
    out.set(name, a)
  }

  return out
}
