/** `clusterctl endpoints` as JSON (the `--json` contract, docs/json.md) and as text. */
import {EXPECTED} from '../../core/edge/observed.js'
import {hostPortText} from '../../core/model/node.js'
import type {Endpoint, LiveEndpoints} from '../../core/services/endpoints.js'
import {paint} from '../style.js'
import {renderTable} from '../table.js'

export interface EndpointJson {
  job: string
  servicePort: number
  /** The container port it fronts (0: the port the app binds from $PORTn). */
  containerPort: number
  /** `EDGE_ADDRESS:SERVICE_PORT` on every edge node. */
  addresses: string[]
  /** read: its HAProxy was read now (null: not asked, `--no-live`); error: why not, or what is wrong there. */
  edges: Array<{node: string; address: string; nodeState: string; read: boolean | null; error: string | null}>
  /** Servers in rotation (as clusterctl wants them). */
  ready: number
  /** Whether the edges' HAProxy was read (false with --no-live: expected states only). */
  live: boolean
  /** Whether any edge holds a server otherwise than expected, or has a stale one (null: not read). */
  mismatch: boolean | null
  backends: Array<{
    taskId: string
    instance: number
    node: string
    address: string
    /** The state clusterctl wants it in on the edges: ready, drain, maint. */
    state: string
    /** That state in HAProxy's words: up, drain, maint. */
    expected: string
    /** Whether an edge holds it otherwise (null: not read). */
    mismatch: boolean | null
    /** Each edge's view (empty: not read): actual up, drain, maint, down, absent, or unknown (the edge was not read). */
    edges: Array<{node: string; expected: string; actual: string; connections: number | null; address: string | null; mismatch: boolean}>
  }>
  /** Servers an edge has in this service's backend that clusterctl does not want (the next pass removes them). */
  stale: Array<{node: string; server: string; address: string; actual: string; connections: number}>
}

const mismatchOf = (e: Endpoint): boolean | null => (e.stale === null ? null : e.stale.length > 0 || e.backends.some((b) => b.onEdges?.some((x) => x.mismatch) ?? false))

export function endpointToJson(e: Endpoint): EndpointJson {
  return {
    job: e.job.name,
    servicePort: e.servicePort,
    containerPort: e.containerPort,
    addresses: e.edges.map((x) => x.address),
    edges: e.edges.map((x) => ({node: x.node, address: x.address, nodeState: x.nodeState, read: x.reading?.read ?? null, error: x.reading?.error ?? null})),
    ready: e.backends.filter((b) => b.state === 'ready').length,
    live: e.stale !== null,
    mismatch: mismatchOf(e),
    backends: e.backends.map((b) => ({
      taskId: b.taskId,
      instance: b.instance,
      node: b.node,
      address: hostPortText(b.host, b.port),
      state: b.state,
      expected: EXPECTED[b.state],
      mismatch: b.onEdges === null ? null : b.onEdges.some((x) => x.mismatch),
      edges: (b.onEdges ?? []).map((x) => ({...x})),
    })),
    stale: (e.stale ?? []).map((s) => ({node: s.node, server: s.server, address: s.address, actual: s.state, connections: s.connections})),
  }
}

const stateText = (state: string, color: boolean): string => (state === 'ready' || state === 'up' ? paint.ok(state, color) : state === 'drain' ? paint.warn(state, color) : state === 'unknown' || state === 'absent' ? paint.dim(state, color) : paint.error(state, color))

const answering = (state: string): boolean => state === 'ready' || state === 'cordoned' || state === 'draining'

