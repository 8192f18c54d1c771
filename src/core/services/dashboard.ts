/**
 * What the terminal dashboard reads and does, through the same services as the
 * CLI commands: one consistent snapshot of the state file per refresh, and
 * cordon / uncordon / drain / scale / stop a task / logs. It never takes the
 * controller lease itself (scale does what `clusterctl scale` does: one pass, or
 * the running daemon's next pass).
 */
import {stripVTControlCharacters} from 'node:util'

import type {JobDeployments, RolloutStatus} from '../model/deployment.js'
import type {ClusterEvent} from '../model/event.js'
import type {Node} from '../model/node.js'
import type {JobRuns} from '../model/run.js'
import type {Job, Task} from '../model/task.js'
import {listDeployments, openDeployments, rollbackTarget} from '../state/deployments.js'
import {listEvents} from '../state/events.js'
import {listJobs, listTasks} from '../state/jobs.js'
import {listNodes} from '../state/nodes.js'
import {listRuns} from '../state/runs.js'
import type {ServiceContext} from '../context.js'
import {statusOf} from './deployments.js'
import {scaleJob, stopTask, taskLogs} from './jobs.js'
import {setSchedulable, startDrain} from './nodes.js'
import {scheduleViews} from './runs.js'

/** Events handed to a dashboard that has none yet; later reads bring only newer ones. */
export const FIRST_EVENTS = 300

/** Runs a job's detail shows (the newest). */
export const DETAIL_RUNS = 20

/** Versions a job's detail shows (the newest). */
export const DETAIL_DEPLOYMENTS = 5

export interface ClusterSnapshot {
  at: number
  nodes: Node[]
  jobs: Job[]
  tasks: Task[]
  events: ClusterEvent[]
  /** The runs of the job asked for (the one whose detail is open), when it is run-driven. */
  jobRuns: JobRuns | null
  /** The status of every open (running or paused) rollout, as `rollout status` reads it. */
  rollouts: RolloutStatus[]
  /** The newest versions of the job asked for (the one whose detail is open). */
  jobDeployments: JobDeployments | null
}

/** What a snapshot reads beyond the lists: the job whose detail is open. */
export interface SnapshotFocus {
  job?: string
}

/** Nodes, jobs, live tasks, open rollouts, the events after `afterEventId` and the focused job's runs and versions, in one read transaction. */
export function clusterSnapshot(ctx: Pick<ServiceContext, 'store' | 'clock'>, afterEventId = 0, focus: SnapshotFocus = {}): ClusterSnapshot {
  const {store} = ctx
  return store.read(() => {
    const jobs = listJobs(store)
    const focused = focus.job === undefined ? undefined : jobs.find((j) => j.name === focus.job)
    const schedule = focused?.spec.runPolicy ? scheduleViews(ctx, 3, new Set([focused.id])).get(focused.id) : undefined
    const at = ctx.clock.now()
    const tasks = listTasks(store, {live: true})
    const open = openDeployments(store)
    const history = focused ? listDeployments(store, focused.id).slice(0, DETAIL_DEPLOYMENTS) : []
    const newest = history[0]
    return {
      at,
      nodes: listNodes(store),
      jobs,
      tasks,
      rollouts: jobs.filter((j) => open.has(j.id)).map((j) => statusOf(j, open.get(j.id)!, tasks, at, rollbackTarget(store, open.get(j.id)!))),
      jobDeployments: focused && newest ? {job: focused.name, status: statusOf(focused, newest, tasks, at, rollbackTarget(store, newest)), history} : null,
      events: listEvents(store, {afterId: afterEventId, limit: afterEventId === 0 ? FIRST_EVENTS : 1000}),
      jobRuns: focused && schedule ? {job: focused.name, schedule, runs: listRuns(store, {jobId: focused.id, limit: DETAIL_RUNS})} : null,
    }
  })
}

/** The dashboard's source (src/ui/dashboard/types.ts `DashboardSource`), over the services. */
export function dashboardSource(ctx: ServiceContext, label: string) {
  return {
    label,
    snapshot: (afterEventId: number, focus?: SnapshotFocus) => clusterSnapshot(ctx, afterEventId, focus),
    setSchedulable: (node: string, schedulable: boolean) => ({changed: setSchedulable(ctx, node, schedulable).changed}),
    drain: (node: string) => ({changed: startDrain(ctx, node).changed}),
    stopTask: (taskId: string) => ({changed: stopTask(ctx, taskId).changed}),
    async scale(job: string, instances: number) {
      const {pass} = await scaleJob(ctx, job, instances)
      return {
        instances,
        pending: pass.pending.filter((p) => p.job === job).map((p) => `${p.job}.${p.instance}: ${p.reason}`),
        failed: pass.actions.filter((a) => a.job === job && !a.ok).length,
        convergedBy: pass.convergedBy ? `the daemon, pid ${pass.convergedBy.pid} on ${pass.convergedBy.hostname}` : null,
      }
    },
    async logs(taskId: string, tail: number): Promise<string[]> {
      const chunks: Buffer[] = []
      const collect = (chunk: Buffer): void => {
        chunks.push(chunk)
      }

      await taskLogs(ctx, taskId, {follow: false, tail, onStdout: collect, onStderr: collect})
      const text = stripVTControlCharacters(Buffer.concat(chunks).toString('utf8'))
      return text.split(/\r?\n/).slice(-tail).filter((line, i, all) => i < all.length - 1 || line !== '')
    },
  }
}
