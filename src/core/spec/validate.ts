/**
 * The project's own job spec: validation into a JobSpec. Every problem names
 * the field and the fix (`web: instances: must be >= 0, got -1`); all problems
 * of a document are reported at once, in one error.
 */
import {UserError} from '../errors.js'
import {fromMarathonCapacity, type HealthCheckSpec, type JobKind, type JobSpec, type PortSpec, type RestartPolicy, RUN_DEFAULTS, type RunPolicy, UPGRADE_DEFAULTS, type UpgradePolicy, type VolumeSpec} from '../model/job.js'
import {RUNTIMES, type RuntimeName} from '../model/node.js'
import {DEFAULT_PRIORITY, DEFAULT_TEAM, teamNameProblem} from '../model/team.js'
import {imageReferenceProblem} from '../model/image.js'
import {CONTAINERD_NETWORK_REASON, networkNameProblem} from '../model/network.js'
import {formatBytes, formatCpu, parseBytes, parseCpuMilli} from '../model/resources.js'
import {parseSchedule} from '../schedule/next.js'
import {checkTimezone} from '../schedule/zone.js'
import {DEFAULT_PORT_RANGE, parseConstraint, parsePreference, validateConstraint, validatePreference} from '../scheduler/constraints.js'
import {frontedPort, servicePortProblem} from '../edge/service-ports.js'
import {DEFAULT_DRAIN_TIMEOUT_MS} from '../edge/runner.js'
import {hasLocalVolume} from '../model/volume.js'
import {parseVolumeItem, volumeListProblems} from './volumes.js'
import type {Constraint, ConstraintOperator, Preference} from '../model/placement.js'

export const JOB_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
const KNOWN_KEYS = new Set([
  'name', 'kind', 'image', 'command', 'args', 'env', 'cpus', 'mem', 'disk', 'gpus', 'instances', 'ports', 'volumes',
  'constraints', 'preferences', 'prefer', 'healthCheck', 'readinessCheck', 'restart', 'labels', 'strategy', 'runtime', 'upgrade',
  ...RUN_KEYS(),
  'init', 'team', 'priority', 'preemption', 'servicePort', 'dependsOn', 'uses', 'network', 'drainTimeout',
])

/** The fields of scheduled and dependent jobs (docs/scheduled-jobs.md). */
function RUN_KEYS(): string[] {
  return ['schedule', 'timezone', 'after', 'retries', 'deadline', 'concurrency', 'catchUp', 'startingDeadline', 'suspend']
}

export const DEFAULTS = {cpuMilli: 100, memBytes: 128 * 1024 * 1024, gracePeriodMs: 30_000, intervalMs: 10_000, timeoutMs: 5000, maxConsecutiveFailures: 3}

/**
 * Bounds checked at submit: far above any machine a job could run on, low enough
 * that a typo (`--mem 99999999Ti`, `--instances 1000000`) is refused at once
 * instead of crash-looping at start. The memory floor is what runtimes can start.
 */
export const LIMITS = {
  cpuMilli: {min: 1, max: 1024 * 1000},
  memBytes: {min: 6 * 1024 ** 2, max: 64 * 1024 ** 4},
  diskBytes: {max: 1024 ** 5},
  gpus: {max: 64},
  instances: {max: 10_000},
}

/** Why `n` is not an instance count, or null. The one rule for specs, `run` and `scale`. */
export function instancesProblem(n: number, shown = String(n)): string | null {
  if (!Number.isInteger(n) || n < 0) return `must be a whole number >= 0, got ${shown}`
  if (n > LIMITS.instances.max) return `must be at most ${LIMITS.instances.max}, got ${shown}`
  return null
}

class Problems {
  readonly list: string[] = []
  constructor(readonly prefix: string) {}
  add(field: string, message: string): void {
    this.list.push(`${field}: ${message}`)
  }

  /** Runs fn; a UserError it throws becomes a problem of that field. */
  attempt<T>(field: string, fn: () => T): T | undefined {
    try {
      return fn()
    } catch (error) {
      if (error instanceof UserError) {
        // Parsers name the value they were given as `value`: the field name says it better here.
        this.add(field, error.message.replace(/^value:?\s*/, ''))
        return undefined
      }

      throw error
    }
  }
}

const NUL_PROBLEM = 'contains a NUL byte, which no command line or environment can carry'

const describe = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v))

