/**
 * Wall-clock time in an IANA time zone, with Node's Intl data (no library).
 *
 * The one DST rule (docs/scheduled-jobs.md): a wall time that does not exist (the
 * spring-forward gap) resolves to the first instant after the gap; a wall time that
 * exists twice (the fall-back overlap) resolves to its first occurrence only.
 */
import {UserError} from '../errors.js'

export interface WallTime {
  year: number
  /** 1-12 */
  month: number
  day: number
  hour: number
  minute: number
  second: number
  /** 0 = Sunday */
  weekday: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short'})
    formatters.set(timezone, f)
  }

  return f
}

const WEEKDAYS: Record<string, number> = {Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6}

/** Checks an IANA zone name (`Europe/Berlin`, `UTC`); throws a UserError naming it otherwise. */
export function checkTimezone(timezone: string): string {
  try {
    return formatter(timezone).resolvedOptions().timeZone
  } catch {
    throw new UserError(`${JSON.stringify(timezone)} is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`)
  }
}

/** The wall-clock fields of an instant in a zone. */
export function wallOf(utcMs: number, timezone: string): WallTime {
  const parts: Record<string, string> = {}
  for (const p of formatter(timezone).formatToParts(new Date(Math.floor(utcMs / 1000) * 1000))) parts[p.type] = p.value
  return {year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second), weekday: WEEKDAYS[parts.weekday!] ?? 0}
}

/** The zone's offset from UTC at an instant, in ms (east positive). */
export function offsetAt(utcMs: number, timezone: string): number {
  const w = wallOf(utcMs, timezone)
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(utcMs / 1000) * 1000
}

/** `+01:00`, `-04:00`, `+05:45`. */
export function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+'
  const minutes = Math.abs(Math.round(offsetMs / 60_000))
  return `${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

/** An instant as local ISO 8601 with its UTC offset: `2026-03-08T03:00:00-04:00`. */
export function formatInZone(utcMs: number, timezone: string): string {
  const w = wallOf(utcMs, timezone)
  const p = (n: number, l = 2): string => String(n).padStart(l, '0')
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)}T${p(w.hour)}:${p(w.minute)}:${p(w.second)}${formatOffset(offsetAt(utcMs, timezone))}`
}

const HOUR = 3_600_000

/**
 * The instant of a wall-clock time in a zone, by the DST rule above. Fields may
 * overflow (day 32, hour 25): they roll over like Date.UTC.
 */
export function utcOf(year: number, month: number, day: number, hour: number, minute: number, second: number, timezone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second)
  // The offsets in force well before and well after cover any one transition near this wall time.
  const before = offsetAt(wall - 26 * HOUR, timezone)
  const after = offsetAt(wall + 26 * HOUR, timezone)
  const candidates = [...new Set([wall - before, wall - after])].filter((u) => u + offsetAt(u, timezone) === wall).sort((a, b) => a - b)
  if (candidates.length > 0) return candidates[0]! // the first occurrence of a repeated time
  // In a gap: the first instant whose offset is the later one (the transition), found by bisection.
  let lo = Math.min(wall - before, wall - after)
  let hi = Math.max(wall - before, wall - after)
  const lateOffset = offsetAt(hi, timezone)
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000
    if (offsetAt(mid, timezone) === lateOffset) hi = mid
    else lo = mid
  }

  return hi
}
