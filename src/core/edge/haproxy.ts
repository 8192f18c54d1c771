/**
 * The edge proxy's configuration and runtime-API commands (docs/endpoints.md), pure:
 * services in, haproxy.cfg text and command lines out, nothing run here. HAProxy 2.6
 * (Debian 12) semantics, read from its management guide and checked against the
 * Debian package (test/unit/core/edge/haproxy.test.ts runs `haproxy -c` on the output):
 *
 * - `add server BE/S ADDR ...` creates a server in forced maintenance; `enable server`
 *   puts it in rotation; its health check runs only after `enable health`. Settings of
 *   `default-server` are not applied to it, so every server line carries its own.
 * - `add server` needs a dynamic balance algorithm: backends use `roundrobin`.
 * - `set server BE/S state drain` takes it out of balancing while its connections go on;
 *   `del server` is refused unless the server is in maintenance with no connection left.
 * - A server added at run time is lost on reload unless it is in the file too: the
 *   rendered file always holds every server, so a reload keeps what the API changed.
 * - `expose-fd listeners` on the admin socket lets a new process take the listening
 *   sockets over (seamless reload); `hard-stop-after` bounds how long an old one lives.
 *
 * Names are stable: frontend `fe_JOB` on the service port, backend `be_JOB`, one server
 * per task named by the task's id, so the same task is the same server in every file and
 * every command.
 */
import {BugError} from '../errors.js'

/** What an edge wants of one backend server: in rotation, draining (no new connections), or out (maintenance). */
export type ServerState = 'ready' | 'drain' | 'maint'

export interface EdgeServer {
  /** The task's id: the server's name in its backend. */
  name: string
  /** The node's address (an IP, or a name resolved when the file loads) and the task's host port. */
  address: string
  port: number
  /** The host port HAProxy's check probes, when the job's check is on another container port than the one served; null: the served port. */
  checkPort: number | null
  state: ServerState
}

/** HAProxy's own health check of a backend's servers: a TCP connect, or an HTTP GET whose 2xx/3xx is up. */
export interface EdgeCheck {
  type: 'tcp' | 'http'
  /** The HTTP path (http only). */
  path: string | null
  intervalMs: number
  timeoutMs: number
  /** Consecutive failures that take a server down, successes that bring it back. */
  fall: number
  rise: number
}

export interface EdgeService {
  /** The job's name. */
  name: string
  servicePort: number
  check: EdgeCheck | null
  servers: EdgeServer[]
}

export interface EdgeConfigOptions {
  /** Directory on the edge node for the admin socket (`admin.sock`) and the idle listener (`idle.sock`). */
  runDir: string
  /** Where frontends listen, default all IPv4 addresses. */
  bindAddress?: string
  /** How long an old process may keep serving its connections after a reload. */
  hardStopAfterMs?: number
  /**
   * How long a connection to a backend may take before it is tried on another server
   * (`retries 2`, `option redispatch 1`): a live instance answers a SYN in milliseconds, one
   * on a crashed host never does, and its requests then wait this long, not fail.
   */
  connectTimeoutMs?: number
  /** Idle timeouts of client and server sides (long: TCP services hold connections open). */
  idleTimeoutMs?: number
}

export const EDGE_DEFAULTS = {bindAddress: '0.0.0.0', hardStopAfterMs: 30_000, connectTimeoutMs: 2000, idleTimeoutMs: 3_600_000} as const

export const frontendName = (service: string): string => `fe_${service}`
export const backendName = (service: string): string => `be_${service}`
export const adminSocket = (runDir: string): string => `${runDir.replace(/\/+$/, '')}/admin.sock`

/** HAProxy's identifiers: letters, digits, '-', '_', '.', ':'. Ours are job names and task ids, always within. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/
/** An IPv4 or IPv6 address or a host name; nothing a config line or a CLI command could be split at. */
const ADDRESS = /^[A-Za-z0-9.:-]+$/
/** A path for the config file: no space, quote, '#' or control character (they would end or comment the word). */
const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/