/** Validates one document of the own format. `where` names it in messages (a file and document number). */
export function validateJobSpec(raw: unknown, where: string, options: {warn?: (message: string) => void} = {}): JobSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(`${where}: a job spec must be a mapping with at least name and image, got ${describe(raw)}.`)
  }

  const doc = raw as Record<string, unknown>
  const name = typeof doc.name === 'string' ? doc.name : undefined
  const p = new Problems(name ? `${where} (job ${name})` : where)

  for (const key of Object.keys(doc)) {
    if (!KNOWN_KEYS.has(key)) p.add(key, `unknown field; the fields are ${[...KNOWN_KEYS].join(', ')} (see docs/spec.md)`)
  }

  if (doc.name === undefined || doc.name === null) p.add('name', 'required: a job name like web-1')
  else if (name === undefined) p.add('name', `must be a string like web-1, got ${describe(doc.name)}`)
  else if (!JOB_NAME.test(name)) p.add('name', `${JSON.stringify(name)} is not valid: use lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit`)

  const runDriven = doc.schedule !== undefined || doc.after !== undefined
  const kind = (doc.kind ?? (runDriven ? 'batch' : 'service')) as JobKind
  if (kind !== 'service' && kind !== 'batch') p.add('kind', `must be service or batch, got ${describe(doc.kind)}`)
  const runPolicy = validateRunPolicy(doc, name, kind, p)

  if (typeof doc.image !== 'string' || doc.image.trim() === '') p.add('image', `required: an image reference like localhost/app:1.0 (got ${describe(doc.image)})`)
  else {
    const problem = imageReferenceProblem(doc.image.trim())
    if (problem) p.add('image', problem)
  }

  const command = validateCommand(doc.command, doc.args, p)
  const env = validateStringMap(doc.env, 'env', p, (k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || 'names must be letters, digits and _, not starting with a digit')
  const labels = validateStringMap(doc.labels, 'labels', p, (k) => !k.startsWith('io.clusterctl.') || 'the io.clusterctl. prefix is reserved')

  const cpuMilli = quantity(doc.cpus, 'cpus', p, DEFAULTS.cpuMilli, parseCpuMilli, 'a CPU count like 2, 0.5 or 500m')
  if (cpuMilli !== undefined && cpuMilli < LIMITS.cpuMilli.min) p.add('cpus', `must be at least 0.001 (1m), got ${describe(doc.cpus)}`)
  if (cpuMilli !== undefined && cpuMilli > LIMITS.cpuMilli.max) p.add('cpus', `must be at most ${formatCpu(LIMITS.cpuMilli.max)}, got ${describe(doc.cpus)}`)
  const memBytes = quantity(doc.mem, 'mem', p, DEFAULTS.memBytes, parseBytes, 'a size like 256Mi or 2Gi')
  if (memBytes !== undefined && memBytes < LIMITS.memBytes.min) p.add('mem', `must be at least ${formatBytes(LIMITS.memBytes.min)} (container runtimes refuse less), got ${describe(doc.mem)}`)
  if (memBytes !== undefined && memBytes > LIMITS.memBytes.max) p.add('mem', `must be at most ${formatBytes(LIMITS.memBytes.max)}, got ${describe(doc.mem)}`)
  const diskBytes = quantity(doc.disk, 'disk', p, 0, parseBytes, 'a size like 1Gi')
  if (diskBytes !== undefined && diskBytes > LIMITS.diskBytes.max) p.add('disk', `must be at most ${formatBytes(LIMITS.diskBytes.max)}, got ${describe(doc.disk)}`)
  const gpus = doc.gpus === undefined ? 0 : wholeNumber(doc.gpus, 'gpus', p, 0, LIMITS.gpus.max)
  const instances = doc.instances === undefined ? 1 : wholeNumber(doc.instances, 'instances', p, 0, LIMITS.instances.max)
  if (runPolicy && instances !== undefined && instances !== 1) p.add('instances', `a scheduled or dependent job runs one container per run; leave instances out (got ${instances})`)

  const ports = validatePorts(doc.ports, p)
  const volumes = validateVolumes(doc.volumes, p)
  const constraints = validateConstraints(doc.constraints, p)
  const preferences = validatePreferences(doc.preferences ?? doc.prefer, p)
  const healthCheck = validateHealthCheck(doc.healthCheck, ports, p)
  // gates rollouts (and later traffic) but never kills: no grace period or failure count
  const readinessCheck = validateHealthCheck(doc.readinessCheck, ports, p, 'readinessCheck')
  const restart = runPolicy ? {policy: 'never' as const, maxRetries: 0} : validateRestart(doc.restart, kind, p)
  if (runPolicy && doc.restart !== undefined) p.add('restart', 'a scheduled or dependent job retries by `retries` (back-off 10 s doubling); leave restart out')

  const strategy = doc.strategy ?? null
  if (strategy !== null && strategy !== 'binpack' && strategy !== 'spread') p.add('strategy', `must be binpack or spread, got ${describe(doc.strategy)}`)
  const runtime = (doc.runtime ?? null) as RuntimeName | null
  if (runtime !== null && !RUNTIMES.includes(runtime)) p.add('runtime', `must be podman or containerd, got ${describe(doc.runtime)}`)
  const upgrade = validateUpgrade(doc.upgrade, instances, volumes, p, (m) => options.warn?.(`${p.prefix}: ${m}`))
  if (doc.init !== undefined && typeof doc.init !== 'boolean') p.add('init', `must be true or false, got ${describe(doc.init)}`)
  const team = doc.team === undefined || doc.team === null ? DEFAULT_TEAM : typeof doc.team === 'string' ? doc.team : (p.add('team', `must be a team name like data, got ${describe(doc.team)}`), DEFAULT_TEAM)
  const teamProblem = teamNameProblem(team)
  if (teamProblem) p.add('team', teamProblem)
  if (doc.preemption !== undefined && doc.preemption !== null && doc.preemption !== 'never' && doc.preemption !== 'allow' && doc.preemption !== 'force') p.add('preemption', `must be never, allow (the default) or force, got ${describe(doc.preemption)}`)
  const priority = doc.priority === undefined || doc.priority === null ? DEFAULT_PRIORITY : wholeNumber(doc.priority, 'priority', p, 1, 100)
  const dependsOn = validateJobNames(doc.dependsOn, 'dependsOn', name, p)
  const uses = validateJobNames(doc.uses, 'uses', name, p)
  const servicePort = validateServicePort(doc.servicePort, kind, ports, p)
  const network = validateNetwork(doc.network, runtime, p)
  const drainTimeoutMs = validateDrainTimeout(doc.drainTimeout, p)

  if (p.list.length > 0) {
    const head = p.list.length === 1 ? `${p.prefix}: ${p.list[0]}.` : `${p.prefix} has ${p.list.length} problems:\n  ${p.list.join('\n  ')}`
    throw new UserError(head, {code: 'invalid-spec'})
  }

  return {
    name: name!,
    kind,
    image: (doc.image as string).trim(),
    command,
    env,
    resources: {cpuMilli: cpuMilli!, memBytes: memBytes!, diskBytes: diskBytes!, gpus: gpus!},
    instances: instances!,
    ports,
    volumes,
    constraints,
    preferences,
    healthCheck,
    ...(readinessCheck ? {readinessCheck} : {}),
    restart,
    labels,
    strategy: strategy as JobSpec['strategy'],
    runtime,
    upgrade,
    ...(runPolicy ? {runPolicy} : {}),
    ...(doc.init === false ? {init: false as const} : {}),
    // Defaults are left out, so specs stored before teams and priorities compare equal.
    ...(team === DEFAULT_TEAM ? {} : {team}),
    ...(priority === DEFAULT_PRIORITY || priority === undefined ? {} : {priority}),
    ...(doc.preemption === 'never' || doc.preemption === 'force' ? {preemption: doc.preemption} : {}),
    ...(servicePort === undefined ? {} : {servicePort}),
    ...(dependsOn.length > 0 ? {dependsOn} : {}),
    ...(uses.length > 0 ? {uses} : {}),
    ...(network === undefined ? {} : {network}),
    ...(drainTimeoutMs === undefined ? {} : {drainTimeoutMs}),
  }
}

