/** `clusterctl gc` and the daemon's hourly collection (docs/history.md). */
import fs from 'node:fs'

import {UserError} from '../errors.js'
import {collectGarbage, type GcResult, MIN_RETENTION_AGE_MS, readRetention, type Retention, type RetentionSettings, saveRetention} from '../state/history.js'
import type {ServiceContext} from '../context.js'

export type RetentionOverrides = {[K in keyof RetentionSettings]?: Partial<Retention>}

export interface GcReport {
  deleted: GcResult
  settings: RetentionSettings
  saved: boolean
  /** The state file's size after the collection (freed pages are reused, not returned). */
  fileBytes: number | null
}

/** Runs the collection now with the saved settings, changed by `overrides` (and saved with `save`). */
export function runGc(ctx: Pick<ServiceContext, 'store' | 'clock'>, overrides: RetentionOverrides = {}, options: {save?: boolean} = {}): GcReport {
  const saved = readRetention(ctx.store)
  const settings: RetentionSettings = {
    events: {...saved.events, ...overrides.events},
    tasks: {...saved.tasks, ...overrides.tasks},
    runs: {...saved.runs, ...overrides.runs},
  }
  for (const [what, r] of Object.entries(settings) as Array<[string, Retention]>) {
    if (r.maxAgeMs < MIN_RETENTION_AGE_MS) throw new UserError(`--${what}-age must be at least 1h: recent failures decide which nodes a restarting instance avoids.`)
    if (!Number.isInteger(r.maxCount) || r.maxCount < 1) throw new UserError(`--${what}-keep must be a whole number >= 1, got ${r.maxCount}.`)
  }

  if (options.save) saveRetention(ctx.store, settings)
  const deleted = collectGarbage(ctx.store, ctx.clock.now(), settings)
  let fileBytes: number | null = null
  try {
    fileBytes = fs.statSync(ctx.store.file).size
  } catch {
    fileBytes = null
  }

  return {deleted, settings, saved: options.save === true, fileBytes}
}
