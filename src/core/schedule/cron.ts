/**
 * Cron expressions: 5 fields (minute hour day-of-month month day-of-week), or 6 with
 * seconds first; `*`, lists, ranges, steps, month and weekday names, `?` as `*`, 7 as
 * Sunday, and the macros @yearly @annually @monthly @weekly @daily @midnight @hourly.
 * Day-of-month and day-of-week restricted together match either (Vixie cron).
 * Evaluated on the wall clock of a time zone (zone.ts has the DST rule).
 */
import {UserError} from '../errors.js'
import {utcOf, wallOf} from './zone.js'

export interface CronExpr {
  text: string
  seconds: readonly number[]
  minutes: readonly number[]
  hours: readonly number[]
  days: ReadonlySet<number>
  months: ReadonlySet<number>
  weekdays: ReadonlySet<number>
  /** Whether day-of-month / day-of-week were restricted (not `*`). */
  dayRestricted: boolean
  weekdayRestricted: boolean
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

interface FieldDef {
  name: string
  min: number
  max: number
  names?: readonly string[]
  /** Value of names[0] */
  nameBase?: number
}

const FIELDS: Record<'second' | 'minute' | 'hour' | 'day' | 'month' | 'weekday', FieldDef> = {
  second: {name: 'second', min: 0, max: 59},
  minute: {name: 'minute', min: 0, max: 59},
  hour: {name: 'hour', min: 0, max: 23},
  day: {name: 'day-of-month', min: 1, max: 31},
  month: {name: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1},
  weekday: {name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, nameBase: 0},
}

/** Whether a text looks like a cron expression (rather than an ISO 8601 interval). */
export function looksLikeCron(text: string): boolean {
  const t = text.trim()
  return t.startsWith('@') || /\s/.test(t)
}

export function parseCron(input: string): CronExpr {
  const text = input.trim()
  let source = text
  if (text.startsWith('@')) {
    const macro = MACROS[text.toLowerCase()]
    if (!macro) throw new UserError(`${JSON.stringify(text)} is not a cron macro; use one of ${Object.keys(MACROS).join(', ')}`)
    source = macro
  }

  const parts = source.split(/\s+/)
  if (parts.length !== 5 && parts.length !== 6) throw new UserError(`cron ${JSON.stringify(text)} has ${parts.length} fields; give 5 (minute hour day month weekday) or 6 (seconds first)`)
  const [sec, min, hour, day, month, weekday] = parts.length === 6 ? parts : ['0', ...parts]
  const where = (f: FieldDef, value: string): string => `cron ${JSON.stringify(text)}: ${f.name} ${JSON.stringify(value)}`
  const weekdays = new Set(parseField(weekday!, FIELDS.weekday, where).map((d) => (d === 7 ? 0 : d)))
  return {
    text,
    seconds: parseField(sec!, FIELDS.second, where),
    minutes: parseField(min!, FIELDS.minute, where),
    hours: parseField(hour!, FIELDS.hour, where),
    days: new Set(parseField(day!, FIELDS.day, where)),
    months: new Set(parseField(month!, FIELDS.month, where)),
    weekdays,
    dayRestricted: !isStar(day!),
    weekdayRestricted: !isStar(weekday!),
  }
}

const isStar = (field: string): boolean => field === '*' || field === '?'

function parseField(field: string, def: FieldDef, where: (f: FieldDef, v: string) => string): number[] {
  const out = new Set<number>()
  for (const item of field.split(',')) {
    if (/[LW#]/i.test(item) && !def.names?.some((n) => item.toLowerCase().includes(n))) throw new UserError(`${where(def, item)} is not supported: L, W and # are not (use *, N, N-M, */S, N-M/S or a list of them)`)
    const m = /^(\*|\?|[a-z0-9]+)(?:-([a-z0-9]+))?(?:\/(\d+))?$/i.exec(item)
    if (!m) throw new UserError(`${where(def, item)} is not valid: use *, N, N-M, */S, N-M/S or a list of them (L, W and # are not supported)`)
    const star = m[1] === '*' || m[1] === '?'
    if (star && m[2] !== undefined) throw new UserError(`${where(def, item)} is not valid: * cannot start a range`)
    const lo = star ? def.min : value(m[1]!, def, where)
    const hi = m[2] !== undefined ? value(m[2], def, where) : star || m[3] !== undefined ? def.max : lo
    const step = m[3] === undefined ? 1 : Number(m[3])
    if (step < 1) throw new UserError(`${where(def, item)}: the step must be at least 1`)
    if (hi < lo) throw new UserError(`${where(def, item)}: the range runs backwards`)
    for (let v = lo; v <= hi; v += step) out.add(v)
  }

  return [...out].sort((a, b) => a - b)
}

function value(token: string, def: FieldDef, where: (f: FieldDef, v: string) => string): number {
  const named = def.names?.indexOf(token.toLowerCase()) ?? -1
  const n = named >= 0 ? named + (def.nameBase ?? 0) : /^\d+$/.test(token) ? Number(token) : Number.NaN
  if (!Number.isInteger(n) || n < def.min || n > def.max) throw new UserError(`${where(def, token)} is out of range ${def.min}-${def.max}`)
  return n
}

const DAY_MS = 86_400_000
/** Impossible expressions (`0 0 31 2 *`) end the search after this many days. */
const SEARCH_DAYS = 366 * 5

/** The first firing strictly after `after` (ms), or null if there is none within five years. */
export function nextCron(expr: CronExpr, after: number, timezone: string): number | null {
  const start = wallOf(after, timezone)
  // Walk the wall-clock calendar day by day (Date.UTC does the calendar arithmetic).
  for (let i = 0; i <= SEARCH_DAYS; i++) {
    const date = new Date(Date.UTC(start.year, start.month - 1, start.day) + i * DAY_MS)
    const y = date.getUTCFullYear()
    const mo = date.getUTCMonth() + 1
    const d = date.getUTCDate()
    if (!expr.months.has(mo) || !dayMatches(expr, d, date.getUTCDay())) continue
    for (const h of expr.hours) {
      if (i === 0 && h < start.hour) continue
      for (const mi of expr.minutes) {
        if (i === 0 && h === start.hour && mi < start.minute) continue
        for (const s of expr.seconds) {
          const at = utcOf(y, mo, d, h, mi, s, timezone)
          if (at > after) return at
        }
      }
    }
  }

  return null
}

function dayMatches(expr: CronExpr, day: number, weekday: number): boolean {
  if (expr.dayRestricted && expr.weekdayRestricted) return expr.days.has(day) || expr.weekdays.has(weekday)
  return expr.days.has(day) && expr.weekdays.has(weekday)
}
