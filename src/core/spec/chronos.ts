/**
 * Chronos job JSON into clusterctl's own spec document (then validated like any
 * other). Every Chronos field is either mapped, ignored quietly (the runtime fields of
 * an exported job list) or warned about by name; nothing is dropped silently.
 * docs/scheduled-jobs.md lists what happens to each field.
 */
import {createHash} from 'node:crypto'

import {UserError} from '../errors.js'
import {JOB_NAME} from './validate.js'
import {nfsOfLocalDriver, volumeNameOf} from './volumes.js'
import {parseIsoPeriod} from '../schedule/iso.js'

export interface ChronosOptions {
  /** The image of a job without a container (`apply --default-image`). */
  defaultImage?: string
}

/** Runtime state of an exported job list: not configuration, ignored without a word. */
const RUNTIME_FIELDS = new Set(['successCount', 'errorCount', 'lastSuccess', 'lastError', 'errorsSinceLastSuccess'])

/** Fields that are read (the rest are warned about). */
const MAPPED = new Set([
  'name', 'command', 'shell', 'arguments', 'schedule', 'scheduleTimeZone', 'parents', 'epsilon', 'retries', 'disabled',
  'concurrent', 'cpus', 'mem', 'disk', 'environmentVariables', 'container', 'constraints', 'maxCompletionTime',
  'owner', 'ownerName', 'description',
])
const CONTAINER_MAPPED = new Set(['type', 'image', 'volumes'])

/** Chronos constraint operators -> clusterctl's. */
const OPERATORS: Record<string, string> = {EQUALS: 'IS', LIKE: 'LIKE', UNLIKE: 'UNLIKE'}

/**
 * A Chronos name as a clusterctl job name: lower case, other characters as '-'. A name
 * longer than 63 characters keeps its first 54 and ends in 8 hex digits of a hash of the
 * whole Chronos name, so two long names that share a prefix stay two jobs (Airbnb's
 * exported list has such pairs) and a parent reference maps to the same name.
 */
export function chronosName(name: string): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '')
  if (clean.length <= 63) return clean
  return `${clean.slice(0, 54).replace(/-+$/, '')}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`
}

/** The fields of a Chronos volume (JobDeserializer reads these; it has no persistent volumes). */
const VOLUME_FIELDS = new Set(['hostPath', 'containerPath', 'mode', 'external'])

/**
 * One of `container.volumes`: a host path (absolute; a relative one is in the Mesos
 * sandbox, which clusterctl has not), or an external volume (a Docker volume driver's, as
 * Chronos gives Mesos it): Docker's local driver mounting NFS is an NFS volume here, any
 * other is warned about. `persistent` is not a Chronos field (Chronos drops it, as it
 * drops any other): warned about. Undefined: not mounted.
 */
function chronosVolume(v: Record<string, unknown>, warn: (field: string, message: string) => void): Record<string, unknown> | undefined {
  const at = JSON.stringify(v.containerPath ?? null)
  const readOnly = String(v.mode ?? 'RW').toUpperCase() === 'RO'
  for (const key of Object.keys(v)) {
    if (VOLUME_FIELDS.has(key)) continue
    if (key === 'persistent') warn('container.volumes.persistent', `field container.volumes.persistent is not supported and the volume at ${at} was not mounted (Chronos has no persistent volumes: it reads hostPath, containerPath, mode and external only)`)
    else warn(`container.volumes.${key}`, `field container.volumes.${key} is not supported and was ignored`)
  }

  if (typeof v.hostPath === 'string') {
    if (v.hostPath.startsWith('/')) return {source: v.hostPath, target: v.containerPath, readOnly}
    warn('container.volumes.hostPath', `field container.volumes.hostPath is not supported relative to the Mesos sandbox (${JSON.stringify(v.hostPath)}), which clusterctl has not: the volume at ${at} was not mounted`)
    return undefined
  }

  if (v.external !== undefined && v.external !== null) {
    const e = typeof v.external === 'object' && !Array.isArray(v.external) ? (v.external as Record<string, unknown>) : {}
    const options: Record<string, unknown> = {}
    for (const o of Array.isArray(e.options) ? e.options : []) if (o !== null && typeof o === 'object' && typeof (o as Record<string, unknown>).key === 'string') options[(o as Record<string, string>).key!] = (o as Record<string, unknown>).value
    const nfs = nfsOfLocalDriver(e.provider, options)
    if (nfs && typeof e.name === 'string') return {name: volumeNameOf(e.name), mount: v.containerPath, readOnly, source: {nfs}}
    warn('container.volumes.external', `field container.volumes.external is not supported (a volume of a Docker volume driver, here ${JSON.stringify(e.provider ?? null)}; clusterctl's volumes are local, NFS and host paths, and Docker's local driver mounting NFS is an NFS volume) and the volume at ${at} was not mounted`)
    return undefined
  }

  if (v.persistent === undefined) warn('container.volumes', `field container.volumes is not supported without a hostPath or external: the volume at ${at} was not mounted`)
  return undefined
}

const number = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined)

/**
 * One Chronos job -> a raw clusterctl document. `warn` receives one message per
 * unsupported field (by name); bad values are left for the validator to name.
 */