/** How long a stop waits for the task's connections on the edges to end (docs/endpoints.md): 0s to 1h; absent: 30 s. */
function validateDrainTimeout(value: unknown, p: Problems): number | undefined {
  if (value === undefined || value === null) return undefined
  const ms = p.attempt('drainTimeout', () => parseDurationMs(value, 'value'))
  if (ms === undefined) return undefined
  if (ms > 3_600_000) {
    p.add('drainTimeout', `must be at most 1h, got ${describe(value)}`)
    return undefined
  }

  return ms === DEFAULT_DRAIN_TIMEOUT_MS ? undefined : ms
}

/** network: the podman network the job's containers join (docs/networks.md); refused with `runtime: containerd`. */
function validateNetwork(value: unknown, runtime: RuntimeName | null, p: Problems): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') {
    p.add('network', `must be a network name like backend, got ${describe(value)}`)
    return undefined
  }

  const problem = networkNameProblem(value)
  if (problem) p.add('network', problem)
  else if (runtime === 'containerd') p.add('network', `${CONTAINERD_NETWORK_REASON}: leave out runtime: containerd or the network`)
  else return value
  return undefined
}

/**
 * dependsOn (start order) and uses (injected service addresses; docs/spec.md): a job name
 * or a list of them, never the job itself.
 */
