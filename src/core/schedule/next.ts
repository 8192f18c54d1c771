/**
 * One schedule type for both syntaxes, and the one pure `next(schedule, after)`.
 * A schedule text is either one or several cron expressions (a list, or joined with
 * `;`), or one Chronos ISO 8601 repeating interval. See README.md in this folder.
 */
import {UserError} from '../errors.js'
import {type CronExpr, looksLikeCron, nextCron, parseCron} from './cron.js'
import {type IsoSchedule, nextIso, parseIso} from './iso.js'
import {checkTimezone} from './zone.js'

export type Schedule =
  | {kind: 'cron'; text: string; timezone: string; exprs: readonly CronExpr[]}
  | {kind: 'iso'; text: string; timezone: string; iso: IsoSchedule}

/** Splits a spec's `schedule` (a string, `;`-joined expressions, or a list) into its expressions. */
export function scheduleTexts(value: string | readonly string[]): string[] {
  const list = typeof value === 'string' ? value.split(';') : [...value]
  return list.map((t) => t.trim()).filter((t) => t !== '')
}

/** Parses and checks a schedule; throws a UserError that says what is wrong. */
export function parseSchedule(value: string | readonly string[], timezone = 'UTC'): Schedule {
  const zone = checkTimezone(timezone)
  const texts = scheduleTexts(value)
  if (texts.length === 0) throw new UserError('the schedule is empty; give a cron expression like "*/10 * * * *" or an ISO 8601 interval like R/2026-01-01T00:00:00Z/PT1H')
  const text = texts.join('; ')
  if (texts.length === 1 && !looksLikeCron(texts[0]!)) return {kind: 'iso', text, timezone: zone, iso: parseIso(texts[0]!, zone)}
  const bad = texts.find((t) => !looksLikeCron(t))
  if (bad) throw new UserError(`${JSON.stringify(bad)}: several schedules must all be cron expressions (an ISO 8601 interval stands alone)`)
  return {kind: 'cron', text, timezone: zone, exprs: texts.map(parseCron)}
}

/** An ISO schedule with an empty START starts at `anchor` (the job's submit time); others are unchanged. */
export function bindStart(schedule: Schedule, anchor: number): Schedule {
  return schedule.kind === 'iso' && schedule.iso.start === null ? {...schedule, iso: {...schedule.iso, start: anchor}} : schedule
}

/**
 * The first firing strictly after `after` (ms since the epoch), or null when there is
 * none (R0, an impossible date). An ISO schedule with an empty START must be bound
 * first (bindStart); the Rn count is the caller's (it drops per launch).
 */
export function next(schedule: Schedule, after: number): number | null {
  if (schedule.kind === 'iso') {
    if (schedule.iso.start === null) throw new TypeError('next(): bind the empty START of an ISO schedule first (bindStart)')
    return nextIso(schedule.iso as IsoSchedule & {start: number}, after, schedule.timezone)
  }

  let best: number | null = null
  for (const expr of schedule.exprs) {
    const t = nextCron(expr, after, schedule.timezone)
    if (t !== null && (best === null || t < best)) best = t
  }

  return best
}

/** The next `count` firings after `after` (for listings). */
export function upcoming(schedule: Schedule, after: number, count: number): number[] {
  const out: number[] = []
  let t: number | null = after
  while (out.length < count && (t = next(schedule, t)) !== null) out.push(t)
  return out
}

/** The ISO repeat count (null: unlimited, or cron). */
export function repeatCount(schedule: Schedule): number | null {
  return schedule.kind === 'iso' ? schedule.iso.repeat : null
}
