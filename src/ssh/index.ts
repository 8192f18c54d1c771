/**
 * src/ssh: how clusterctl reaches nodes. Import from here.
 *
 *   const pool = new SshPool()                       // one per process, passed down
 *   const connect = createConnector(pool)            // spec -> Transport
 *   const node = connect({nodeName: 'web-3', host: '10.0.0.5', user: 'root', ...})
 *   const {stdout, code} = await node.exec(['podman', 'ps', '--format', 'json'])
 *   ...
 *   await pool.closeAll()                            // before the process ends
 */
import {LocalTransport} from './local-transport.js'
import type {SshPool, SshEndpoint} from './pool.js'
import {resolveSshTarget, type ResolvedTarget, type ResolveOptions} from './ssh-config.js'
import {SshTransport} from './ssh-transport.js'
import type {ConnectSpec} from '../core/context.js'
import type {Transport} from '../core/transport.js'

export type {ExecOptions, ExecResult, HostKeyInfo, Transport} from '../core/transport.js'
export {toShellCommand, quoteWord} from './quote.js'
export {fingerprintOf, algorithmOf, hostKeyInfo, normalizeFingerprint} from './host-key.js'
export {
  checkKnownHosts,
  checkKnownHostEntries,
  defaultKnownHostsFiles,
  knownHostAlgorithms,
  knownHostName,
  parseKnownHosts,
  readKnownHosts,
  type KnownHostEntry,
  type KnownHostsCheck,
  type KnownHostsStatus,
} from './known-hosts.js'
export {resolveSshTarget, parseJumpHop, DEFAULT_IDENTITY_FILES, type ResolvedTarget, type ResolveOptions, type SshTargetInput} from './ssh-config.js'
export {SshPool, endpointKey, preferredHostKeyAlgorithms, type HostKeyPolicy, type PoolExecOptions, type PoolStats, type SshEndpoint, type SshPoolOptions} from './pool.js'
export {SshTransport, type SshTransportOptions} from './ssh-transport.js'
export {LocalTransport, type LocalTransportOptions} from './local-transport.js'

/** How to reach one node: core's ConnectSpec, with everything but `host` optional (tests and tools give less). */
export type ConnectSpecLike = Pick<ConnectSpec, 'host'> & Partial<Omit<ConnectSpec, 'host'>>

/** Turn a resolved ~/.ssh/config target into a pool endpoint (jump hops included). */
export function endpointOf(target: ResolvedTarget, extra: Pick<SshEndpoint, 'name' | 'hostKey'> = {}): SshEndpoint {
  return {
    host: target.hostname,
    port: target.port,
    user: target.user,
    identityFiles: target.identityFiles,
    ...(target.keyPath === undefined ? {} : {keyPath: target.keyPath}),
    ...(target.proxyJump.length > 0 ? {proxyJump: target.proxyJump.map((hop) => endpointOf(hop))} : {}),
    ...extra,
  }
}

/**
 * The Transport for one node: LocalTransport for `local`, otherwise an SshTransport over
 * the pool, with host/user/port/keys/ProxyJump resolved through ~/.ssh/config (explicit
 * values win). Throws UserError for an unusable config or a missing --key file.
 */
export function createTransport(spec: ConnectSpecLike, pool: SshPool, options: ResolveOptions = {}): Transport {
  if (spec.host === 'local') return new LocalTransport({sudo: spec.sudo === true})
  const target = resolveSshTarget(
    {
      host: spec.host,
      ...(spec.user == null ? {} : {user: spec.user}),
      ...(spec.port == null ? {} : {port: spec.port}),
      ...(spec.keyPath == null ? {} : {keyPath: spec.keyPath}),
    },
    options,
  )
  const endpoint = endpointOf(target, {
    ...(spec.nodeName === undefined ? {} : {name: spec.nodeName}),
    ...(spec.expectedHostKey == null ? {} : {hostKey: {expectedFingerprint: spec.expectedHostKey, expectedFrom: spec.hostKeyFromUser ? ('flag' as const) : ('pinned' as const)}}),
  })
  return new SshTransport(pool, endpoint, {sudo: spec.sudo === true})
}

/** `createTransport` bound to one pool: the Connector services receive. */
export function createConnector(pool: SshPool, options: ResolveOptions = {}): (spec: ConnectSpecLike) => Transport {
  return (spec) => createTransport(spec, pool, options)
}
