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
import {type Node, publicHostOf} from '../model/node.js'
import type {Job} from '../model/task.js'
import {frontedPort} from './service-ports.js'

/** The prefix of a used service's variables. */
export function serviceEnvName(job: string): string {
  const name = job.toUpperCase().replaceAll(/[^A-Z0-9]/g, '_')
  return /^[0-9]/.test(name) ? `_${name}` : name
}

const ANSWERING: ReadonlySet<Node['state']> = new Set(['ready', 'cordoned', 'draining'])

/** The variables for the services a job uses; a service gone since (rm --force) gets none. */
export function serviceAddressEnv(uses: readonly string[] | undefined, jobsByName: ReadonlyMap<string, Pick<Job, 'servicePort'>>, nodes: readonly Pick<Node, 'name' | 'edge' | 'state' | 'resolvedAddress'>[]): Record<string, string> {
  const env: Record<string, string> = {}
  if (!uses?.length) return env
  const edges = nodes.filter((n) => n.edge).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const first = edges.find((n) => ANSWERING.has(n.state)) ?? edges[0]
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