function checked(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new BugError(`edge: ${what} ${JSON.stringify(value)} cannot go into an HAProxy configuration`)
  return value
}

function port(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new BugError(`edge: ${what} ${value} is not a port`)
  return value
}

/**
 * An HTTP check path as one config word: characters outside RFC 3986's path set, and
 * the quote and variable characters of HAProxy's config (' and $), percent-encoded.
 */
export function checkPathWord(path: string): string {
  const withSlash = path.startsWith('/') ? path : `/${path}`
  return withSlash.replace(/[^A-Za-z0-9\-._~!&()*+,;=:@/?%]/gu, (c) => (c === "'" ? '%27' : /^[\uD800-\uDFFF]$/.test(c) ? '%EF%BF%BD' : encodeURIComponent(c)))
}

/** `ADDR:PORT` for a server line or `add server` (IPv6 as HAProxy reads it: the last ':' parts the port). */
function endpoint(server: Pick<EdgeServer, 'address' | 'port'>): string {
  return `${checked(server.address, ADDRESS, 'address')}:${port(server.port, 'host port')}`
}

/** The settings of a server, the same in the file and in `add server` (which does not read default-server). */
export function serverArgs(service: Pick<EdgeService, 'check'>, server: Pick<EdgeServer, 'address' | 'port' | 'checkPort'>): string[] {
  const args = [endpoint(server)]
  const c = service.check
  if (c) {
    args.push('check', 'inter', `${Math.max(100, Math.round(c.intervalMs))}ms`, 'fall', String(c.fall), 'rise', String(c.rise))
    if (server.checkPort !== null) args.push('port', String(port(server.checkPort, 'check port')))
  }

  return args
}

