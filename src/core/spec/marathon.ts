/**
 * Marathon app and group JSON into clusterctl's own spec documents (then validated like
 * any other), the Chronos import's sibling (chronos.ts): every field is mapped, ignored
 * quietly (the fields of an API response, and settings left at Marathon's default), or
 * warned about by its path (`apps[2].acceptedResourceRoles`); nothing is dropped
 * silently. docs/marathon.md lists what happens to each field.
 */
import {createHash} from 'node:crypto'

import {UserError} from '../errors.js'
import {networkNameProblem} from '../model/network.js'
import type {ChronosOptions} from './chronos.js'
import {JOB_NAME} from './validate.js'
import {MAX_VOLUME_NAME, nfsOfLocalDriver, volumeNameOf} from './volumes.js'

/** Fields of an API response (GET /v2/apps, /v2/groups): state, not configuration. */
const RESPONSE_FIELDS = new Set([
  'version', 'versionInfo', 'tasks', 'tasksStaged', 'tasksRunning', 'tasksHealthy', 'tasksUnhealthy', 'deployments',
  'lastTaskFailure', 'taskStats', 'readinessCheckResults', 'queue', 'overdue',
])

/** App fields read here; the rest are warned about unless left at their default (DEFAULTS). */
const MAPPED = new Set([
  'id', 'cmd', 'args', 'container', 'cpus', 'mem', 'disk', 'gpus', 'instances', 'env', 'labels', 'constraints', 'ports',
  'portDefinitions', 'requirePorts', 'healthChecks', 'check', 'readinessChecks', 'upgradeStrategy', 'dependencies',
  'backoffSeconds', 'backoffFactor', 'maxLaunchDelaySeconds', 'unreachableStrategy', 'killSelection', 'networks', 'ipAddress', 'residency',
])

/**
 * Settings whose value here is what clusterctl does anyway (or that change nothing for
 * it): no warning. Any other value of them is warned about.
 */
const DEFAULTS: Record<string, (v: unknown) => boolean> = {
  executor: (v) => v === '' || v === '//cmd',
  acceptedResourceRoles: (v) => Array.isArray(v) && v.every((r) => r === '*'),
  uris: empty,
  fetch: empty,
  storeUrls: empty,
  secrets: (v) => empty(v) || (typeof v === 'object' && Object.keys(v as object).length === 0),
  user: () => false,
  taskKillGracePeriodSeconds: () => false,
  role: (v) => v === '*',
  tty: (v) => v === false,
  maxLaunchDelaySeconds: () => true,
}

function empty(v: unknown): boolean {
  return v === null || v === undefined || v === '' || v === false || (Array.isArray(v) && v.length === 0)
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined)

/**
 * A Marathon id as a job name: the path's segments joined with '-' (`/product/service-a`
 * -> `product-service-a`), lower case, other characters as '-'.
 */
export function marathonName(id: string): string {
  return id.split('/').filter(Boolean).join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '')
}

/** A Marathon id resolved against a group's absolute id: absolute ids stay, `..` and `.` segments are followed. */
export function resolveMarathonId(id: string, group: string): string {
  const segments = id.startsWith('/') ? [] : group.split('/').filter(Boolean)
  for (const part of id.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') segments.pop()
    else segments.push(part)
  }

  return `/${segments.join('/')}`
}

export interface MarathonApp {
  app: Record<string, unknown>
  /** Where it is in the document: `apps[2]`, `groups[0].apps[1]`, or '' for a single app. */
  path: string
  /** Its absolute id (relative ids in a group are resolved against the group's). */
  id: string
  /** What its groups depend on (group `dependencies`): resolved ids of groups or apps, and where each is written. */
  groupDependencies?: Array<{id: string; path: string}>
  /** The ids of the apps in the same document it starts after (its own and its groups' dependencies). */
  dependsOn?: string[]
}