/** The services table; with `live` (getLiveEndpoints), each server on each edge beside what is expected. */
export function renderEndpoints(endpoints: readonly Endpoint[], color: boolean, live?: Pick<LiveEndpoints, 'stray'>): string {
  if (endpoints.length === 0 && !live?.stray.length) return 'No services: a service with a TCP port gets a service port (`clusterctl run NAME --image IMG -p 8080`).'
  const rows: string[][] = []
  for (const e of endpoints) {
    const ready = e.backends.filter((b) => b.state === 'ready').length
    const addresses = e.edges.length === 0 ? `:${e.servicePort} (no edge node)` : e.edges.map((x) => `${x.address}${answering(x.nodeState) ? '' : ` (${x.nodeState})`}`).join(' ')
    const row = [e.job.name, `${e.servicePort}->${e.containerPort === 0 ? '$PORT' : e.containerPort}`, addresses, `${ready}/${e.backends.length}`]
    if (!live) row.push(e.backends.map((b) => `${hostPortText(b.host, b.port)} ${stateText(b.state, color)}`).join(' ') || '-')
    rows.push(row)
  }

  const lines = [renderTable(['SERVICE', 'PORT', 'ADDRESSES', 'READY', ...(live ? [] : ['BACKENDS'])], rows)]
  if (endpoints.some((e) => e.edges.length === 0)) lines.push('', 'No edge node: mark one with `clusterctl node edge NAME`.')
  if (!live) {
    lines.push('', paint.dim('BACKENDS: the state clusterctl holds each server in on the edges (the pass keeps HAProxy there in step; without --no-live, each edge\'s HAProxy is read beside it: docs/endpoints.md).', color))
    return lines.join('\n')
  }

  lines.push(...renderLive(endpoints, live.stray, color))
  return lines.join('\n')
}

function renderLive(endpoints: readonly Endpoint[], stray: LiveEndpoints['stray'], color: boolean): string[] {
  const edgeNames = [...new Set(endpoints.flatMap((e) => e.edges.map((x) => x.node)))]
  const rows: string[][] = []
  for (const e of endpoints) {
    for (const b of e.backends) {
      const on = new Map((b.onEdges ?? []).map((x) => [x.node, x]))
      const cells = edgeNames.map((n) => {
        const x = on.get(n)
        if (!x) return '-'
        return `${stateText(x.actual, color)}${x.connections ? ` (${x.connections})` : ''}${x.address ? ` at ${x.address}` : ''}`
      })
      const mismatch = (b.onEdges ?? []).some((x) => x.mismatch)
      rows.push([e.job.name, String(b.instance), b.taskId.slice(0, 8), hostPortText(b.host, b.port), EXPECTED[b.state], ...cells, mismatch ? paint.error('MISMATCH', color) : ''])
    }

    for (const s of e.stale ?? []) {
      rows.push([e.job.name, '-', s.server.slice(0, 8), s.address, 'absent', ...edgeNames.map((n) => (n === s.node ? stateText(s.state, color) + (s.connections ? ` (${s.connections})` : '') : '')), paint.error('STALE', color)])
    }
  }

  const lines: string[] = []
  if (rows.length > 0) lines.push('', renderTable(['SERVICE', 'INST', 'TASK', 'BACKEND', 'EXPECTED', ...edgeNames.map((n) => n.toUpperCase()), ''], rows))
  for (const x of uniqueEdges(endpoints)) if (x.reading?.error) lines.push(`${x.node}: ${x.reading.error}`)
  for (const s of stray) lines.push(`${s.node}: HAProxy has backend ${s.backend} (${s.servers} server${s.servers === 1 ? '' : 's'}) of no service: the next pass reloads it without it.`)
  const anyMismatch = endpoints.some((e) => mismatchOf(e) === true)
  lines.push('', paint.dim(`Edge columns: each edge's HAProxy now (runtime API; connections in brackets): up, drain, maint, down (its own check fails), absent, unknown (not read). EXPECTED: what clusterctl holds the server in.`, color))
  if (anyMismatch || stray.length > 0) lines.push(paint.warn('MISMATCH/STALE: HAProxy differs from what clusterctl wants; the next pass (the daemon\'s, or `clusterctl schedule`) repairs it. A server `down` where `up` is expected fails HAProxy\'s own check: HAProxy sends it nothing until it passes.', color))
  return lines
}

function uniqueEdges(endpoints: readonly Endpoint[]): Endpoint['edges'] {
  const seen = new Map<string, Endpoint['edges'][number]>()
  for (const e of endpoints) for (const x of e.edges) if (!seen.has(x.node)) seen.set(x.node, x)
  return [...seen.values()]
}
