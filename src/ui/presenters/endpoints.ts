/** `clusterctl endpoints` as JSON (the `--json` contract, docs/json.md) and as text. */
import {hostPortText} from '../../core/model/node.js'
import type {Endpoint} from '../../core/services/endpoints.js'
import {paint} from '../style.js'
import {renderTable} from '../table.js'

export interface EndpointJson {
  job: string
  servicePort: number
  /** The container port it fronts (0: the port the app binds from $PORTn). */
  containerPort: number
  /** `EDGE_ADDRESS:SERVICE_PORT` on every edge node. */
  addresses: string[]
  edges: Array<{node: string; address: string; nodeState: string}>
  /** Servers in rotation. */
  ready: number
  backends: Array<{taskId: string; instance: number; node: string; address: string; state: string}>
}

export function endpointToJson(e: Endpoint): EndpointJson {
  return {
    job: e.job.name,
    servicePort: e.servicePort,
    containerPort: e.containerPort,
    addresses: e.edges.map((x) => x.address),
    edges: e.edges.map((x) => ({...x})),
    ready: e.backends.filter((b) => b.state === 'ready').length,
    backends: e.backends.map((b) => ({taskId: b.taskId, instance: b.instance, node: b.node, address: hostPortText(b.host, b.port), state: b.state})),
  }
}

const stateText = (state: string, color: boolean): string => (state === 'ready' ? paint.ok(state, color) : state === 'drain' ? paint.warn(state, color) : paint.error(state, color))

export function renderEndpoints(endpoints: readonly Endpoint[], color: boolean): string {
  if (endpoints.length === 0) return 'No services: a service with a TCP port gets a service port (`clusterctl run NAME --image IMG -p 8080`).'
  const rows: string[][] = []
  for (const e of endpoints) {
    const ready = e.backends.filter((b) => b.state === 'ready').length
    const addresses = e.edges.length === 0 ? `:${e.servicePort} (no edge node)` : e.edges.map((x) => `${x.address}${x.nodeState === 'ready' || x.nodeState === 'cordoned' || x.nodeState === 'draining' ? '' : ` (${x.nodeState})`}`).join(' ')
    const backends = e.backends.map((b) => `${hostPortText(b.host, b.port)} ${stateText(b.state, color)}`).join(' ') || '-'
    rows.push([e.job.name, `${e.servicePort}->${e.containerPort === 0 ? '$PORT' : e.containerPort}`, addresses, `${ready}/${e.backends.length}`, backends])
  }

  const lines = [renderTable(['SERVICE', 'PORT', 'ADDRESSES', 'READY', 'BACKENDS'], rows)]
  if (endpoints.some((e) => e.edges.length === 0)) lines.push('', 'No edge node: mark one with `clusterctl node edge NAME`.')
  lines.push('', paint.dim('BACKENDS: the state clusterctl holds each server in on the edges (the pass keeps HAProxy there in step; docs/endpoints.md).', color))
  return lines.join('\n')
}