/** The apps of a Marathon document: one app, a list of apps, `{app}`, or a group with nested groups. */
export function marathonApps(value: unknown, warn: (path: string, message: string) => void): MarathonApp[] {
  const out: MarathonApp[] = []
  const resolve = (id: unknown, parent: string): string => {
    const text = typeof id === 'string' ? id.trim() : ''
    if (text.startsWith('/')) return text
    return `${parent.replace(/\/+$/, '')}/${text}`
  }

  const group = (g: Record<string, unknown>, path: string, parent: string, inherited: Array<{id: string; path: string}> = []): void => {
    const id = g.id === undefined ? parent : resolve(g.id, parent)
    const at = (p: string): string => (path ? `${path}.${p}` : p)
    for (const key of Object.keys(g)) {
      if (['id', 'apps', 'groups', 'dependencies', 'enforceRole', ...RESPONSE_FIELDS].includes(key)) continue
      if (key === 'pods' && empty(g.pods)) continue
      warn(at(key), key === 'pods' ? 'pods are not supported, ignored' : 'not supported, ignored')
    }

    // A group's dependencies hold for every app in it, nested groups too (Marathon's start order).
    const deps = [...inherited]
    if (!empty(g.dependencies)) {
      const list = Array.isArray(g.dependencies) ? g.dependencies : [g.dependencies]
      list.forEach((d, i) => {
        if (typeof d === 'string' && d.trim() !== '') deps.push({id: resolveMarathonId(d.trim(), parent), path: at(`dependencies[${i}]`)})
        else warn(at(`dependencies[${i}]`), 'not a group or app id, ignored')
      })
    }

    const extra = deps.length > 0 ? {groupDependencies: deps} : {}
    if (Array.isArray(g.apps)) g.apps.forEach((a, i) => out.push({app: isObject(a) ? a : {}, path: at(`apps[${i}]`), id: resolve(isObject(a) ? a.id : undefined, id), ...extra}))
    if (Array.isArray(g.groups)) g.groups.forEach((sub, i) => isObject(sub) && group(sub, at(`groups[${i}]`), id, deps))
  }

  if (Array.isArray(value)) value.forEach((a, i) => out.push({app: isObject(a) ? a : {}, path: `[${i}]`, id: resolve(isObject(a) ? a.id : undefined, '')}))
  else if (isObject(value) && isObject(value.app) && !('apps' in value)) out.push({app: value.app, path: 'app', id: resolve(value.app.id, '')})
  else if (isObject(value) && ('apps' in value || 'groups' in value)) group(value, '', '/')
  else if (isObject(value)) out.push({app: value, path: '', id: resolve(value.id, '')})
  // Start order: a dependency names an app or a group (every app under it), an app's relative to
  // the app's group, a group's relative to its parent. As in Marathon, one not in the document
  // is not waited for (said once per place it is written).
  const unknown = new Set<string>()
  for (const entry of out) {
    const own = entry.app.dependencies === undefined || entry.app.dependencies === null ? [] : Array.isArray(entry.app.dependencies) ? entry.app.dependencies : [entry.app.dependencies]
    const at = (p: string): string => (entry.path ? `${entry.path}.${p}` : p)
    const deps: Array<{id: string; path: string}> = [...(entry.groupDependencies ?? [])]
    own.forEach((d, i) => {
      if (typeof d === 'string' && d.trim() !== '') deps.push({id: resolveMarathonId(d.trim(), entry.id.replace(/\/[^/]*$/, '') || '/'), path: at(`dependencies[${i}]`)})
      else warn(at(`dependencies[${i}]`), 'not an app id, ignored')
    })
    const ids = new Set<string>()
    for (const dep of deps) {
      const under = `${dep.id.replace(/\/+$/, '')}/`
      const found = out.filter((o) => o.id === dep.id || o.id.startsWith(under))
      if (found.length === 0 && !unknown.has(dep.path)) {
        unknown.add(dep.path)
        warn(dep.path, `${dep.id} is not in this file: not waited for (Marathon ignores a dependency it cannot find)`)
      }

      for (const o of found) if (o.id !== entry.id) ids.add(o.id)
    }

    if (ids.size > 0) entry.dependsOn = [...ids]
  }

  return out
}

/**
 * The fields of a health or readiness check read here (true), or quiet at the value given
 * (Marathon's default, or one that changes nothing here); any other value, or field, is warned about.
 */
const HEALTH_CHECK_FIELDS: Record<string, true | ((v: unknown) => boolean)> = {
  protocol: true, path: true, port: true, portIndex: true, portName: true, command: true, gracePeriodSeconds: true, intervalSeconds: true,
  timeoutSeconds: true, maxConsecutiveFailures: true, ignoreHttp1xx: (v) => v === false, delaySeconds: (v) => num(v) === 15, ipProtocol: (v) => v === 'IPv4',
}

const READINESS_CHECK_FIELDS: Record<string, true | ((v: unknown) => boolean)> = {
  name: true, protocol: true, path: true, port: true, portIndex: true, portName: true, intervalSeconds: true, timeoutSeconds: true, httpStatusCodesForReady: true,
  preserveLastResponse: (v) => v === false,
}

/** Port fields: read, or warned about where they are read (hostPort, servicePort, labels). */
const PORT_MAPPING_FIELDS: Record<string, true | ((v: unknown) => boolean)> = {
  containerPort: true, hostPort: true, servicePort: true, protocol: true, name: true, labels: true, networkNames: empty,
}

const PORT_DEFINITION_FIELDS: Record<string, true | ((v: unknown) => boolean)> = {port: true, protocol: true, name: true, labels: true}

function warnUnread(check: Record<string, unknown>, fields: Record<string, true | ((v: unknown) => boolean)>, where: string, warn: (path: string, message: string) => void, messages: Record<string, string> = {}): void {
  for (const [key, value] of Object.entries(check)) {
    const read = fields[key]
    if (value === null || read === true || read?.(value)) continue
    warn(`${where}.${key}`, messages[key] ?? 'not supported, ignored')
  }
}

const PROTOCOLS = new Set(['HTTP', 'HTTPS', 'TCP', 'COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP'])

/**
 * One Marathon app -> a raw clusterctl document. `warn` receives each unsupported field
 * by its path; bad values are left for the validator to name. `servicePortsTaken`: the
 * service ports earlier apps of the file took (by app id); a later app with the same one
 * gets one assigned instead, with a warning.
 */
