/**
 * Injected service addresses (spec `uses`, docs/endpoints.md): a job's containers get,
 * for each service it uses, that service's stable address - an edge node and the service
 * port - never an instance's node and host port, which change with every move, crash and
 * rollout. Pure.
 *
 *   NAME_SERVICE_HOST   the first edge node by name that answers (else the first edge)
 *   NAME_SERVICE_PORT   the service port
 *   NAME_SERVICE_HOSTS  every edge node, comma-separated, by name (for clients that fail over)
 *
 * NAME is the job name in capitals with `-` as `_` (`product-db` -> PRODUCT_DB), with a
 * leading `_` when it starts with a digit (one name per job: job names are [a-z0-9-]). The values are read when a container starts:
 * an edge added or a service port moved later reaches a container at its next start
 * (`clusterctl restart JOB`).
 */
import type {JobSpec} from '../model/job.js'
import {hostPortText, type Node, publicHostOf} from '../model/node.js'
import type {Job} from '../model/task.js'
import {frontedPort} from './service-ports.js'

/** The prefix of a used service's variables. */
export function serviceEnvName(job: string): string {
  const name = job.toUpperCase().replaceAll(/[^A-Z0-9]/g, '_')
  return /^[0-9]/.test(name) ? `_${name}` : name
}

const ANSWERING: ReadonlySet<Node['state']> = new Set(['ready', 'cordoned', 'draining'])

type EdgeNode = Pick<Node, 'name' | 'edge' | 'state' | 'resolvedAddress'>

const edgesByName = <T extends EdgeNode>(nodes: readonly T[]): T[] => nodes.filter((n) => n.edge).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

/** The edge a service is addressed at first: the first edge node by name that answers, else the first edge (undefined: none). */
export function firstEdge<T extends EdgeNode>(nodes: readonly T[]): T | undefined {
  const edges = edgesByName(nodes)
  return edges.find((n) => ANSWERING.has(n.state)) ?? edges[0]
}

/** A service's stable address: `EDGE:SERVICE_PORT` at its first edge (firstEdge; null: no edge node), and at every edge by name. */
export interface ServiceAddress {
  servicePort: number
  address: string | null
  addresses: string[]
}

/** Every service's address, by job name (jobs without a service port have none). */
export function serviceAddresses(jobs: readonly Pick<Job, 'name' | 'servicePort'>[], nodes: readonly EdgeNode[]): Map<string, ServiceAddress> {
  const first = firstEdge(nodes)
  const edges = edgesByName(nodes)
  const out = new Map<string, ServiceAddress>()
  for (const j of jobs) {
    if (j.servicePort == null) continue
    const port = j.servicePort
    out.set(j.name, {servicePort: port, address: first ? hostPortText(publicHostOf(first), port) : null, addresses: edges.map((n) => hostPortText(publicHostOf(n), port))})
  }

  return out
}

/** The variables for the services a job uses; a service gone since (rm --force) gets none. */
export function serviceAddressEnv(uses: readonly string[] | undefined, jobsByName: ReadonlyMap<string, Pick<Job, 'servicePort'>>, nodes: readonly EdgeNode[]): Record<string, string> {
  const env: Record<string, string> = {}
  if (!uses?.length) return env
  const edges = edgesByName(nodes)
  const first = firstEdge(nodes)
  for (const name of uses) {
    const port = jobsByName.get(name)?.servicePort
    if (port == null) continue
    const prefix = serviceEnvName(name)
    env[`${prefix}_SERVICE_PORT`] = String(port)
    if (first) {
      env[`${prefix}_SERVICE_HOST`] = publicHostOf(first)
      env[`${prefix}_SERVICE_HOSTS`] = edges.map((n) => publicHostOf(n)).join(',')
    }
  }

  return env
}

/**
 * Why a job may not use these services (null: it may): each must be a service with a
 * stable address, stored (`servicePort`) or submitted with it (`incoming`, which wins).
 */
export function usesProblem(spec: Pick<JobSpec, 'name' | 'uses'>, stored: ReadonlyMap<string, Pick<Job, 'servicePort'>>, incoming: ReadonlyMap<string, Pick<JobSpec, 'kind' | 'ports'>>): string | null {
  for (const name of spec.uses ?? []) {
    const submitted = incoming.get(name)
    if (submitted) {
      if (frontedPort(submitted) === null) return `${spec.name} uses ${name}, which has no service address: only a service with a TCP port has one`
      continue
    }

    const job = stored.get(name)
    if (!job) return `${spec.name} uses ${name}, which does not exist`
    if (job.servicePort == null) return `${spec.name} uses ${name}, which has no service address: only a service with a TCP port has one`
  }

  return null
}