function validateJobNames(value: unknown, field: 'dependsOn' | 'uses', name: string | undefined, p: Problems): string[] {
  if (value === undefined || value === null) return []
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || !list.every((a) => typeof a === 'string')) {
    p.add(field, `must be a job name or a list of them, got ${describe(value)}`)
    return []
  }

  const out: string[] = []
  for (const dep of list as string[]) {
    if (!JOB_NAME.test(dep)) p.add(field, `${JSON.stringify(dep)} is not a job name`)
    else if (dep === name) p.add(field, field === 'uses' ? 'a job cannot use itself (its containers reach their own instances directly)' : `a job cannot depend on itself (cycle ${name} -> ${name})`)
    else if (!out.includes(dep)) out.push(dep)
  }

  return out
}

/** The stable port asked for (docs/endpoints.md): a port outside the host-port pool, on a service with a TCP port to front. */
function validateServicePort(value: unknown, kind: JobKind, ports: PortSpec[], p: Problems): number | undefined {
  if (value === undefined || value === null) return undefined
  const port = wholeNumber(value, 'servicePort', p, 1, 65_535)
  if (port === undefined) return undefined
  const problem = servicePortProblem(port, DEFAULT_PORT_RANGE)
  if (problem) p.add('servicePort', problem)
  else if (kind !== 'service') p.add('servicePort', 'a service port fronts a service: leave it out of a batch job')
  else if (frontedPort({kind, ports}) === null) p.add('servicePort', 'a service port fronts the job\'s first TCP port, and it has none: add one (ports: [8080])')
  else return port
  return undefined
}

/** schedule, timezone, after, retries, deadline, concurrency, catchUp, startingDeadline, suspend. */
function validateRunPolicy(doc: Record<string, unknown>, name: string | undefined, kind: JobKind, p: Problems): RunPolicy | undefined {
  const given = RUN_KEYS().filter((k) => doc[k] !== undefined)
  if (given.length === 0) return undefined
  if (doc.schedule === undefined && doc.after === undefined) {
    p.add(given[0]!, 'applies to scheduled or dependent jobs: add schedule or after')
    return undefined
  }

  if (kind !== 'batch') p.add('kind', 'a scheduled or dependent job runs to completion: use kind: batch (the default for them)')
  const zone = doc.timezone === undefined ? RUN_DEFAULTS.timezone : typeof doc.timezone === 'string' ? doc.timezone : (p.add('timezone', `must be an IANA zone name like Europe/Berlin, got ${describe(doc.timezone)}`), 'UTC')
  const timezone = p.attempt('timezone', () => checkTimezone(zone)) ?? 'UTC'
  let schedule: string | null = null
  if (doc.schedule !== undefined && doc.schedule !== null) {
    const text = doc.schedule
    if (typeof text !== 'string' && !(Array.isArray(text) && text.every((t) => typeof t === 'string'))) p.add('schedule', `must be a cron expression, a list of them, or an ISO 8601 interval Rn/START/PERIOD, got ${describe(text)}`)
    else schedule = p.attempt('schedule', () => parseSchedule(text as string | string[], timezone).text) ?? null
  } else if (doc.timezone !== undefined) p.add('timezone', 'applies to a schedule: add schedule')

  const after: string[] = []
  if (doc.after !== undefined && doc.after !== null) {
    const list = typeof doc.after === 'string' ? [doc.after] : doc.after
    if (!Array.isArray(list) || !list.every((a) => typeof a === 'string')) p.add('after', `must be a job name or a list of them, got ${describe(doc.after)}`)
    else {
      for (const parent of list as string[]) {
        if (!JOB_NAME.test(parent)) p.add('after', `${JSON.stringify(parent)} is not a job name`)
        else if (parent === name) p.add('after', `a job cannot run after itself (cycle ${name} -> ${name})`)
        else if (!after.includes(parent)) after.push(parent)
      }
    }
  }

  const oneOf = <T extends string>(field: string, options: readonly T[], fallback: T): T => {
    const v = doc[field]
    if (v === undefined || v === null) return fallback
    if (typeof v === 'string' && (options as readonly string[]).includes(v)) return v as T
    p.add(field, `must be ${options.join(', ')}, got ${describe(v)}`)
    return fallback
  }

  const duration = (field: string): number | null => {
    const v = doc[field]
    if (v === undefined || v === null) return null
    const ms = p.attempt(field, () => parseDurationMs(v, 'value'))
    if (ms !== undefined && ms < 1000) p.add(field, `must be at least 1s, got ${describe(v)}`)
    return ms ?? null
  }

  if (doc.suspend !== undefined && typeof doc.suspend !== 'boolean') p.add('suspend', `must be true or false, got ${describe(doc.suspend)}`)
  return {
    schedule,
    timezone,
    after,
    retries: doc.retries === undefined ? RUN_DEFAULTS.retries : (wholeNumber(doc.retries, 'retries', p, 0) ?? 0),
    deadlineMs: duration('deadline'),
    concurrency: oneOf('concurrency', ['forbid', 'allow', 'replace'] as const, RUN_DEFAULTS.concurrency),
    catchUp: oneOf('catchUp', ['last', 'none', 'all'] as const, RUN_DEFAULTS.catchUp),
    startingDeadlineMs: duration('startingDeadline'),
    suspend: doc.suspend === true,
  }
}