export function marathonToSpec(entry: MarathonApp, where: string, options: ChronosOptions, warn: (path: string, message: string) => void, servicePortsTaken: Map<number, string> = new Map()): Record<string, unknown> {
  const {app, path, id} = entry
  const at = (p: string): string => (path ? `${path}.${p}` : p)
  const name = marathonName(id)
  if (!JOB_NAME.test(name)) throw new UserError(`${where}: ${path ? `${path}.` : ''}id ${JSON.stringify(app.id ?? null)} cannot be made a job name (lower-case letters, digits and '-').`, {code: 'invalid-spec'})
  for (const [key, value] of Object.entries(app)) {
    if (MAPPED.has(key) || RESPONSE_FIELDS.has(key) || value === null) continue
    const isDefault = DEFAULTS[key]
    if (isDefault?.(value)) continue
    warn(at(key), 'not supported, ignored')
  }

  const out: Record<string, unknown> = {name, kind: 'service', labels: {'marathon.id': id}}
  if (typeof app.cmd === 'string' && app.cmd.trim() !== '') out.command = app.cmd
  if (Array.isArray(app.args) && app.args.length > 0) {
    if (out.command !== undefined) throw new UserError(`${where}: ${at('cmd')} and ${at('args')}: give one of them (Marathon refuses both too).`, {code: 'invalid-spec'})
    out.command = app.args.map(String)
  }

  // container: DOCKER, MESOS (with a docker image) or missing
  const container = isObject(app.container) ? app.container : {}
  const docker = isObject(container.docker) ? container.docker : {}
  const type = typeof container.type === 'string' ? container.type.toUpperCase() : 'DOCKER'
  if (type !== 'DOCKER' && type !== 'MESOS') throw new UserError(`${where}: ${at('container.type')} must be DOCKER or MESOS, got ${JSON.stringify(container.type)}.`, {code: 'invalid-spec'})
  for (const [key, value] of Object.entries(container)) {
    if (['type', 'docker', 'volumes', 'portMappings'].includes(key) || value === null) continue
    warn(at(`container.${key}`), 'not supported, ignored')
  }

  for (const [key, value] of Object.entries(docker)) {
    if (['image', 'network', 'portMappings'].includes(key) || empty(value) || (key === 'pullConfig' && isObject(value) && Object.keys(value).length === 0)) continue
    warn(at(`container.docker.${key}`), key === 'forcePullImage' ? 'not supported, ignored (images are loaded with `clusterctl image push`, or pulled when missing)' : 'not supported, ignored')
  }

  if (docker.network === 'HOST') warn(at('container.docker.network'), 'HOST networking is not supported: the container gets bridge networking (podman) with its ports published')
  else if (docker.network !== undefined && docker.network !== null && docker.network !== 'BRIDGE' && docker.network !== 'USER') warn(at('container.docker.network'), `${String(docker.network)} is not supported, ignored`)
  if (docker.image !== undefined && docker.image !== null) out.image = docker.image
  else if (options.defaultImage) out.image = options.defaultImage
  else throw new UserError(`${where}: ${path ? `${path} ` : ''}(${name}) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.`, {code: 'invalid-spec', hint: 'Give an image its command runs in with `clusterctl apply -f FILE --default-image IMAGE`, or add "container": {"docker": {"image": "IMAGE"}}.'})

  const {volumes, sandbox} = volumesOf(container, name, at, warn)
  if (volumes.length > 0) out.volumes = volumes
  const stateful = volumes.some((v) => isObject(v.source) && v.source.local !== undefined)

  // ports: portMappings (container or container.docker), else portDefinitions, else ports
  const mappings = Array.isArray(container.portMappings) ? {list: container.portMappings, field: 'container.portMappings'} : Array.isArray(docker.portMappings) ? {list: docker.portMappings, field: 'container.docker.portMappings'} : null
  const ports: Array<{containerPort: number; protocol: string; name?: string}> = []
  /** Marathon's service port of each port (portMappings' servicePort, portDefinitions' port; 0: assign one). */
  const servicePorts: Array<{port: number; field: string}> = []
  const protocolOf = (p: unknown, field: string): string => {
    const list = String(p ?? 'tcp').toLowerCase().split(',')
    if (list.length > 1) warn(at(field), `protocol ${String(p)}: one protocol per port here, ${list[0]} is used`)
    return list[0] === 'udp' ? 'udp' : 'tcp'
  }

  if (mappings) {
    mappings.list.forEach((m, i) => {
      if (!isObject(m)) return
      warnUnread(m, PORT_MAPPING_FIELDS, at(`${mappings.field}[${i}]`), warn)
      const hostPort = num(m.hostPort) ?? 0
      if (hostPort !== 0) warn(at(`${mappings.field}[${i}].hostPort`), `fixed host port ${hostPort} is not supported: the scheduler picks one (as $PORT${i})`)
      servicePorts.push({port: num(m.servicePort) ?? 0, field: `${mappings.field}[${i}].servicePort`})
      if (!empty(m.labels) && !(isObject(m.labels) && Object.keys(m.labels).length === 0)) warn(at(`${mappings.field}[${i}].labels`), 'not supported, ignored')
      ports.push({containerPort: num(m.containerPort) ?? 0, protocol: protocolOf(m.protocol, `${mappings.field}[${i}].protocol`), ...(typeof m.name === 'string' ? {name: m.name} : {})})
    })
  } else {
    // an app on host networking that names no ports gets one, $PORT0 named default, as Marathon gives it
    const hostNetworking = (docker.network === undefined || docker.network === null || docker.network === 'HOST') && !(Array.isArray(app.networks) && app.networks.some((n) => isObject(n) && n.mode !== undefined && n.mode !== 'host'))
    const defs = Array.isArray(app.portDefinitions) ? app.portDefinitions.map((d) => (isObject(d) ? d : {})) : Array.isArray(app.ports) ? app.ports.map((p) => ({port: p})) : hostNetworking && app.portDefinitions === undefined && app.ports === undefined ? [{port: 0, name: 'default'}] : []
    const field = Array.isArray(app.portDefinitions) ? 'portDefinitions' : 'ports'
    defs.forEach((d, i) => {
      if (field === 'portDefinitions') warnUnread(d, PORT_DEFINITION_FIELDS, at(`${field}[${i}]`), warn)
      const port = num(d.port) ?? 0
      if (app.requirePorts === true && port !== 0) warn(at(`${field}[${i}]`), `requirePorts with port ${port}: fixed host ports are not supported; the app gets $PORT${i} (a port the scheduler picks), and ${port} is its service port on the edge nodes`)
      servicePorts.push({port, field: `${field}[${i}]${field === 'ports' ? '' : '.port'}`})
      if (!empty(d.labels) && !(isObject(d.labels) && Object.keys(d.labels).length === 0)) warn(at(`${field}[${i}].labels`), 'not supported, ignored')
      ports.push({containerPort: 0, protocol: protocolOf(d.protocol, `${field}[${i}].protocol`), ...(typeof d.name === 'string' ? {name: d.name} : {})})
    })
  }

  if (app.requirePorts === true && !mappings && ports.length === 0) warn(at('requirePorts'), 'not supported, ignored')
  const servicePort = servicePortOf(ports, servicePorts, at, warn)
  const holder = servicePort === undefined ? undefined : servicePortsTaken.get(servicePort)
  if (servicePort !== undefined && holder !== undefined) {
    const first = ports.findIndex((p) => p.protocol === 'tcp')
    warn(at(servicePorts[first]!.field), `service port ${servicePort} is also ${holder}'s (marathon-lb's blue/green pair?): this app gets one assigned; clusterctl's rollouts replace blue/green deployments (docs/deployments.md)`)
  } else if (servicePort !== undefined) {
    servicePortsTaken.set(servicePort, id)
    out.servicePort = servicePort
  }

  for (const [key, unit] of [['cpus', ''], ['mem', 'Mi'], ['disk', 'Mi'], ['gpus', ''], ['instances', '']] as const) {
    const v = app[key]
    if (v === undefined || v === null) continue
    const n = num(v)
    out[key] = n === undefined ? v : unit ? `${Math.ceil(n)}${unit}` : n
  }

  if (isObject(app.env)) {
    const env: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(app.env)) {
      if (isObject(v)) warn(at(`env.${k}`), 'secret references are not supported, ignored')
      else env[k] = v === null ? '' : String(v)
    }

    out.env = env
  }

  // Mesos sets MESOS_SANDBOX in every task: where a sandbox-relative volume is mounted here, it says so too
  if (sandbox) out.env = {MESOS_SANDBOX: MESOS_SANDBOX, ...(out.env as Record<string, unknown> | undefined)}

  if (isObject(app.labels)) out.labels = {...Object.fromEntries(Object.entries(app.labels).map(([k, v]) => [k, String(v)])), 'marathon.id': id}
  if (Array.isArray(app.constraints) && app.constraints.length > 0) out.constraints = app.constraints.map((c) => (Array.isArray(c) ? c.map(String) : typeof c === 'string' ? c.split(':') : c))

  const health = healthCheckOf(app, ports, at, warn)
  if (health) out.healthCheck = health
  const readiness = readinessCheckOf(app, ports, at, warn)
  if (readiness) out.readinessCheck = readiness
  if (ports.length > 0) out.ports = ports
  if (isObject(app.upgradeStrategy)) {
    const u = app.upgradeStrategy
    out.upgrade = {...(u.minimumHealthCapacity === undefined ? {} : {minimumHealthCapacity: num(u.minimumHealthCapacity) ?? u.minimumHealthCapacity}), ...(u.maximumOverCapacity === undefined ? {} : {maximumOverCapacity: num(u.maximumOverCapacity) ?? u.maximumOverCapacity})}
  }

  // Start order, resolved by marathonApps against the whole document.
  if (entry.dependsOn?.length) out.dependsOn = [...new Set(entry.dependsOn.map(marathonName))]

  const backoff = num(app.backoffSeconds)
  const factor = num(app.backoffFactor)
  if ((backoff !== undefined && backoff !== 1) || (factor !== undefined && factor !== 1.15)) warn(at(backoff !== undefined && backoff !== 1 ? 'backoffSeconds' : 'backoffFactor'), 'per-app restart back-off is not supported: restarts back off 1 s, doubling up to 60 s')
  if (app.killSelection !== undefined && app.killSelection !== 'YOUNGEST_FIRST') warn(at('killSelection'), `${String(app.killSelection)} is not supported: scaling down stops the highest instance numbers`)
  const unreachable = app.unreachableStrategy
  // A resident app's is "disabled" (Marathon requires it): its tasks wait for their node, as a task with a local volume does here
  if (stateful) {
    if (unreachable !== undefined && unreachable !== 'disabled') warn(at('unreachableStrategy'), 'a task with a local volume is never replaced while its node is down: it waits for the node, as with "disabled" (docs/volumes.md)')
  } else if (unreachable !== undefined && !(isObject(unreachable) && (num(unreachable.inactiveAfterSeconds) ?? 0) === 0)) warn(at('unreachableStrategy'), 'not supported: tasks on a node that is down are replaced at once (docs/failure-handling.md)')
  residencyOf(app.residency, stateful, at, warn)
  const network = networkOf(app, at, warn)
  if (network !== undefined) out.network = network
  return out
}

