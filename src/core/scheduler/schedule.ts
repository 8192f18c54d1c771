import {runSchedule} from './engine.js'
import type {Plan, ScheduleOptions, Snapshot, TaskRequest} from './types.js'

/**
 * Proposes where each task of `work` should run. Pure: reads the snapshot, never
 * changes it, no clock, no I/O, no Math.random(); the same arguments give the same plan.
 * Nodes are found through a free-resource index (near-linear in tasks + nodes).
 */
export function schedule(snapshot: Snapshot, work: readonly TaskRequest[], options: ScheduleOptions): Plan {
  return runSchedule(snapshot, work, options, 'indexed').plan
}

/**
 * The same scheduler with a full scan of every node for every task (O(tasks x nodes)):
 * the reference the indexed search is tested and benchmarked against.
 */
export function scheduleNaive(snapshot: Snapshot, work: readonly TaskRequest[], options: ScheduleOptions): Plan {
  return runSchedule(snapshot, work, options, 'naive').plan
}
