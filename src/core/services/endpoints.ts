/**
 * `clusterctl endpoints`: where each service is reached (docs/endpoints.md), computed
 * from the state file: its service port on every edge node, and the servers behind it
 * with the state the edges should hold them in (edgeServices, readiness-gated); and,
 * live, what each edge's HAProxy says of them (its runtime API, read-only, edges in
 * parallel, bounded by a short timeout) beside that.
 */
import {forEachLimited} from '../async.js'
import {connectSpecOf, type ServiceContext} from '../context.js'
import {NotFoundError} from '../errors.js'
import type {ServerState} from '../edge/haproxy.js'
import {compareService, type EdgeObservation, type ObservedServer, observedServers, type ServerOnEdge, type StaleServer, strayBackends} from '../edge/observed.js'
import {edgeCommandsArgv, edgeCommandsInput, edgeRunDir, parseEdgeOutput, readAnswers} from '../edge/runner.js'
import {frontedPort} from '../edge/service-ports.js'
import {edgeServices} from '../edge/services.js'
import {hostPortText, machineOf, type Node, publicHostOf} from '../model/node.js'
import type {Job, Task} from '../model/task.js'
import {findJob, listJobs, listTasks} from '../state/jobs.js'
import {listNodes} from '../state/nodes.js'

export interface EdgeAddress {
  node: string
  /** `EDGE_ADDRESS:SERVICE_PORT`. */
  address: string
  /** The edge node's state: an edge that is down does not answer. */
  nodeState: Node['state']
  /** What reading its HAProxy gave (live only; null: not read, the state-file view). */
  reading: EdgeReadingSummary | null
}

/** Whether an edge's HAProxy was read, and why not. */
export interface EdgeReadingSummary {
  /** Its servers were read. */
  read: boolean
  /** Why not (or what is wrong with it: its proxy is not running). */
  error: string | null
}

export interface Backend {
  taskId: string
  instance: number
  node: string
  /** The node's address and the task's host port. */
  host: string
  port: number
  /** ready: in rotation; drain: taking no new connections (to stop); maint: out (not ready, or its node failed). */
  state: ServerState
  /** What each edge's HAProxy has it in, beside what is expected (live only; null: the state-file view). */
  onEdges: ServerOnEdge[] | null
}

export interface Endpoint {
  job: Job
  servicePort: number
  /** The container port the service port fronts (0: the one the app binds from $PORTn). */
  containerPort: number
  edges: EdgeAddress[]
  backends: Backend[]
  /** Servers an edge has in this service's backend that clusterctl does not want (live only; the next pass removes them). */
  stale: StaleServer[] | null
}

/** Every service's endpoint (or one job's: a job that has no service port is refused, exit 3). */
export function getEndpoints(ctx: Pick<ServiceContext, 'store'>, name?: string): Endpoint[] {
  const {store} = ctx
  return store.read(() => {
    let jobs: Job[]
    if (name === undefined) jobs = listJobs(store)
    else {
      const job = findJob(store, name)
      if (!job) throw new NotFoundError(`No job named ${name}.`, {hint: 'Run `clusterctl jobs` to list the jobs.'})
      if (job.servicePort == null) throw new NotFoundError(`Job ${name} has no service address: only a service with a TCP port has a service port (it is ${job.kind === 'service' ? 'a service without one' : `a ${job.kind} job`}).`, {hint: `Publish a port (\`ports: [8080]\` in its spec, then \`clusterctl apply -f FILE\`), or run \`clusterctl endpoints\` to list the services.`})
      jobs = [job]
    }

    const nodes = listNodes(store)
    const tasks: Task[] = name === undefined ? listTasks(store, {live: true}) : listTasks(store, {jobId: jobs[0]!.id, live: true})
    const tasksById = new Map(tasks.map((t) => [t.id, t]))
    const edges = nodes.filter((n) => n.edge)
    const byName = new Map(jobs.map((j) => [j.name, j]))
    return edgeServices(jobs, tasks, nodes).map((service): Endpoint => {
      const job = byName.get(service.name)!
      return {
        job,
        servicePort: service.servicePort,
        containerPort: frontedPort(job.spec)!.containerPort,
        edges: edges.map((n) => ({node: n.name, address: hostPortText(publicHostOf(n), service.servicePort), nodeState: n.state, reading: null})),
        backends: service.servers.map((s) => {
          const t = tasksById.get(s.name)!
          return {taskId: s.name, instance: t.instance, node: t.nodeName ?? '-', host: s.address, port: s.port, state: s.state, onEdges: null}
        }).sort((a, b) => a.instance - b.instance || (a.taskId < b.taskId ? -1 : 1)),
        stale: null,
      }
    })
  })
}

/** How long `endpoints` waits for an edge's answer (connecting included): an edge that does not answer is shown so. */
export const EDGE_READ_TIMEOUT_MS = 8000