/** Where a Mesos container has its sandbox ($MESOS_SANDBOX): a sandbox-relative volume is mounted under it. */
const MESOS_SANDBOX = '/mnt/mesos/sandbox'

/**
 * The local volume name of a persistent volume: the job's name and the containerPath
 * (Marathon scopes a persistent volume to its app, `postgres#pgdata#UUID`; clusterctl's
 * volume names are the cluster's), cleaned to lower-case letters, digits and '-'; one too
 * long keeps its start and ends in 8 hex digits of a hash of both. `taken`: the names the
 * job already has (a second one gets `-2`).
 */
export function persistentVolumeName(job: string, containerPath: string, taken: Set<string>): string {
  const clean = volumeNameOf(containerPath) || 'data'
  let base = `${job}-${clean}`
  if (base.length > MAX_VOLUME_NAME) base = `${base.slice(0, MAX_VOLUME_NAME - 9).replace(/-+$/, '')}-${createHash('sha256').update(`${job}#${containerPath}`).digest('hex').slice(0, 8)}`
  let name = base
  for (let n = 2; taken.has(name); n++) name = `${base.slice(0, MAX_VOLUME_NAME - String(n).length - 1).replace(/-+$/, '')}-${n}`
  taken.add(name)
  return name
}

const readOnlyOf = (v: Record<string, unknown>): boolean => String(v.mode ?? 'RW').toUpperCase() === 'RO'

