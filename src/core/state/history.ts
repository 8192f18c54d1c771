/**
 * Bounded history (docs/history.md): events, ended tasks and ended runs are deleted by
 * age and by count. What the controller still needs is never deleted: live tasks, the
 * latest ended task of each instance (restart counts, back-off, batch completion), runs
 * still open or waiting for a retry, and each job's latest run.
 */
import type {Store} from './store.js'
import {readMeta, writeMeta} from './meta.js'

export interface Retention {
  /** Older than this many ms goes. */
  maxAgeMs: number
  /** Beyond the newest this many goes. */
  maxCount: number
}

export interface RetentionSettings {
  events: Retention
  tasks: Retention
  runs: Retention
}

const HOUR = 3_600_000
const DAY = 24 * HOUR

export const DEFAULT_RETENTION: RetentionSettings = {
  events: {maxAgeMs: 7 * DAY, maxCount: 200_000},
  tasks: {maxAgeMs: 1 * DAY, maxCount: 20_000},
  runs: {maxAgeMs: 30 * DAY, maxCount: 20_000},
}

/** The shortest age a setting may have: failures of the last 10 minutes decide which nodes an instance avoids. */
export const MIN_RETENTION_AGE_MS = HOUR

export interface GcResult {
  events: number
  tasks: number
  runs: number
}

const DONE = `('finished', 'failed', 'killed', 'lost')`
const ENDED = `('finished', 'failed', 'lost')`

/** Deletes what the retention settings let go, in one write transaction. */
export function collectGarbage(store: Store, now: number, settings: RetentionSettings = DEFAULT_RETENTION): GcResult {
  return store.write(() => {
    const events =
      store.stmt(`DELETE FROM events WHERE at < ?`).run(now - settings.events.maxAgeMs).changes +
      store.stmt(`DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)`).run(settings.events.maxCount).changes
    // The latest ended task of an instance stays whatever its age (one row per instance: bounded by the jobs).
    const tasks = store
      .stmt(
        `DELETE FROM tasks WHERE state IN ${DONE}
           AND (updated_at < @cutoff OR id IN (SELECT id FROM tasks WHERE state IN ${DONE} ORDER BY updated_at DESC LIMIT -1 OFFSET @keep))
           AND NOT (state IN ${ENDED} AND id = (SELECT u.id FROM tasks u WHERE u.job_id = tasks.job_id AND u.instance = tasks.instance AND u.state IN ${ENDED} ORDER BY u.created_at DESC LIMIT 1))`,
      )
      .run({cutoff: now - settings.tasks.maxAgeMs, keep: settings.tasks.maxCount}).changes
    const runs = store
      .stmt(
        `DELETE FROM runs WHERE state IN ('succeeded', 'failed', 'skipped') AND retry_at IS NULL
           AND (created_at < @cutoff OR id IN (SELECT id FROM runs WHERE state IN ('succeeded', 'failed', 'skipped') ORDER BY created_at DESC LIMIT -1 OFFSET @keep))
           AND id <> (SELECT r.id FROM runs r WHERE r.job_id = runs.job_id ORDER BY r.created_at DESC LIMIT 1)`,
      )
      .run({cutoff: now - settings.runs.maxAgeMs, keep: settings.runs.maxCount}).changes
    return {events, tasks, runs}
  })
}

const META_KEY = 'retention'

/** The saved settings (`clusterctl gc --save`), else the defaults. */
export function readRetention(store: Store): RetentionSettings {
  const text = readMeta(store, META_KEY)
  if (text === undefined) return DEFAULT_RETENTION
  const saved = JSON.parse(text) as Partial<RetentionSettings>
  return {events: {...DEFAULT_RETENTION.events, ...saved.events}, tasks: {...DEFAULT_RETENTION.tasks, ...saved.tasks}, runs: {...DEFAULT_RETENTION.runs, ...saved.runs}}
}

export function saveRetention(store: Store, settings: RetentionSettings): void {
  store.write(() => writeMeta(store, META_KEY, JSON.stringify(settings)))
}
