/**
 * Chronos' ISO 8601 repeating intervals: `Rn/START/PERIOD`.
 * `R` (or `R-1`) repeats forever, `Rn` n more times (the count drops by one per launch,
 * not per skipped period: the caller keeps it), `R0` never. An empty START means the
 * time the job was submitted (bound by the caller). The years, months, weeks and days
 * of PERIOD move the wall clock of the job's zone (so P1D keeps the hour across DST);
 * hours, minutes and seconds are exact durations.
 */
import {UserError} from '../errors.js'
import {utcOf, wallOf} from './zone.js'

export interface IsoPeriod {
  years: number
  months: number
  days: number
  /** Exact part in ms (hours, minutes, seconds). */
  ms: number
}

export interface IsoSchedule {
  text: string
  /** null: forever. */
  repeat: number | null
  /** null: empty START (the submit time). */
  start: number | null
  period: IsoPeriod
}

const PERIOD = /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i

export function parseIsoPeriod(text: string): IsoPeriod {
  const m = PERIOD.exec(text.trim())
  if (!m || text.trim().toUpperCase() === 'P' || text.trim().toUpperCase().endsWith('T')) throw new UserError(`${JSON.stringify(text)} is not an ISO 8601 period like PT1H, P1D or P1DT12H`)
  const n = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]))
  for (const [i, unit] of [[1, 'years'], [2, 'months'], [3, 'weeks'], [4, 'days']] as const) {
    if (!Number.isInteger(n(i))) throw new UserError(`period ${JSON.stringify(text)}: ${unit} must be whole`)
  }

  const period = {years: n(1), months: n(2), days: n(3) * 7 + n(4), ms: Math.round((n(5) * 3600 + n(6) * 60 + n(7)) * 1000)}
  if (period.years === 0 && period.months === 0 && period.days === 0 && period.ms < 1000) throw new UserError(`period ${JSON.stringify(text)} is shorter than one second`)
  return period
}

/** `R/2014-03-08T20:00:00.000Z/PT2H`, `R5//P1D`, `R0/...`. A START without an offset is read in `timezone`. */
export function parseIso(input: string, timezone: string): IsoSchedule {
  const text = input.trim()
  const parts = text.split('/')
  if (parts.length !== 3) throw new UserError(`${JSON.stringify(text)} is not an ISO 8601 repeating interval Rn/START/PERIOD (e.g. R/2026-01-01T02:00:00Z/P1D, R5//PT1H)`)
  const r = /^R(-1|\d*)$/i.exec(parts[0]!)
  if (!r) throw new UserError(`${JSON.stringify(text)}: the repetitions ${JSON.stringify(parts[0])} must be R, R-1 (forever) or Rn`)
  const repeat = r[1] === '' || r[1] === '-1' ? null : Number(r[1])
  const start = parts[1] === '' ? null : parseInstant(parts[1]!, timezone, text)
  return {text, repeat, start, period: parseIsoPeriod(parts[2]!)}
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i

function parseInstant(value: string, timezone: string, text: string): number {
  const m = INSTANT.exec(value)
  if (!m) throw new UserError(`${JSON.stringify(text)}: START ${JSON.stringify(value)} is not an ISO 8601 date-time like 2026-01-01T02:00:00Z`)
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number]
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) throw new UserError(`${JSON.stringify(text)}: START ${JSON.stringify(value)} is not a valid date-time`)
  const zone = m[8]
  if (zone === undefined) return utcOf(y, mo, d, h, mi, s, timezone) + ms
  const wall = Date.UTC(y, mo - 1, d, h, mi, s) + ms
  if (zone.toUpperCase() === 'Z') return wall
  const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!
  const offset = (Number(z[2]) * 60 + Number(z[3] ?? 0)) * 60_000 * (z[1] === '-' ? -1 : 1)
  return wall - offset
}

/** START + k x PERIOD: the calendar part on the zone's wall clock, the exact part added after. */
export function isoTime(schedule: IsoSchedule & {start: number}, k: number, timezone: string): number {
  const {period} = schedule
  if (period.years === 0 && period.months === 0 && period.days === 0) return schedule.start + k * period.ms
  const w = wallOf(schedule.start, timezone)
  const subSecond = schedule.start % 1000
  return utcOf(w.year + k * period.years, w.month + k * period.months, w.day + k * period.days, w.hour, w.minute, w.second, timezone) + subSecond + k * period.ms
}

/** The first time strictly after `after` (ignoring the repeat count, which the caller keeps); null for R0. */
export function nextIso(schedule: IsoSchedule & {start: number}, after: number, timezone: string): number | null {
  if (schedule.repeat === 0) return null
  if (after < schedule.start) return schedule.start
  const {period} = schedule
  const approx = period.years * 365.2425 * 86_400_000 + period.months * 30.436875 * 86_400_000 + period.days * 86_400_000 + period.ms
  let k = Math.max(0, Math.floor((after - schedule.start) / approx) - 2)
  while (isoTime(schedule, k, timezone) <= after) k++
  return isoTime(schedule, k, timezone)
}