/** Edge nodes in these states are not asked (they answer no one). */
const NOT_ASKED: ReadonlySet<Node['state']> = new Set(['down', 'unreachable'])

/** One edge's HAProxy as read now. */
export interface EdgeReading extends EdgeReadingSummary {
  node: string
  /** Its servers by backend (null: not read). */
  servers: Map<string, ObservedServer[]> | null
  /** It was asked and did not answer (exit 5). */
  unreachable: boolean
}

/**
 * Every edge node's HAProxy, read through its runtime API with READ_COMMANDS only (no
 * command that changes anything), edges in parallel, each bounded by `timeoutMs`. Edges
 * that are down or unreachable are not asked; names of one machine are read once.
 */
export async function readEdges(ctx: Pick<ServiceContext, 'store' | 'connect'>, options: {timeoutMs?: number; concurrency?: number} = {}): Promise<EdgeReading[]> {
  const edges = ctx.store.read(() => listNodes(ctx.store)).filter((n) => n.edge)
  const byMachine = new Map<string, Promise<Omit<EdgeReading, 'node'>>>()
  const readings: EdgeReading[] = []
  await forEachLimited(edges, options.concurrency ?? 32, async (node) => {
    if (NOT_ASKED.has(node.state)) {
      readings.push({node: node.name, read: false, error: `not asked: the node is ${node.state}`, servers: null, unreachable: false})
      return
    }

    if (node.runtime !== 'podman') {
      readings.push({node: node.name, read: false, error: `not served: edge proxies run under podman, ${node.name} runs ${node.runtime}`, servers: null, unreachable: false})
      return
    }

    const machine = machineOf(node)
    let pending = byMachine.get(machine)
    if (!pending) {
      pending = readEdge(ctx, node, options.timeoutMs ?? EDGE_READ_TIMEOUT_MS)
      byMachine.set(machine, pending)
    }

    readings.push({node: node.name, ...(await pending)})
  })
  return readings.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
}

async function readEdge(ctx: Pick<ServiceContext, 'connect'>, node: Node, timeoutMs: number): Promise<Omit<EdgeReading, 'node'>> {
  try {
    const out = await ctx.connect(connectSpecOf(node)).exec(edgeCommandsArgv(edgeRunDir(node.name)), {stdin: edgeCommandsInput([]), timeoutMs})
    const answers = readAnswers(parseEdgeOutput(out.stdout))
    if (out.code === 0 && answers !== null) return {read: true, error: null, servers: observedServers(answers.serversState, answers.stat), unreachable: false}
    const words = out.stderr.trim().split('\n').slice(-2).join(' ')
    // No proxy running there: it serves nothing, so it has none of the servers (the next pass starts it).
    if (/no such container|not running|state improper/i.test(words)) return {read: true, error: 'its proxy is not running (the next pass starts it)', servers: new Map(), unreachable: false}
    return {read: false, error: `its HAProxy did not answer${words ? `: ${words}` : ''}`, servers: null, unreachable: false}
  } catch (error) {
    return {read: false, error: (error as Error).message, servers: null, unreachable: true}
  }
}

export interface LiveEndpoints {
  endpoints: Endpoint[]
  readings: EdgeReading[]
  /** Backends an edge has of no service (all services listed only): the next pass reloads without them. */
  stray: Array<{node: string; backend: string; servers: number}>
}

/** getEndpoints with every edge's HAProxy read beside it (a job that does not exist is refused before any edge is asked). */
export async function getLiveEndpoints(ctx: Pick<ServiceContext, 'store' | 'connect'>, name?: string, options: {timeoutMs?: number} = {}): Promise<LiveEndpoints> {
  const endpoints = getEndpoints(ctx, name)
  const readings = await readEdges(ctx, options)
  return {endpoints: withReadings(endpoints, readings), readings, stray: name === undefined ? strayBackends(endpoints.map((e) => ({name: e.job.name})), readings) : []}
}

/** Endpoints with what the edges' HAProxy said of each server (pure). */
export function withReadings(endpoints: readonly Endpoint[], readings: readonly EdgeReading[]): Endpoint[] {
  const byNode = new Map(readings.map((r) => [r.node, r]))
  // Every edge of the endpoint, in its order; one missing from the readings (added since) is unknown.
  return endpoints.map((e) => {
    const observations: EdgeObservation[] = e.edges.map((x) => ({node: x.node, servers: byNode.get(x.node)?.servers ?? null}))
    const compared = compareService({name: e.job.name, servers: e.backends.map((b) => ({name: b.taskId, address: b.host, port: b.port, state: b.state}))}, observations)
    return {
      ...e,
      edges: e.edges.map((x) => {
        const r = byNode.get(x.node)
        return {...x, reading: r ? {read: r.read, error: r.error} : {read: false, error: 'not asked'}}
      }),
      backends: e.backends.map((b) => ({...b, onEdges: compared.servers.get(b.taskId) ?? []})),
      stale: compared.stale,
    }
  })
}
