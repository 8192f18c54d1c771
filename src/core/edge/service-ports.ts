/**
 * Service ports (docs/endpoints.md): the one stable port a service is reached at on
 * every edge node, whatever node and host port its instances land on. Pure: the store
 * says which ports are taken, this picks and checks.
 *
 * A service port fronts the job's first TCP port. It is the spec's `servicePort`, else
 * one assigned from SERVICE_PORT_RANGE (apart from the host-port pool the scheduler
 * hands out, 31000-32000), and it stays the job's until the job is removed or stops
 * being a service with a TCP port: a changed spec, a restart, a rollout, a scale to 0
 * or a stop keep it.
 */
import type {JobSpec, PortSpec} from '../model/job.js'

export interface PortRange {
  from: number
  to: number
}

/** Where service ports are assigned from (both ends inclusive). */
export const SERVICE_PORT_RANGE: Readonly<PortRange> = Object.freeze({from: 10_000, to: 10_999})

/** The container port a service port fronts: the first TCP port of a service, else null (nothing to front). */
export function frontedPort(spec: Pick<JobSpec, 'kind' | 'ports'>): PortSpec | null {
  if (spec.kind !== 'service') return null
  return spec.ports.find((p) => p.protocol === 'tcp') ?? null
}

/**
 * Why `port` cannot be a service port (the spec's `servicePort`), or null. `hostPorts`:
 * the pool host ports are handed out from, which an edge node that also runs tasks uses.
 */
export function servicePortProblem(port: unknown, hostPorts: Readonly<PortRange>): string | null {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return `must be a TCP port 1-65535, got ${typeof port === 'string' ? JSON.stringify(port) : String(port)}`
  if (port >= hostPorts.from && port <= hostPorts.to) return `${port} is in the host-port pool ${hostPorts.from}-${hostPorts.to} that tasks' ports are published from; pick one outside it (or leave it out: one is assigned from ${SERVICE_PORT_RANGE.from}-${SERVICE_PORT_RANGE.to})`
  return null
}

/** What assigning a job's service port decided. */
export type ServicePortChoice =
  | {ok: true; port: number | null}
  /** `taken`: the port asked for belongs to another job (named); `exhausted`: the range is full. */
  | {ok: false; reason: 'taken'; port: number; holder: string}
  | {ok: false; reason: 'exhausted'}

/**
 * The service port a job gets for `spec`: none when it fronts nothing; the spec's when it
 * names one (refused when another job holds it); else the one it has (`current`); else
 * the lowest free port of `range`. `taken`: every other job's service port, by job name.
 */
export function chooseServicePort(spec: Pick<JobSpec, 'kind' | 'ports' | 'servicePort'>, current: number | null, taken: ReadonlyMap<number, string>, range: Readonly<PortRange> = SERVICE_PORT_RANGE): ServicePortChoice {
  if (frontedPort(spec) === null) return {ok: true, port: null}
  if (spec.servicePort !== undefined) {
    const holder = taken.get(spec.servicePort)
    return holder === undefined ? {ok: true, port: spec.servicePort} : {ok: false, reason: 'taken', port: spec.servicePort, holder}
  }

  if (current !== null && !taken.has(current)) return {ok: true, port: current}
  for (let port = range.from; port <= range.to; port++) if (!taken.has(port)) return {ok: true, port}
  return {ok: false, reason: 'exhausted'}
}
