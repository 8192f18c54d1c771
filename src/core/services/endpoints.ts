/**
 * `clusterctl endpoints`: where each service is reached (docs/endpoints.md), computed
 * from the state file: its service port on every edge node, and the servers behind it
 * with the state the edges should hold them in (edgeServices, readiness-gated).
 */
import {NotFoundError} from '../errors.js'
import type {ServerState} from '../edge/haproxy.js'
import {frontedPort} from '../edge/service-ports.js'
import {edgeServices} from '../edge/services.js'
import {hostPortText, type Node, publicHostOf} from '../model/node.js'
import type {Job, Task} from '../model/task.js'
import {findJob, listJobs, listTasks} from '../state/jobs.js'
import {listNodes} from '../state/nodes.js'
import type {ServiceContext} from '../context.js'

export interface EdgeAddress {
  node: string
  /** `EDGE_ADDRESS:SERVICE_PORT`. */
  address: string
  /** The edge node's state: an edge that is down does not answer. */
  nodeState: Node['state']
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
}

export interface Endpoint {
  job: Job
  servicePort: number
  /** The container port the service port fronts (0: the one the app binds from $PORTn). */
  containerPort: number
  edges: EdgeAddress[]
  backends: Backend[]
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
        edges: edges.map((n) => ({node: n.name, address: hostPortText(publicHostOf(n), service.servicePort), nodeState: n.state})),
        backends: service.servers.map((s) => {
          const t = tasksById.get(s.name)!
          return {taskId: s.name, instance: t.instance, node: t.nodeName ?? '-', host: s.address, port: s.port, state: s.state}
        }).sort((a, b) => a.instance - b.instance || (a.taskId < b.taskId ? -1 : 1)),
      }
    })
  })
}
