/** Teams: `clusterctl team set` and `clusterctl teams` (docs/teams.md). */
import {UserError} from '../errors.js'
import {allocatableOf} from '../model/node.js'
import type {Resources} from '../model/resources.js'
import {DEFAULT_TEAM, type Team, teamAllocations, teamNameProblem} from '../model/team.js'
import {clusterTotal, dominantShare} from '../scheduler/order.js'
import {appendEvent} from '../state/events.js'
import {listJobs, listTasks} from '../state/jobs.js'
import {listNodes} from '../state/nodes.js'
import {findTeam, listTeams, upsertTeam} from '../state/teams.js'
import type {ServiceContext} from '../context.js'

export interface TeamChange {
  /** > 0; absent: unchanged (1 for a new team). */
  weight?: number
  /** The new quota, replacing the old one (an absent dimension is unlimited); null: no quota; absent: unchanged. */
  quota?: Partial<Resources> | null
}

export function setTeam(ctx: Pick<ServiceContext, 'store' | 'clock'>, name: string, change: TeamChange): {team: Team; created: boolean} {
  const problem = teamNameProblem(name)
  if (problem) throw new UserError(`${problem}.`)
  if (change.weight !== undefined && !(Number.isFinite(change.weight) && change.weight > 0 && change.weight <= 1000)) throw new UserError(`--weight must be a number above 0 and at most 1000, got ${change.weight}.`, {hint: `e.g. \`clusterctl team set ${name} --weight 2\``})
  const {store} = ctx
  const now = ctx.clock.now()
  return store.write(() => {
    const existing = findTeam(store, name)
    const team: Team = {
      name,
      weight: change.weight ?? existing?.weight ?? 1,
      quota: change.quota === undefined ? existing?.quota ?? {} : change.quota ?? {},
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    }
    upsertTeam(store, team)
    appendEvent(store, {type: existing ? 'team.updated' : 'team.created', subjectKind: 'cluster', subject: name, message: `weight ${team.weight}, quota ${Object.keys(team.quota).length ? JSON.stringify(team.quota) : 'none'}`, data: {weight: team.weight, quota: team.quota}})
    return {team, created: !existing}
  })
}

export interface TeamView {
  team: Team
  jobs: number
  /** Placed live tasks and what they hold. */
  running: number
  pending: number
  allocated: Resources
  /** Of the cluster's resources (nodes that are up), in the team's dominant dimension. */
  dominantShare: number
  /** dominantShare / weight: what DRF orders by (lowest first). */
  weightedShare: number
  dominantResource: keyof Resources | null
  total: Resources
}

/** Every team that has a row, a job, or is the default, with what it holds and its shares. */
export function teamViews(ctx: Pick<ServiceContext, 'store'>): TeamView[] {
  const {store} = ctx
  return store.read(() => {
    const jobs = listJobs(store)
    const jobsById = new Map(jobs.map((j) => [j.id, j]))
    const live = listTasks(store, {live: true}).filter((t) => t.desired === 'run')
    const placed = live.filter((t) => t.nodeId !== null && t.state !== 'pending' && t.state !== 'unreachable')
    const allocations = teamAllocations(placed, jobsById)
    const total = clusterTotal(listNodes(store).map((n) => ({state: n.state, allocatable: allocatableOf(n)})))
    const teams = new Map(listTeams(store).map((t) => [t.name, t]))
    const teamOfJob = (jobId: string): string => jobsById.get(jobId)?.spec.team ?? DEFAULT_TEAM
    const names = new Set([DEFAULT_TEAM, ...teams.keys(), ...jobs.map((j) => j.spec.team ?? DEFAULT_TEAM)])
    return [...names].sort().map((name) => {
      const team = teams.get(name) ?? {name, weight: 1, quota: {}, createdAt: 0, updatedAt: 0}
      const a = allocations.get(name)
      const allocated = a?.allocated ?? {cpuMilli: 0, memBytes: 0, diskBytes: 0, gpus: 0}
      const share = dominantShare(allocated, total)
      const dims = (['cpuMilli', 'memBytes', 'diskBytes', 'gpus'] as const).filter((d) => total[d] > 0 && allocated[d] > 0)
      const dominantResource = dims.length === 0 ? null : dims.reduce((best, d) => (allocated[d] / total[d] > allocated[best] / total[best] ? d : best))
      return {
        team,
        jobs: jobs.filter((j) => (j.spec.team ?? DEFAULT_TEAM) === name).length,
        running: a?.running ?? 0,
        pending: live.filter((t) => t.state === 'pending' && teamOfJob(t.jobId) === name).length,
        allocated,
        dominantShare: share,
        weightedShare: share / team.weight,
        dominantResource,
        total,
      }
    })
  })
}