/** The fields of `persistent` honoured here; `type` root (Marathon's default) and empty `constraints` are quiet. */
const PERSISTENT_FIELDS: Record<string, true | ((v: unknown) => boolean)> = {size: true, type: (v) => v === 'root', constraints: empty, maxSize: () => false, profileName: () => false}

/**
 * `container.volumes` (docs/marathon.md): host paths as they are; a persistent volume
 * (Mesos reserved disk, its task pinned to the agent) as a local volume of `persistent.size`
 * MiB, pinned the same way. Its containerPath is relative to the Mesos sandbox; a docker
 * app binds it where it wants it with a second, host volume whose hostPath is that
 * containerPath: the pair is one local volume mounted at the host volume's containerPath.
 * A persistent volume no host volume binds is mounted under /mnt/mesos/sandbox (`sandbox`
 * true: MESOS_SANDBOX is set to it). An external volume of Docker's local driver mounting
 * NFS is an NFS volume; other external volumes (Docker volume drivers, CSI) have no kind
 * here and are warned about, as is every field not honoured.
 */
function volumesOf(container: Record<string, unknown>, job: string, at: (p: string) => string, warn: (path: string, message: string) => void): {volumes: Array<Record<string, unknown>>; sandbox: boolean} {
  const volumes: Array<Record<string, unknown>> = []
  let sandbox = false
  if (!Array.isArray(container.volumes)) return {volumes, sandbox}
  const list = container.volumes.map((v) => (isObject(v) ? v : undefined))
  const where = (i: number, field?: string): string => at(`container.volumes[${i}]${field ? `.${field}` : ''}`)
  // the host volume binding each persistent volume (by index): the first whose relative hostPath names it
  const persistent = new Map<string, number>()
  list.forEach((v, i) => v && v.persistent !== undefined && typeof v.containerPath === 'string' && !persistent.has(v.containerPath) && persistent.set(v.containerPath, i))
  const boundBy = new Map<number, number>()
  /** The host volumes that bind a persistent volume: the first is mapped with it, another is warned about. */
  const binding = new Set<number>()
  list.forEach((v, i) => {
    if (!v || v.persistent !== undefined || v.external !== undefined || typeof v.hostPath !== 'string' || v.hostPath.startsWith('/')) return
    const p = persistent.get(v.hostPath)
    if (p === undefined) return
    if (boundBy.has(p)) warn(where(i), `the persistent volume ${JSON.stringify(v.hostPath)} is mounted once, at ${String(list[boundBy.get(p)!]!.containerPath)} (${where(boundBy.get(p)!)}): not mounted here too`)
    else boundBy.set(p, i)
    binding.add(i)
  })
  const taken = new Set<string>()
  list.forEach((v, i) => {
    if (!v) return
    if (v.persistent !== undefined) {
      warnUnread(v, {containerPath: true, persistent: true, mode: true}, where(i), warn)
      const p = isObject(v.persistent) ? v.persistent : {}
      if (isObject(v.persistent)) warnUnread(p, PERSISTENT_FIELDS, where(i, 'persistent'), warn, {
        type: `${String(p.type)} disks are not supported: the volume is a directory on its node's disk (docs/volumes.md), its size reserved there`,
        constraints: 'disk constraints are not supported: the volume is a directory on its node\'s disk (docs/volumes.md)',
        maxSize: `not supported: the volume reserves its size (${String(p.size)} MiB), no more`,
        profileName: 'storage profiles are not supported, ignored',
      })
      const containerPath = typeof v.containerPath === 'string' ? v.containerPath : ''
      const size = num(p.size)
      if (size === undefined || size <= 0) warn(where(i, 'persistent.size'), `${JSON.stringify(p.size ?? null)} is not a size in MiB: the volume gets the default size, 1Gi`)
      const host = boundBy.has(i) ? list[boundBy.get(i)!]! : undefined
      if (host) warnUnread(host, {containerPath: true, hostPath: true, mode: true}, where(boundBy.get(i)!), warn)
      let mount = host ? String(host.containerPath ?? '') : containerPath
      if (!host && !containerPath.startsWith('/')) {
        mount = `${MESOS_SANDBOX}/${containerPath}`
        sandbox = true
        warn(where(i, 'containerPath'), `${JSON.stringify(containerPath)} is relative to the Mesos sandbox: mounted at ${mount}, where a Mesos container has it, and MESOS_SANDBOX is ${MESOS_SANDBOX}; nothing else of a sandbox is there, and the working directory is the image's`)
      }

      volumes.push({name: persistentVolumeName(job, containerPath, taken), mount, readOnly: readOnlyOf(v) || (host !== undefined && readOnlyOf(host)), source: {local: size === undefined || size <= 0 ? {} : {size: `${Math.ceil(size)}Mi`}}})
      return
    }

    if (binding.has(i)) return
    if (v.external !== undefined) {
      const e = isObject(v.external) ? v.external : {}
      const options = isObject(e.options) ? e.options : {}
      // DVDI forwards its dvdi/* options to the driver (a MESOS container's only): Docker's local driver mounting NFS is an NFS volume here
      const forwarded = Object.fromEntries(Object.entries(options).filter(([k]) => k.startsWith('dvdi/') && k !== 'dvdi/driver').map(([k, o]) => [k.slice('dvdi/'.length), o]))
      const nfs = e.provider === 'csi' || e.size !== undefined ? null : nfsOfLocalDriver(options['dvdi/driver'], forwarded)
      if (nfs && typeof e.name === 'string') {
        volumes.push({name: volumeNameOf(e.name), mount: v.containerPath, readOnly: readOnlyOf(v), source: {nfs}})
        return
      }

      const driver = typeof options['dvdi/driver'] === 'string' ? `, driver ${options['dvdi/driver']}` : isObject(options) && typeof options.pluginName === 'string' ? `, plugin ${options.pluginName}` : ''
      warn(where(i, 'external'), `external volume ${JSON.stringify(e.name ?? null)} (provider ${String(e.provider ?? 'dvdi')}${driver}) is not supported: clusterctl's volumes are local, NFS and host paths (docs/volumes.md; Docker's local driver mounting NFS is an NFS volume); not mounted`)
      return
    }

    if (typeof v.hostPath !== 'string') {
      warn(where(i), `${v.secret === undefined ? 'not a host, persistent or external volume' : 'secret volumes are not supported'}: not mounted`)
      return
    }

    if (!v.hostPath.startsWith('/')) {
      warn(where(i, 'hostPath'), `${JSON.stringify(v.hostPath)} is relative to a Mesos sandbox, which clusterctl has not, and names no persistent volume of the app: ignored`)
      return
    }

    warnUnread(v, {containerPath: true, hostPath: true, mode: true}, where(i), warn)
    volumes.push({source: v.hostPath, target: v.containerPath, readOnly: readOnlyOf(v)})
  })
  return {volumes, sandbox}
}