function wholeNumber(value: unknown, field: string, p: Problems, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    p.add(field, `must be a whole number, got ${describe(value)}`)
    return undefined
  }

  if (n < min || n > max) {
    p.add(field, n < min ? `must be >= ${min}, got ${n}` : `must be at most ${max}, got ${describe(value)}`)
    return undefined
  }

  return n
}

/** A resource quantity given as text or a number (`0.5`, `500m`, `256Mi`), parsed by `parse`; `fallback` when absent. */
function quantity(value: unknown, field: string, p: Problems, fallback: number, parse: (text: string, field: string) => number, example: string): number | undefined {
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'string' && typeof value !== 'number') {
    p.add(field, `must be ${example}, got ${describe(value)}`)
    return undefined
  }

  // 1e-7 is a number YAML and JSON allow; the parsers read decimals.
  const text = typeof value === 'number' && /e/i.test(String(value)) && Math.abs(value) < 1e21 ? value.toFixed(20).replace(/\.?0+$/, '') : String(value)
  return p.attempt(field, () => parse(text, 'value'))
}

function validateCommand(command: unknown, args: unknown, p: Problems): string[] | null {
  let out: string[] | null = null
  if (typeof command === 'string') {
    if (command.trim() === '') p.add('command', 'must not be empty; leave it out to run the image default')
    else out = ['sh', '-c', command]
  } else if (Array.isArray(command)) {
    if (command.length === 0 || !command.every((c) => typeof c === 'string')) p.add('command', 'must be a non-empty list of strings, or one string run by sh -c')
    else out = command as string[]
  } else if (command !== undefined && command !== null) {
    p.add('command', `must be a string or a list of strings, got ${describe(command)}`)
  }

  if (args !== undefined) {
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) p.add('args', 'must be a list of strings')
    else out = [...(out ?? []), ...(args as string[])]
  }

  if (out?.some((arg) => arg.includes('\0'))) p.add(args === undefined ? 'command' : 'command/args', NUL_PROBLEM)
  return out
}

function validateStringMap(value: unknown, field: string, p: Problems, keyOk: (k: string) => true | string): Record<string, string> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    p.add(field, `must be a mapping of names to values, got ${describe(value)}`)
    return {}
  }

  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const ok = k.includes('\0') ? NUL_PROBLEM : keyOk(k)
    if (ok !== true) p.add(`${field}.${JSON.stringify(k).slice(1, -1)}`, ok)
    if (typeof v === 'string' && v.includes('\0')) p.add(`${field}.${k}`, NUL_PROBLEM)
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v)
    else p.add(`${field}.${k}`, `must be a string, got ${describe(v)}`)
  }

  return out
}

export function parsePortText(text: string): PortSpec {
  const m = /^\s*(\d+)(?:\/(tcp|udp))?\s*$/i.exec(text)
  if (!m) throw new UserError(`expected CONTAINER_PORT[/tcp|udp] like 8080 or 53/udp, got ${JSON.stringify(text)}`)
  const port = Number(m[1])
  // 0: no fixed container port; the app listens on $PORTn (its host port) on every runtime.
  if (port > 65_535) throw new UserError(`port ${port} is out of range (0-65535; 0 means: listen on $PORT0)`)
  return {containerPort: port, protocol: (m[2]?.toLowerCase() ?? 'tcp') as 'tcp' | 'udp', name: null}
}

