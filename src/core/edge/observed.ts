/**
 * HAProxy's own view of the services beside clusterctl's (`clusterctl endpoints`,
 * docs/endpoints.md), pure: what each edge's runtime API answered to READ_COMMANDS,
 * read as one state per server, and judged against the state the pass wants it in.
 *
 * - HAProxy's state of a server: `maint` or `drain` (its administrative state, `show
 *   servers state`), else `down` when its own health check fails (`show stat` status
 *   DOWN...), else `up`; `absent` when the edge has no such server.
 * - What clusterctl expects (edgeServices): ready -> up; drain -> drain (or absent: a
 *   server that is not ready is never added); maint -> maint (or absent).
 * - A difference is a mismatch: the next pass brings the administrative state there
 *   (runtimeCommands); `down` for a server clusterctl counts ready is HAProxy's check
 *   failing, which HAProxy acts on itself (it sends it nothing).
 * - A server an edge has that clusterctl does not want is stale: the next pass drains
 *   and removes it (or, for a backend of no service, reloads without it).
 */
import {backendName, parseServerStats, parseServersState, type EdgeServer, type ServerState} from './haproxy.js'

/** A server's state as HAProxy has it on one edge. */
export type HaproxyState = 'up' | 'drain' | 'maint' | 'down' | 'absent'

/** One server as HAProxy reports it. */
export interface ObservedServer {
  name: string
  address: string
  port: number
  state: Exclude<HaproxyState, 'absent'>
  /** `show stat`'s status (UP, DOWN, MAINT, DRAIN, no check, `UP 1/3`...). */
  status: string
  /** Connections attached (`show stat` scur). */
  connections: number
}

/** The runtime API's answers to READ_COMMANDS as servers by backend name. */
export function observedServers(serversState: string, statCsv: string): Map<string, ObservedServer[]> {
  const stats = parseServerStats(statCsv)
  const out = new Map<string, ObservedServer[]>()
  for (const [be, list] of parseServersState(serversState)) {
    out.set(
      be,
      list.map((l) => {
        const stat = stats.get(`${be}/${l.name}`)
        const status = stat?.status ?? ''
        const state = l.state === 'ready' ? (/^DOWN/.test(status) ? 'down' : 'up') : l.state
        return {name: l.name, address: l.address, port: l.port, state, status, connections: stat?.connections ?? 0}
      }),
    )
  }

  return out
}

/** The state clusterctl expects HAProxy to show for a server it wants in `wanted`. */
export const EXPECTED: Readonly<Record<ServerState, HaproxyState>> = {ready: 'up', drain: 'drain', maint: 'maint'}

/** Whether HAProxy's state of a server agrees with the state clusterctl wants it in. */
export function agrees(wanted: ServerState, actual: HaproxyState): boolean {
  return actual === EXPECTED[wanted] || (wanted !== 'ready' && actual === 'absent')
}

/** What one edge answered: its servers by backend, or null when it could not be read. */
export interface EdgeObservation {
  node: string
  /** null: not read (not asked, or it did not answer): its servers are unknown. */
  servers: ReadonlyMap<string, readonly ObservedServer[]> | null
}

/** One wanted server on one edge. */
export interface ServerOnEdge {
  node: string
  expected: HaproxyState
  /** unknown: the edge was not read. */
  actual: HaproxyState | 'unknown'
  /** Connections attached there (null: absent or unknown). */
  connections: number | null
  /** HAProxy's `ADDR:PORT` for it when it is not the one wanted (null: the same, absent or unknown). */
  address: string | null
  mismatch: boolean
}

/** A server an edge has in a service's backend that clusterctl does not want there. */
export interface StaleServer {
  node: string
  backend: string
  server: string
  address: string
  state: Exclude<HaproxyState, 'absent'>
  connections: number
}

export interface ServiceComparison {
  /** Each wanted server's state on every edge (in the order of `observations`), by server name. */
  servers: Map<string, ServerOnEdge[]>
  stale: StaleServer[]
}

const addressText = (s: Pick<EdgeServer, 'address' | 'port'>): string => `${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port}`

/** One service's wanted servers against every edge's view of its backend. */
export function compareService(service: {name: string; servers: readonly Pick<EdgeServer, 'name' | 'address' | 'port' | 'state'>[]}, observations: readonly EdgeObservation[]): ServiceComparison {
  const be = backendName(service.name)
  const servers = new Map<string, ServerOnEdge[]>(service.servers.map((s) => [s.name, []]))
  const stale: StaleServer[] = []
  for (const o of observations) {
    const have = o.servers === null ? null : new Map((o.servers.get(be) ?? []).map((s) => [s.name, s]))
    for (const want of service.servers) {
      const expected = EXPECTED[want.state]
      const l = have?.get(want.name)
      if (have === null) {
        servers.get(want.name)!.push({node: o.node, expected, actual: 'unknown', connections: null, address: null, mismatch: false})
        continue
      }

      const actual: HaproxyState = l?.state ?? 'absent'
      const moved = l !== undefined && (l.address !== want.address || l.port !== want.port)
      servers.get(want.name)!.push({node: o.node, expected, actual, connections: l?.connections ?? null, address: moved ? addressText(l) : null, mismatch: moved || !agrees(want.state, actual)})
    }

    if (have === null) continue
    const wanted = new Set(service.servers.map((s) => s.name))
    for (const l of have.values()) if (!wanted.has(l.name)) stale.push({node: o.node, backend: be, server: l.name, address: addressText(l), state: l.state, connections: l.connections})
  }

  return {servers, stale}
}

/** Backends an edge has that are no service's (their service was removed): the next pass reloads without them. */
export function strayBackends(services: readonly {name: string}[], observations: readonly EdgeObservation[]): Array<{node: string; backend: string; servers: number}> {
  const known = new Set(services.map((s) => backendName(s.name)))
  const out: Array<{node: string; backend: string; servers: number}> = []
  for (const o of observations) for (const [be, list] of o.servers ?? []) if (!known.has(be)) out.push({node: o.node, backend: be, servers: list.length})
  return out
}
