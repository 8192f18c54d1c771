/**
 * Resource vectors. CPU is kept in integer milli-cores and sizes in integer bytes
 * so that sums and comparisons in the scheduler are exact.
 */
import {UserError} from '../errors.js'

export interface Resources {
  /** CPU in milli-cores (1000 = one core). */
  cpuMilli: number
  memBytes: number
  diskBytes: number
  gpus: number
}

export const ZERO_RESOURCES: Readonly<Resources> = Object.freeze({cpuMilli: 0, memBytes: 0, diskBytes: 0, gpus: 0})

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 1024,
  mi: 1024 ** 2,
  gi: 1024 ** 3,
  ti: 1024 ** 4,
  p: 1e15,
  pi: 1024 ** 5,
}

/** Parses `512Mi`, `2Gi`, `1.5G`, `1024` (bytes) into bytes. */
export function parseBytes(text: string, field = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]i?|b)?b?\s*$/i.exec(text)
  if (!m) throw new UserError(`${field}: expected a size like 512Mi, 2Gi or 1.5G, got ${JSON.stringify(text)}`)
  const factor = UNITS[(m[2] ?? '').toLowerCase()]
  if (factor === undefined) throw new UserError(`${field}: unknown unit in ${JSON.stringify(text)}; use Ki, Mi, Gi, Ti or Pi`)
  return Math.round(Number(m[1]) * factor)
}

/** Parses a CPU count (`2`, `0.5`, `500m`) into milli-cores. */
export function parseCpuMilli(text: string, field = 'cpus'): number {
  const m = /^\s*(\d+(?:\.\d+)?)(m?)\s*$/.exec(text)
  if (!m) throw new UserError(`${field}: expected a CPU count like 2, 0.5 or 500m, got ${JSON.stringify(text)}`)
  return m[2] === 'm' ? Math.round(Number(m[1])) : Math.round(Number(m[1]) * 1000)
}

function parseCount(text: string, field: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new UserError(`${field}: expected a whole number, got ${JSON.stringify(text)}`)
  return Number(text)
}

/**
 * Parses `cpus=4,mem=8Gi,disk=100Gi,gpus=1` into a partial resource vector.
 * `flag` names the flag in error messages.
 */
export function parseResourceList(text: string, flag: string): Partial<Resources> {
  const out: Partial<Resources> = {}
  const trimmed = text.trim()
  if (trimmed === '') throw new UserError(`${flag}: expected key=value pairs like cpus=4,mem=8Gi, got an empty value`)
  for (const part of trimmed.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) throw new UserError(`${flag}: expected key=value, got ${JSON.stringify(part)} (e.g. ${flag} cpus=4,mem=8Gi)`)
    const key = part.slice(0, eq).trim().toLowerCase()
    const value = part.slice(eq + 1).trim()
    switch (key) {
      case 'cpu':
      case 'cpus':
        out.cpuMilli = parseCpuMilli(value, `${flag} cpus`)
        break
      case 'mem':
      case 'memory':
        out.memBytes = parseBytes(value, `${flag} mem`)
        break
      case 'disk':
        out.diskBytes = parseBytes(value, `${flag} disk`)
        break
      case 'gpu':
      case 'gpus':
        out.gpus = parseCount(value, `${flag} gpus`)
        break
      default:
        throw new UserError(`${flag}: unknown resource ${JSON.stringify(key)}; use cpus, mem, disk or gpus`)
    }
  }
  return out
}

export function addResources(a: Resources, b: Resources): Resources {
  return {cpuMilli: a.cpuMilli + b.cpuMilli, memBytes: a.memBytes + b.memBytes, diskBytes: a.diskBytes + b.diskBytes, gpus: a.gpus + b.gpus}
}

/** a - b, floored at zero per dimension. */
export function subtractResources(a: Resources, b: Resources): Resources {
  return {
    cpuMilli: Math.max(0, a.cpuMilli - b.cpuMilli),
    memBytes: Math.max(0, a.memBytes - b.memBytes),
    diskBytes: Math.max(0, a.diskBytes - b.diskBytes),
    gpus: Math.max(0, a.gpus - b.gpus),
  }
}

export function fitsWithin(request: Resources, free: Resources): boolean {
  return request.cpuMilli <= free.cpuMilli && request.memBytes <= free.memBytes && request.diskBytes <= free.diskBytes && request.gpus <= free.gpus
}

/** Human size with binary units: 1536Mi -> "1.5Gi". */
export function formatBytes(bytes: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi']
  let value = bytes
  let i = 0
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024
    i++
  }
  const rounded = value >= 100 || i === 0 ? Math.round(value).toString() : (Math.round(value * 10) / 10).toString()
  return `${rounded}${units[i]}`
}

export function formatCpu(cpuMilli: number): string {
  return (Math.round(cpuMilli) / 1000).toString()
}

/** The JSON shape of a resource vector: cpus as a decimal number of cores. */
export interface ResourcesJson {
  cpus: number
  memBytes: number
  diskBytes: number
  gpus: number
}

export function resourcesToJson(r: Resources): ResourcesJson {
  return {cpus: r.cpuMilli / 1000, memBytes: r.memBytes, diskBytes: r.diskBytes, gpus: r.gpus}
}