function validatePorts(value: unknown, p: Problems): PortSpec[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) {
    p.add('ports', `must be a list like [8080, "53/udp"], got ${describe(value)}`)
    return []
  }

  const out: PortSpec[] = []
  for (const [i, item] of value.entries()) {
    const field = `ports[${i}]`
    if (typeof item === 'number' || typeof item === 'string') {
      const port = p.attempt(field, () => parsePortText(String(item)))
      if (port) out.push(port)
    } else if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>
      const port = p.attempt(field, () => parsePortText(`${String(o.containerPort)}${o.protocol ? `/${String(o.protocol)}` : ''}`))
      if (port) out.push({...port, name: typeof o.name === 'string' ? o.name : null})
    } else p.add(field, `must be a port number, "PORT/proto" or {containerPort, protocol, name}, got ${describe(item)}`)
  }

  const seen = new Set<string>()
  for (const port of out) {
    const key = `${port.containerPort}/${port.protocol}`
    if (port.containerPort !== 0 && seen.has(key)) p.add('ports', `${key} is listed twice`)
    seen.add(key)
  }

  return out
}

function validateVolumes(value: unknown, p: Problems): VolumeSpec[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) {
    p.add('volumes', `must be a list like ["/srv/data:/data:ro", "data:/data"], got ${describe(value)}`)
    return []
  }

  const out: VolumeSpec[] = []
  for (const [i, item] of value.entries()) {
    const v = p.attempt(`volumes[${i}]`, () => parseVolumeItem(item))
    if (v) out.push(v)
  }

  for (const problem of volumeListProblems(out)) p.add('volumes', problem)
  return out
}

function validateConstraints(value: unknown, p: Problems): Constraint[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) {
    p.add('constraints', `must be a list like ["hostname:UNIQUE"], got ${describe(value)}`)
    return []
  }

  const out: Constraint[] = []
  for (const [i, item] of value.entries()) {
    const field = `constraints[${i}]`
    let c: Constraint | undefined
    if (typeof item === 'string') c = p.attempt(field, () => parseConstraint(item, 'value'))
    else if (Array.isArray(item) && item.length >= 2 && item.length <= 3 && item.every((x) => typeof x === 'string')) {
      // Marathon's array form: ["hostname", "UNIQUE"] or ["rack", "MAX_PER", "2"]
      c = p.attempt(field, () => validateConstraint({field: item[0]!, operator: item[1] as ConstraintOperator, ...(item[2] === undefined ? {} : {value: item[2]})}, 'value'))
    } else p.add(field, `must be "FIELD:OPERATOR[:VALUE]" or ["FIELD", "OPERATOR", "VALUE"], got ${describe(item)}`)
    if (c) out.push(c)
  }

  return out
}

function validatePreferences(value: unknown, p: Problems): Preference[] {
  if (value === undefined || value === null) return []
  const items = Array.isArray(value) ? value : [value]
  const out: Preference[] = []
  for (const [i, item] of items.entries()) {
    const field = `preferences[${i}]`
    let pref: Preference | undefined
    if (typeof item === 'string') pref = p.attempt(field, () => parsePreference(item, 'value'))
    else if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>
      pref = p.attempt(field, () => validatePreference({field: String(o.field ?? o.label ?? ''), value: String(o.value ?? ''), ...(o.weight === undefined ? {} : {weight: Number(o.weight)})}, 'value'))
    } else p.add(field, `must be "LABEL=VALUE" or {field, value, weight}, got ${describe(item)}`)
    if (pref) out.push(pref)
  }

  return out
}

/** `10s`, `500ms`, `2m`, `1h`, or a number of seconds. */
export function parseDurationMs(value: unknown, field: string): number {
  if (typeof value === 'number' && value >= 0) return Math.round(value * 1000)
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value) : null
  if (!m) throw new UserError(`${field}: expected a duration like 10s, 500ms or 2m, got ${describe(value)}`)
  const factor = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd']
  return Math.round(Number(m[1]) * factor)
}