/**
 * `residency`: Marathon pins an app's tasks by its persistent volumes, as clusterctl does by
 * its local volumes; `taskLostBehavior` WAIT_FOREVER (the default) is what a pinned task
 * does here. RELAUNCH_AFTER_TIMEOUT (moving the task after relaunchEscalationTimeoutSeconds)
 * is not done here (Marathon never did it either: both fields are deprecated, without effect).
 */
function residencyOf(residency: unknown, stateful: boolean, at: (p: string) => string, warn: (path: string, message: string) => void): void {
  if (residency === undefined || residency === null) return
  if (!isObject(residency)) return warn(at('residency'), 'not supported, ignored')
  if (!stateful) return warn(at('residency'), 'an app without a persistent volume has nothing to pin (Marathon pins tasks by their persistent volumes): ignored')
  for (const [key, value] of Object.entries(residency)) {
    if (key === 'relaunchEscalationTimeoutSeconds' || value === null) continue
    if (key !== 'taskLostBehavior') warn(at(`residency.${key}`), 'not supported, ignored')
    else if (value === 'RELAUNCH_AFTER_TIMEOUT') {
      const timeout = num(residency.relaunchEscalationTimeoutSeconds) ?? 3600
      warn(at('residency.taskLostBehavior'), `RELAUNCH_AFTER_TIMEOUT (after ${timeout} s) is not supported: a task with a local volume waits for its node until the node returns or \`clusterctl volume forget NAME --new-empty\` gives its data up (docs/volumes.md)`)
    } else if (value !== 'WAIT_FOREVER') warn(at('residency.taskLostBehavior'), `${JSON.stringify(value)} is not a Marathon value (WAIT_FOREVER, RELAUNCH_AFTER_TIMEOUT): ignored`)
  }
}

