/**
 * Job networks (docs/networks.md): `network: NAME` puts a job's containers on a podman
 * network of that name, created on each node on demand with DNS on, so that the
 * containers of one node resolve one another by name. Plain data and pure helpers only.
 */

/** A network name: what podman accepts, and what a DNS label and a CNI config name allow. */
export const NETWORK_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/** podman's and the runtimes' own network modes: never a job network's name. */
const RESERVED = new Set(['podman', 'host', 'none', 'bridge', 'default', 'private', 'slirp4netns', 'pasta', 'container', 'ns', 'cni-podman0'])

/** Why `name` is not a network name, or null. */
export function networkNameProblem(name: string): string | null {
  if (!NETWORK_NAME.test(name)) return `${JSON.stringify(name)} is not a network name: use lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit`
  if (RESERVED.has(name)) return `${JSON.stringify(name)} is a network mode of podman, not a network of its own: choose another name (e.g. ${name}-net)`
  return null
}

/** Why a job on a network cannot run under containerd: the one sentence the spec check and the scheduler share. */
export const CONTAINERD_NETWORK_REASON = 'a job on a network needs podman: containerd runs containers with host networking and joins no network'

/**
 * The names a task's container answers to on its network, besides its container name:
 * `<job>-<instance>` (one instance, stable across restarts and moves) and `<job>` (every
 * instance of the job on that node, round robin).
 */
export function networkAliases(jobName: string, instance: number): string[] {
  return [`${jobName}-${instance}`, jobName]
}

/**
 * Networks of this cluster found on a node that nothing there needs any more: neither a
 * container on the node (in any state: podman refuses to remove a network in use) nor a
 * live task placed there, whose start may be about to create it.
 */
export function unusedNetworks(found: readonly string[], inUse: Iterable<string | undefined>): string[] {
  const used = new Set<string>()
  for (const n of inUse) if (n) used.add(n)
  return [...new Set(found)].filter((n) => !used.has(n)).sort()
}