function validateHealthCheck(value: unknown, ports: PortSpec[], p: Problems, field: 'healthCheck' | 'readinessCheck' = 'healthCheck'): HealthCheckSpec | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'object' || Array.isArray(value)) {
    p.add(field, `must be a mapping like {http: "8080/healthz"}, got ${describe(value)}`)
    return null
  }

  const o = value as Record<string, unknown>
  const kinds = (['http', 'tcp', 'cmd'] as const).filter((k) => o[k] !== undefined)
  if (kinds.length !== 1) {
    p.add(field, 'give exactly one of http: "PORT[/PATH]", tcp: PORT or cmd: "COMMAND"')
    return null
  }

  const type = kinds[0]!
  const check: HealthCheckSpec = {
    type,
    port: null,
    path: null,
    command: null,
    gracePeriodMs: p.attempt(`${field}.gracePeriod`, () => (o.gracePeriod === undefined ? DEFAULTS.gracePeriodMs : parseDurationMs(o.gracePeriod, 'value'))) ?? 0,
    intervalMs: p.attempt(`${field}.interval`, () => (o.interval === undefined ? DEFAULTS.intervalMs : parseDurationMs(o.interval, 'value'))) ?? 0,
    timeoutMs: p.attempt(`${field}.timeout`, () => (o.timeout === undefined ? DEFAULTS.timeoutMs : parseDurationMs(o.timeout, 'value'))) ?? 0,
    maxConsecutiveFailures: o.maxConsecutiveFailures === undefined ? DEFAULTS.maxConsecutiveFailures : (wholeNumber(o.maxConsecutiveFailures, `${field}.maxConsecutiveFailures`, p, 1) ?? 1),
  }
  if (type === 'cmd') {
    if (typeof o.cmd !== 'string' || o.cmd.trim() === '') p.add(`${field}.cmd`, 'must be a command string, run with sh -c inside the container')
    else check.command = o.cmd
  } else {
    const m = /^\s*(\d+)(\/.*)?\s*$/.exec(String(o[type]))
    if (!m) p.add(`${field}.${type}`, `expected PORT${type === 'http' ? '[/PATH]' : ''}, got ${describe(o[type])}`)
    else {
      check.port = Number(m[1])
      check.path = type === 'http' ? (m[2] ?? '/') : null
      if (!ports.some((port) => port.containerPort === check.port)) p.add(`${field}.${type}`, `port ${check.port} is not among the job's ports; add it to ports`)
    }
  }

  return check
}

function validateRestart(value: unknown, kind: JobKind, p: Problems): JobSpec['restart'] {
  const fallback: JobSpec['restart'] = kind === 'service' ? {policy: 'always', maxRetries: 0} : {policy: 'on-failure', maxRetries: 3}
  if (value === undefined || value === null) return fallback
  const o = typeof value === 'string' ? {policy: value} : (value as Record<string, unknown>)
  const policy = o.policy as RestartPolicy
  if (policy !== 'always' && policy !== 'on-failure' && policy !== 'never') {
    p.add('restart', `must be always, on-failure or never, got ${describe(o.policy)}`)
    return fallback
  }

  const maxRetries = o.maxRetries === undefined ? fallback.maxRetries : (wholeNumber(o.maxRetries, 'restart.maxRetries', p, 0) ?? 0)
  if (kind === 'service' && policy !== 'always') p.add('restart', `a service always restarts (use kind: batch for ${policy})`)
  return {policy, maxRetries}
}

const UPGRADE_KEYS = ['maxUnavailable', 'maxSurge', 'minHealthyTime', 'healthyDeadline', 'progressDeadline', 'maxFailedInstances', 'autoRollback', 'canary', 'autoPromote', 'minimumHealthCapacity', 'maximumOverCapacity'] as const

/**
 * `upgrade` (docs/deployments.md). A single instance with a host volume, and every job
 * with a local volume (a stateful service), defaults to stop-then-start (maxSurge 0,
 * maxUnavailable 1): two containers must not share its data. A local volume refuses a surge. Marathon's fractions (minimumHealthCapacity, maximumOverCapacity) are read
 * for `instances`, exactly as Marathon does (fromMarathonCapacity), a job with a local volume as a
 * resident app (its defaults 0.5 and 0; maximumOverCapacity above 0 refused).
 */