const byName = <T extends {name: string}>(list: readonly T[]): T[] => [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

/**
 * The whole haproxy.cfg of an edge node: every service's frontend on its service port
 * and backend with its servers (ready ones in rotation; draining and out ones `disabled`:
 * after a reload a draining server's connections stay with the old process, bounded by
 * hard-stop-after). The same input gives the same text, byte for byte.
 */
export function renderHaproxyConfig(services: readonly EdgeService[], options: EdgeConfigOptions): string {
  const o = {...EDGE_DEFAULTS, ...options}
  const runDir = checked(o.runDir.replace(/\/+$/, ''), SAFE_PATH, 'run directory')
  const lines = [
    '# Written by clusterctl (docs/endpoints.md); changes here are overwritten.',
    'global',
    `  stats socket ${adminSocket(runDir)} mode 600 level admin expose-fd listeners`,
    '  stats timeout 30s',
    `  hard-stop-after ${o.hardStopAfterMs}ms`,
    '',
    'defaults',
    '  mode tcp',
    `  timeout connect ${o.connectTimeoutMs}ms`,
    `  timeout client ${o.idleTimeoutMs}ms`,
    `  timeout server ${o.idleTimeoutMs}ms`,
    '  timeout check 5s',
    // a connection that fails (refused, or no answer within the connect timeout) is retried on another server at once
    '  option redispatch 1',
    '  retries 2',
    '',
    '# HAProxy does not start without a listener: this one refuses every connection.',
    'frontend clusterctl_idle',
    `  bind unix@${runDir}/idle.sock`,
    '  tcp-request connection reject',
  ]
  const seen = new Map<number, string>()
  for (const s of byName(services)) {
    checked(s.name, NAME, 'service name')
    const other = seen.get(s.servicePort)
    if (other !== undefined) throw new BugError(`edge: services ${other} and ${s.name} both have service port ${s.servicePort}`)
    seen.set(s.servicePort, s.name)
    lines.push('', `frontend ${frontendName(s.name)}`, `  bind ${checked(o.bindAddress, ADDRESS, 'bind address')}:${port(s.servicePort, 'service port')}`, `  default_backend ${backendName(s.name)}`)
    lines.push('', `backend ${backendName(s.name)}`, '  balance roundrobin')
    if (s.check?.type === 'http') lines.push('  option httpchk', `  http-check send meth GET uri ${checkPathWord(s.check.path ?? '/')}`, '  http-check expect status 200-399')
    if (s.check) lines.push(`  timeout check ${Math.max(100, Math.round(s.check.timeoutMs))}ms`)
    for (const server of byName(s.servers)) {
      lines.push(`  server ${checked(server.name, NAME, 'server name')} ${serverArgs(s, server).join(' ')}${server.state === 'ready' ? '' : ' disabled'}`)
    }
  }

  return `${lines.join('\n')}\n`
}

/** The frontends of a configuration: what only a reload changes (services and their ports). */
export function frontendsOf(services: readonly Pick<EdgeService, 'name' | 'servicePort' | 'check'>[]): string {
  return JSON.stringify(byName(services).map((s) => [s.name, s.servicePort, s.check]))
}

/** A server as HAProxy has it now (read from its runtime API). */
export interface LiveServer {
  name: string
  address: string
  port: number
  /** Its administrative state: ready, drain, or maint (forced or inherited maintenance). */
  state: ServerState
  /** Connections still attached (`show stat` scur). */
  connections: number
}

/** What a runtime diff asks of one edge. */
export interface RuntimePlan {
  /** Runtime API command lines, in order (each applies to one server). */
  commands: string[]
  /** Servers left as they are until their connections end (draining now). */
  waiting: string[]
}

/**
 * The runtime-API commands that take an edge's backends from what HAProxy has
 * (`live`, by backend name) to what is wanted (`services`), without a reload. Backends
 * that exist in only one of them are not touched: a new or removed service changes the
 * frontends, which needs a new file and a reload (frontendsOf).
 *
 * - A wanted ready server that HAProxy lacks: `add server` (it starts in maintenance),
 *   `enable health` with a check, then `enable server`. A wanted server that is not
 *   ready is never added.
 * - A server whose address moved: `set server ... addr`.
 * - A server in another state: `set server ... state ready|drain|maint`; within a
 *   backend, every server that comes into rotation does before any leaves it.
 * - A server no longer wanted: drained first (`state drain`); once drained (no
 *   connection left) or already in maintenance with none, `state maint` then `del server`.
 *   `force` (names of servers whose drain timeout passed): `shutdown sessions server`,
 *   then removed as above.
 */
export function runtimeCommands(live: ReadonlyMap<string, readonly LiveServer[]>, services: readonly EdgeService[], options: {force?: ReadonlySet<string>} = {}): RuntimePlan {
  const commands: string[] = []
  const waiting: string[] = []
  const force = options.force ?? new Set<string>()
  // Within a backend, servers come into rotation before others leave it (a rollout's new task before its old one drains).
  const outOfRotation: string[] = []
  for (const s of byName(services)) {
    const be = backendName(s.name)
    const current = live.get(be)
    if (!current) continue
    const have = new Map(current.map((l) => [l.name, l]))
    const want = new Map(s.servers.map((w) => [w.name, w]))
    for (const w of byName(s.servers)) {
      const id = `${be}/${checked(w.name, NAME, 'server name')}`
      const l = have.get(w.name)
      if (!l) {
        if (w.state !== 'ready') continue
        commands.push(`add server ${id} ${serverArgs(s, w).join(' ')}`)
        if (s.check) commands.push(`enable health ${id}`)
        commands.push(`enable server ${id}`)
        continue
      }

      if (l.address !== w.address || l.port !== w.port) commands.push(`set server ${id} addr ${checked(w.address, ADDRESS, 'address')} port ${port(w.port, 'host port')}`)
      if (l.state !== w.state) (w.state === 'ready' ? commands : outOfRotation).push(`set server ${id} state ${w.state}`)
    }

    commands.push(...outOfRotation.splice(0))

    for (const l of byName(current)) {
      if (want.has(l.name)) continue
      const id = `${be}/${checked(l.name, NAME, 'server name')}`
      const forced = force.has(l.name)
      if (l.state === 'ready' && !forced) {
        commands.push(`set server ${id} state drain`)
        waiting.push(id)
        continue
      }

      if (l.connections > 0 && !forced) {
        waiting.push(id)
        continue
      }

      if (l.state !== 'maint') commands.push(`set server ${id} state maint`)
      if (l.connections > 0) commands.push(`shutdown sessions server ${id}`)
      commands.push(`del server ${id}`)
    }
  }

  return {commands, waiting}
}

/**
 * `show servers state` (HAProxy 2.6, format version 1) as LiveServers by backend
 * (connections 0: that output has none; `show stat` scur gives them). srv_admin_state is
 * a bit field: 0x01 forced maintenance, 0x02 inherited, 0x20 address resolution failed
 * (all three: maintenance); 0x08 and 0x10 drain (forced, inherited); 0x04 only says the
 * file had it `disabled` (it stays after `enable server`, measured on 2.6.12).
 */
export function parseServersState(text: string): Map<string, LiveServer[]> {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  const header = lines.find((l) => l.startsWith('# '))
  if (!header) return new Map()
  const columns = header.slice(2).split(/\s+/)
  const at = (name: string): number => columns.indexOf(name)
  const out = new Map<string, LiveServer[]>()
  for (const line of lines) {
    if (line.startsWith('#') || /^\d+$/.test(line)) continue
    const f = line.split(/\s+/)
    const be = f[at('be_name')]
    const name = f[at('srv_name')]
    const admin = Number(f[at('srv_admin_state')])
    if (be === undefined || name === undefined || !Number.isFinite(admin)) continue
    const state: ServerState = admin & 0x23 ? 'maint' : admin & 0x18 ? 'drain' : 'ready'
    const list = out.get(be) ?? []
    list.push({name, address: f[at('srv_addr')] ?? '', port: Number(f[at('srv_port')] ?? 0), state, connections: 0})
    out.set(be, list)
  }

  return out
}

/** What `show stat` says of one server: connections attached (scur) and its status as HAProxy sees it (UP, DOWN, MAINT, DRAIN, no check...). */
export interface ServerStat {
  connections: number
  status: string
}

/** The commands that read an edge's backends: their states, then their connections. */
export const READ_COMMANDS = ['show servers state', 'show stat -1 4 -1'] as const

/** `show stat` CSV (servers: `show stat -1 4 -1`) by `BACKEND/SERVER`. */
export function parseServerStats(csv: string): Map<string, ServerStat> {
  const lines = csv.split('\n').filter((l) => l.trim() !== '')
  const header = lines.find((l) => l.startsWith('# '))
  const out = new Map<string, ServerStat>()
  if (!header) return out
  const columns = header.slice(2).split(',')
  const [px, sv, scur, status] = ['pxname', 'svname', 'scur', 'status'].map((c) => columns.indexOf(c))
  for (const line of lines) {
    if (line.startsWith('#')) continue
    const f = line.split(',')
    const server = f[sv!]
    if (server === undefined || server === 'FRONTEND' || server === 'BACKEND') continue
    out.set(`${f[px!]}/${server}`, {connections: Number(f[scur!]) || 0, status: f[status!] ?? ''})
  }

  return out
}

/**
 * An edge's backends as the runtime diff reads them: `show servers state` joined with
 * `show stat`'s connections. `show servers state` lists no line for a backend without
 * servers: `backends` names those known to exist (the loaded file's), which then read as
 * empty rather than absent (else a service's first server would never be added).
 */
export function liveServers(serversState: string, statCsv: string, backends: readonly string[] = []): Map<string, LiveServer[]> {
  const stats = parseServerStats(statCsv)
  const out = parseServersState(serversState)
  for (const be of backends) if (!out.has(be)) out.set(be, [])
  for (const [be, list] of out) for (const s of list) s.connections = stats.get(`${be}/${s.name}`)?.connections ?? 0
  return out
}