/**
 * The job's network (docs/networks.md): Marathon 1.5's first `networks` entry in
 * `container` mode with a name, or the older `ipAddress.networkName`. `container/bridge`
 * is the default bridge (quiet); host networking, a second named network, a container
 * network without a name, a name that is not a network name here, and the other
 * `ipAddress` fields are warned about.
 */
function networkOf(app: Record<string, unknown>, at: (p: string) => string, warn: (path: string, message: string) => void): string | undefined {
  const named: Array<{name: string; field: string}> = []
  if (Array.isArray(app.networks)) {
    app.networks.forEach((n, i) => {
      if (!isObject(n)) return
      if (n.mode === 'host') warn(at(`networks[${i}]`), 'host networking is not supported: the container gets bridge networking (podman) with its ports published')
      else if (n.mode === 'container' && typeof n.name === 'string' && n.name !== '') named.push({name: n.name, field: `networks[${i}].name`})
      else if (n.mode === 'container') warn(at(`networks[${i}]`), 'a container network without a name: the container gets the default bridge; name one to share a network (docs/networks.md)')
      else if (n.mode !== 'container/bridge' && n.mode !== undefined) warn(at(`networks[${i}].mode`), `${String(n.mode)} is not supported, ignored`)
    })
  }

  if (isObject(app.ipAddress)) {
    for (const [key, value] of Object.entries(app.ipAddress)) {
      if (key === 'networkName' && typeof value === 'string' && value !== '') named.push({name: value, field: 'ipAddress.networkName'})
      else if (!empty(value) && !(isObject(value) && Object.keys(value).length === 0)) warn(at(`ipAddress.${key}`), 'not supported, ignored')
    }
  } else if (app.ipAddress !== undefined && app.ipAddress !== null) warn(at('ipAddress'), 'not supported, ignored')

  const usable = named.filter((n) => {
    const problem = networkNameProblem(n.name)
    if (problem) warn(at(n.field), `${problem}; the container gets the default bridge`)
    return problem === null
  })
  for (const extra of usable.slice(1)) if (extra.name !== usable[0]!.name) warn(at(extra.field), `a job joins one network: ${usable[0]!.name} (${at(usable[0]!.field)}), not ${extra.name}`)
  return usable[0]?.name
}

/**
 * The service port of the app (docs/endpoints.md): Marathon's for its first TCP port
 * (0: one is assigned). Service ports of the other ports are warned about: a job has one,
 * fronting its first TCP port.
 */
function servicePortOf(ports: Array<{protocol: string}>, servicePorts: Array<{port: number; field: string}>, at: (p: string) => string, warn: (path: string, message: string) => void): number | undefined {
  const first = ports.findIndex((p) => p.protocol === 'tcp')
  servicePorts.forEach((s, i) => {
    if (i !== first && s.port !== 0) warn(at(s.field), `service port ${s.port} ignored: a job has one service port, fronting its first TCP port${first === -1 ? ' (it has none)' : ` (${at(servicePorts[first]!.field)})`}`)
  })
  const port = first === -1 ? 0 : servicePorts[first]!.port
  return port === 0 ? undefined : port
}