export function chronosToSpec(job: Record<string, unknown>, where: string, options: ChronosOptions, warn: (field: string, message: string) => void): Record<string, unknown> {
  const rawName = typeof job.name === 'string' ? job.name : ''
  const name = chronosName(rawName)
  if (rawName !== '' && name !== rawName) warn('name', `Chronos job ${JSON.stringify(rawName)} is named ${name} here (job names are lower-case letters, digits and '-')`)
  for (const key of Object.keys(job)) {
    if (!MAPPED.has(key) && !RUNTIME_FIELDS.has(key)) warn(key, `field ${key} is not supported and was ignored`)
  }

  const out: Record<string, unknown> = {name: name || rawName, kind: 'batch'}
  const container = job.container
  let image: unknown
  if (container !== undefined && container !== null) {
    if (typeof container !== 'object' || Array.isArray(container)) throw new UserError(`${where}: container must be an object like {"type": "DOCKER", "image": "..."}.`, {code: 'invalid-spec'})
    const c = container as Record<string, unknown>
    const type = typeof c.type === 'string' ? c.type.toUpperCase() : 'DOCKER'
    if (type !== 'DOCKER' && type !== 'MESOS') throw new UserError(`${where}: container.type must be DOCKER or MESOS, got ${JSON.stringify(c.type)}.`, {code: 'invalid-spec'})
    for (const key of Object.keys(c)) if (!CONTAINER_MAPPED.has(key)) warn(`container.${key}`, `field container.${key} is not supported and was ignored`)
    image = c.image
    if (Array.isArray(c.volumes)) {
      const volumes = c.volumes.map((v) => chronosVolume(v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}, warn)).filter((v) => v !== undefined)
      if (volumes.length > 0) out.volumes = volumes
    }
  }

  if (image === undefined || image === null || image === '') {
    if (!options.defaultImage) throw new UserError(`${where}: Chronos job ${rawName || '(unnamed)'} has no container image.`, {code: 'invalid-spec', hint: 'Give one with `clusterctl apply -f FILE --default-image IMAGE` (jobs without a container run their command in it).'})
    image = options.defaultImage
  }

  out.image = image
  const shell = job.shell === undefined ? true : job.shell !== false
  const args = Array.isArray(job.arguments) ? job.arguments : []
  if (typeof job.command === 'string' && job.command.trim() !== '') out.command = shell ? job.command : [job.command, ...args.map(String)]
  else if (args.length > 0) out.command = args.map(String)
  if (shell && args.length > 0 && typeof job.command === 'string' && job.command.trim() !== '') warn('arguments', 'arguments are ignored with shell: true (Chronos passes them only to a non-shell command)')

  const schedule = typeof job.schedule === 'string' ? job.schedule.trim() : ''
  const parents = Array.isArray(job.parents) ? job.parents.map((p) => (typeof p === 'string' ? chronosName(p) : p)) : []
  if (schedule !== '') out.schedule = schedule
  if (parents.length > 0) out.after = parents
  if (schedule === '' && parents.length === 0) out.schedule = 'R1//PT24H' // Chronos' default for a job without a schedule
  if (typeof job.scheduleTimeZone === 'string' && job.scheduleTimeZone.trim() !== '' && schedule !== '') out.timezone = job.scheduleTimeZone.trim()
  if (job.epsilon !== undefined && job.epsilon !== null && job.epsilon !== '') {
    try {
      const p = parseIsoPeriod(String(job.epsilon))
      out.startingDeadline = `${Math.max(1, Math.round(((p.years * 365 + p.months * 30 + p.days) * 86_400_000 + p.ms) / 1000))}s`
    } catch (error) {
      throw new UserError(`${where}: epsilon: ${(error as Error).message}.`, {code: 'invalid-spec'})
    }
  }

  if (job.retries !== undefined) out.retries = job.retries
  if (job.disabled === true) out.suspend = true
  if (job.concurrent === true) out.concurrency = 'allow'
  const maxMs = number(job.maxCompletionTime)
  if (maxMs !== undefined && maxMs > 0) out.deadline = `${Math.max(1, Math.round(maxMs / 1000))}s`
  for (const [key, unit] of [['cpus', ''], ['mem', 'Mi'], ['disk', 'Mi']] as const) {
    const v = job[key]
    if (v === undefined || v === null) continue
    const n = number(v)
    out[key] = n === undefined ? v : unit ? `${Math.ceil(n)}${unit}` : n
  }

  if (Array.isArray(job.environmentVariables)) {
    const env: Record<string, unknown> = {}
    for (const e of job.environmentVariables as Array<Record<string, unknown>>) if (e && typeof e.name === 'string') env[e.name] = e.value ?? ''
    out.env = env
  }

  if (Array.isArray(job.constraints) && job.constraints.length > 0) {
    out.constraints = job.constraints.map((c: unknown) => {
      if (!Array.isArray(c) || c.length < 2) return c
      const op = OPERATORS[String(c[1]).toUpperCase()]
      if (!op) throw new UserError(`${where}: constraint ${JSON.stringify(c)}: the operator ${JSON.stringify(c[1])} is not supported (EQUALS, LIKE, UNLIKE are).`, {code: 'invalid-spec'})
      return [String(c[0]), op, ...(c[2] === undefined ? [] : [String(c[2])])]
    })
  }

  const labels: Record<string, string> = {}
  for (const key of ['owner', 'ownerName', 'description'] as const) if (typeof job[key] === 'string' && (job[key] as string).trim() !== '') labels[`chronos.${key}`] = (job[key] as string).trim()
  if (Object.keys(labels).length > 0) out.labels = labels
  if (!JOB_NAME.test(String(out.name))) throw new UserError(`${where}: Chronos job name ${JSON.stringify(rawName)} cannot be made a job name (lower-case letters, digits and '-').`, {code: 'invalid-spec'})
  return out
}
