/** What the pool connects to: an endpoint, its pool key, its target text, the host key algorithms to offer. Pure. */
import {normalizeFingerprint} from './host-key.js'

export interface HostKeyPolicy {
  /** The fingerprint the key must have (`SHA256:...`): pinned in the database, or given with --host-key. */
  expectedFingerprint?: string
  /** Where expectedFingerprint comes from: decides the error code (`host-key-changed` vs `host-key-mismatch`). Default 'pinned'. */
  expectedFrom?: 'pinned' | 'flag'
  /** Key type of the expected key, e.g. `ssh-ed25519`: offered first so the host presents that key. */
  expectedAlgorithm?: string
  /** known_hosts files to honour. Default: the pool's knownHostsFiles. [] ignores known_hosts. */
  knownHostsFiles?: readonly string[]
}

export interface SshEndpoint {
  /** Hostname or IP address to connect to (after ~/.ssh/config resolution). */
  host: string
  /** Default 22. */
  port?: number
  user: string
  /** The node's name, for messages ("run `clusterctl node rm NAME`"). */
  name?: string
  /** Explicit private key (`--key`), tried first. */
  keyPath?: string
  /** Private keys to try after the agent. Default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa (those that exist). */
  identityFiles?: readonly string[]
  /** Jump hosts, first hop first; hop i is reached through hops 0..i-1. */
  proxyJump?: readonly SshEndpoint[]
  hostKey?: HostKeyPolicy
}

/** `user@host:port`, as used in every message. */
export function targetOf(endpoint: SshEndpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
  return `${endpoint.user}@${host}:${endpoint.port ?? 22}`
}

export function endpointKey(endpoint: SshEndpoint): string {
  return JSON.stringify([
    endpoint.user,
    endpoint.host.toLowerCase(),
    endpoint.port ?? 22,
    endpoint.keyPath ?? null,
    endpoint.identityFiles ?? null,
    endpoint.hostKey?.expectedFingerprint ? normalizeFingerprint(endpoint.hostKey.expectedFingerprint) ?? endpoint.hostKey.expectedFingerprint : null,
    endpoint.hostKey?.expectedFingerprint ? (endpoint.hostKey.expectedFrom ?? 'pinned') : null,
    endpoint.hostKey?.knownHostsFiles ?? null,
    (endpoint.proxyJump ?? []).map((hop) => endpointKey({...hop, proxyJump: []})),
  ])
}

/** Host key algorithms to offer first, in ssh2's names, for the given known key types. */
export function preferredHostKeyAlgorithms(keyTypes: readonly string[]): string[] {
  return [...new Set(keyTypes.flatMap((type) => HOST_KEY_ALGORITHMS[type] ?? []))]
}

/** How a known_hosts key type maps to the host key algorithms ssh2 can negotiate for it. */
const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
}

/** `30s`, `1.5s`: a duration in messages. */
export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`
}