/** The first health check (Marathon's `healthChecks`, or the Mesos `check`); more are warned about. */
function healthCheckOf(app: Record<string, unknown>, ports: Array<{containerPort: number; protocol: string; name?: string}>, at: (p: string) => string, warn: (path: string, message: string) => void): Record<string, unknown> | undefined {
  const list = Array.isArray(app.healthChecks) ? app.healthChecks.filter(isObject) : []
  if (list.length > 1) warn(at('healthChecks'), `${list.length} health checks: only the first is used`)
  const hc = list[0]
  if (hc) {
    warnUnread(hc, HEALTH_CHECK_FIELDS, at('healthChecks[0]'), warn)
    const protocol = String(hc.protocol ?? 'HTTP').toUpperCase()
    if (!PROTOCOLS.has(protocol)) throw new UserError(`${at('healthChecks[0].protocol')}: ${JSON.stringify(hc.protocol)} is not a Marathon protocol (${[...PROTOCOLS].join(', ')}).`, {code: 'invalid-spec'})
    const timing = timingOf(hc)
    if (protocol === 'COMMAND') {
      const command = isObject(hc.command) ? hc.command.value : undefined
      return {cmd: command, ...timing}
    }

    const port = portOf(hc, ports, at('healthChecks[0]'), warn)
    if (protocol.endsWith('HTTPS')) {
      warn(at('healthChecks[0].protocol'), `${protocol}: HTTPS checks are made as TCP connects to the port`)
      return {tcp: port, ...timing}
    }

    return protocol.endsWith('TCP') ? {tcp: port, ...timing} : {http: `${port}${typeof hc.path === 'string' ? (hc.path.startsWith('/') ? hc.path : `/${hc.path}`) : '/'}`, ...timing}
  }

  if (!isObject(app.check)) return undefined
  const c = app.check
  // a Mesos check only reports, it never kills the task: a failure count no check reaches
  const timing = {interval: `${num(c.intervalSeconds) ?? 60}s`, timeout: `${num(c.timeoutSeconds) ?? 20}s`, gracePeriod: `${num(c.delaySeconds) ?? 15}s`, maxConsecutiveFailures: 1_000_000}
  if (isObject(c.exec) && isObject(c.exec.command)) return {cmd: c.exec.command.shell ?? (Array.isArray(c.exec.command.argv) ? c.exec.command.argv.join(' ') : undefined), ...timing}
  const probe = isObject(c.http) ? c.http : isObject(c.tcp) ? c.tcp : undefined
  if (!probe) return undefined
  const port = portOf(probe, ports, at('check'), warn)
  return isObject(c.http) ? {http: `${port}${typeof probe.path === 'string' ? probe.path : '/'}`, ...timing} : {tcp: port, ...timing}
}

/** Marathon's seconds as durations; maxConsecutiveFailures 0 (never kill) as a count no check reaches. */
function timingOf(hc: Record<string, unknown>): Record<string, unknown> {
  const failures = num(hc.maxConsecutiveFailures) ?? 3
  return {gracePeriod: `${num(hc.gracePeriodSeconds) ?? 300}s`, interval: `${num(hc.intervalSeconds) ?? 60}s`, timeout: `${num(hc.timeoutSeconds) ?? 20}s`, maxConsecutiveFailures: failures === 0 ? 1_000_000 : failures}
}

/** The container port a check probes: `port`, else the port at `portIndex` (0 by default) or named `portName`. */
function portOf(check: Record<string, unknown>, ports: Array<{containerPort: number; protocol: string; name?: string}>, where: string, warn: (path: string, message: string) => void): number {
  const fixed = num(check.port)
  if (fixed !== undefined) {
    if (!ports.some((p) => p.containerPort === fixed)) {
      ports.push({containerPort: fixed, protocol: 'tcp'})
      warn(`${where}.port`, `container port ${fixed} is added to the ports (published on a host port the scheduler picks)`)
    }

    return fixed
  }

  const byName = typeof check.portName === 'string' ? ports.find((p) => p.name === check.portName) : undefined
  const port = byName ?? ports[num(check.portIndex) ?? 0]
  if (!port) warn(`${where}.portIndex`, 'names no port of the app: the check probes port 0')
  return port?.containerPort ?? 0
}

/** The first readiness check (http, on the named port); more, and status codes other than 200, are warned about. */
function readinessCheckOf(app: Record<string, unknown>, ports: Array<{containerPort: number; protocol: string; name?: string}>, at: (p: string) => string, warn: (path: string, message: string) => void): Record<string, unknown> | undefined {
  const list = Array.isArray(app.readinessChecks) ? app.readinessChecks.filter(isObject) : []
  if (list.length > 1) warn(at('readinessChecks'), `${list.length} readiness checks: only the first is used`)
  const rc = list[0]
  if (!rc) return undefined
  warnUnread(rc, READINESS_CHECK_FIELDS, at('readinessChecks[0]'), warn)
  const codes = Array.isArray(rc.httpStatusCodesForReady) ? rc.httpStatusCodesForReady : [200]
  if (codes.some((c) => num(c) === undefined || num(c)! < 200 || num(c)! > 399)) warn(at('readinessChecks[0].httpStatusCodesForReady'), 'any 2xx or 3xx status counts as ready here')
  const port = portOf(rc, ports, at('readinessChecks[0]'), warn)
  const protocol = String(rc.protocol ?? 'HTTP').toUpperCase()
  if (protocol === 'HTTPS') warn(at('readinessChecks[0].protocol'), 'HTTPS: the readiness check is made as a TCP connect to the port')
  const timing = {interval: `${num(rc.intervalSeconds) ?? 30}s`, timeout: `${num(rc.timeoutSeconds) ?? 10}s`}
  return protocol === 'HTTPS' ? {tcp: port, ...timing} : {http: `${port}${typeof rc.path === 'string' ? rc.path : '/'}`, ...timing}
}