function validateUpgrade(value: unknown, instances: number | undefined, volumes: readonly VolumeSpec[], p: Problems, warn?: (message: string) => void): UpgradePolicy {
  const stateful = hasLocalVolume(volumes)
  const stopFirst = stateful || (instances === 1 && volumes.length > 0)
  const out: UpgradePolicy = {...UPGRADE_DEFAULTS, ...(stopFirst ? {maxSurge: 0, maxUnavailable: 1} : {})}
  if (value === undefined || value === null) return out
  if (stateful) {
    const surge = (value as Record<string, unknown>).maxSurge
    if (surge !== undefined && surge !== 0 && surge !== '0' && surge !== '0%') p.add('upgrade.maxSurge', `a job with a local volume updates stop-then-start (its new task needs the old one's data): maxSurge must be 0, got ${describe(surge)}`)
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    p.add('upgrade', `must be a mapping like {maxUnavailable: 1, maxSurge: 0}, got ${describe(value)}`)
    return out
  }

  const o = value as Record<string, unknown>
  for (const key of Object.keys(o)) if (!(UPGRADE_KEYS as readonly string[]).includes(key)) p.add(`upgrade.${key}`, `unknown field; the fields are ${UPGRADE_KEYS.join(', ')}`)
  const count = (key: 'maxUnavailable' | 'maxSurge'): void => {
    const v = o[key]
    if (v === undefined) return
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) out[key] = v
    else if (typeof v === 'string' && /^\d+(\.\d+)?%$/.test(v.trim()) && Number(v.trim().slice(0, -1)) <= 100) out[key] = v.trim()
    else if (typeof v === 'string' && /^\d+$/.test(v.trim())) out[key] = Number(v)
    else p.add(`upgrade.${key}`, `must be a whole number >= 0 or a percentage like 25%, got ${describe(v)}`)
  }

  count('maxUnavailable')
  count('maxSurge')
  const legacy = o.minimumHealthCapacity !== undefined || o.maximumOverCapacity !== undefined
  if (legacy) {
    const fraction = (key: string, fallback: number): number => {
      const v = o[key]
      if (v === undefined) return fallback
      if (typeof v !== 'number' || v < 0 || v > 1) p.add(`upgrade.${key}`, `must be a number from 0 to 1, got ${describe(v)}`)
      return typeof v === 'number' ? v : fallback
    }

    if (o.maxUnavailable !== undefined || o.maxSurge !== undefined) p.add('upgrade', 'give maxUnavailable/maxSurge or Marathon\'s minimumHealthCapacity/maximumOverCapacity, not both')
    const over = fraction('maximumOverCapacity', stateful ? 0 : 1)
    if (stateful && over > 0) p.add('upgrade.maximumOverCapacity', `a job with a local volume updates stop-then-start (its new task needs the old one's data): maximumOverCapacity must be 0, as Marathon requires for resident apps, got ${describe(o.maximumOverCapacity)}`)
    const mapped = fromMarathonCapacity(instances ?? 1, fraction('minimumHealthCapacity', stateful ? 0.5 : 1), over, stateful)
    out.maxUnavailable = mapped.maxUnavailable
    out.maxSurge = mapped.maxSurge
    if (mapped.adjusted) warn?.('upgrade: minimumHealthCapacity 1 with maximumOverCapacity 0 cannot move; maxSurge 1 is used (as Marathon does)')
  } else if (o.maxUnavailable !== undefined && o.maxSurge !== undefined && out.maxUnavailable === 0 && out.maxSurge === 0) {
    p.add('upgrade', 'maxUnavailable and maxSurge cannot both be 0: the rollout could never replace an instance')
  }

  const duration = (key: 'minHealthyTime' | 'healthyDeadline' | 'progressDeadline', field: 'minHealthyTimeMs' | 'healthyDeadlineMs' | 'progressDeadlineMs', min: number): void => {
    if (o[key] === undefined) return
    const ms = p.attempt(`upgrade.${key}`, () => parseDurationMs(o[key], 'value'))
    if (ms !== undefined && ms < min) p.add(`upgrade.${key}`, `must be at least ${min / 1000}s, got ${describe(o[key])}`)
    else if (ms !== undefined) out[field] = ms
  }

  duration('minHealthyTime', 'minHealthyTimeMs', 0)
  duration('healthyDeadline', 'healthyDeadlineMs', 1000)
  duration('progressDeadline', 'progressDeadlineMs', 1000)
  if (o.maxFailedInstances !== undefined) out.maxFailedInstances = wholeNumber(o.maxFailedInstances, 'upgrade.maxFailedInstances', p, 0) ?? 0
  if (o.canary !== undefined) {
    const k = wholeNumber(o.canary, 'upgrade.canary', p, 0)
    if (k !== undefined && instances !== undefined && k > instances) p.add('upgrade.canary', `must be at most instances (${instances}; canary: ${instances} is blue/green), got ${k}`)
    else if (k !== undefined) out.canary = k
  }

  if (o.autoPromote !== undefined && o.autoPromote !== null) {
    const ms = p.attempt('upgrade.autoPromote', () => parseDurationMs(o.autoPromote, 'value'))
    if (ms !== undefined) out.autoPromoteMs = ms
  }

  if (o.autoRollback !== undefined) {
    if (typeof o.autoRollback !== 'boolean') p.add('upgrade.autoRollback', `must be true or false, got ${describe(o.autoRollback)}`)
    else out.autoRollback = o.autoRollback
  }

  return out
}
