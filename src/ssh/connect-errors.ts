/** What a failed connect means: host key refusals, connect and forward errors, each an UnreachableError with its code and the fix. */
import {UnreachableError} from '../core/errors.js'
import type {HostKeyInfo} from '../core/transport.js'
import {authError, type AuthPlan} from './auth.js'
import type {SshEndpoint} from './endpoint.js'
import {checkKnownHostEntries, knownHostName, type KnownHostEntry} from './known-hosts.js'

export function checkHostKey(
  endpoint: SshEndpoint,
  target: string,
  blob: Buffer,
  seen: HostKeyInfo,
  expected: string | undefined,
  entries: readonly KnownHostEntry[],
): UnreachableError | undefined {
  const label = endpoint.name ? `${endpoint.name} (${target})` : target
  if (expected !== undefined && seen.fingerprint !== expected) {
    if (endpoint.hostKey?.expectedFrom === 'flag') {
      return new UnreachableError(
        target,
        `The host key of ${label} is ${seen.fingerprint} (${seen.algorithm}), not ${expected} as given with --host-key: check the fingerprint with \`ssh-keygen -lf /etc/ssh/ssh_host_${shortType(seen.algorithm)}_key.pub\` on the host.`,
        {code: 'host-key-mismatch', hint: `ssh-keygen -lf /etc/ssh/ssh_host_${shortType(seen.algorithm)}_key.pub`},
      )
    }
    const fix = endpoint.name ? `run \`clusterctl node rm ${endpoint.name}\` and add it again` : 'remove the node and add it again'
    return new UnreachableError(
      target,
      `The host key of ${label} has changed: expected ${expected}, got ${seen.fingerprint} (${seen.algorithm}); if the host was reinstalled, ${fix}, otherwise someone may be intercepting the connection.`,
      {code: 'host-key-changed', ...(endpoint.name ? {hint: `clusterctl node rm ${endpoint.name}`} : {})},
    )
  }
  const port = endpoint.port ?? 22
  const known = checkKnownHostEntries(entries, endpoint.host, port, {algorithm: seen.algorithm, blob})
  const where = known.source ? `${known.source.file} line ${known.source.line}` : 'known_hosts'
  if (known.status === 'revoked') {
    return new UnreachableError(target, `The host key ${seen.fingerprint} of ${label} is marked @revoked in ${where}: the host needs a new host key before clusterctl will connect.`, {code: 'host-key-revoked'})
  }
  if (known.status === 'mismatch') {
    const name = knownHostName(endpoint.host, port)
    const removal = `ssh-keygen -R ${name.startsWith('[') ? `'${name}'` : name}`
    return new UnreachableError(
      target,
      `The host key of ${label} does not match ${where}: expected ${known.knownFingerprints.join(' or ')}, got ${seen.fingerprint} (${seen.algorithm}); if the host was reinstalled, run \`${removal}\`, otherwise someone may be intercepting the connection.`,
      {code: 'host-key-changed', hint: removal},
    )
  }
  return undefined
}

export function mapConnectError(
  error: Error & {level?: string; code?: unknown},
  target: string,
  ctx: {auth: AuthPlan; agentUsed: boolean; user: string; via: string | undefined},
): UnreachableError {
  const code = typeof error.code === 'string' ? error.code : undefined
  const via = ctx.via ? ` (through ${ctx.via})` : ''
  switch (code) {
    case 'ECONNREFUSED':
      return new UnreachableError(target, `Connection to ${target} was refused: is sshd running there, on that port?`, {code: 'refused', cause: error})
    case 'ETIMEDOUT':
      return new UnreachableError(target, `${target} did not answer: check the address and the network.`, {code: 'timeout', cause: error})
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return new UnreachableError(target, `${target} is unreachable from here (${code}): check the address, the routes and the firewall.`, {code: 'unreachable', cause: error})
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return new UnreachableError(target, `The name in ${target} does not resolve (${code}): check the spelling, /etc/hosts or DNS.`, {code: 'dns', cause: error})
    case 'ECONNRESET':
    case 'EPIPE':
      return new UnreachableError(target, `${target} reset the connection during the SSH handshake: check that sshd (not another service) listens there and allows our address.`, {code: 'closed', cause: error})
  }
  if (error.level === 'client-timeout') {
    return new UnreachableError(target, `${target}${via} did not complete the SSH handshake in time: check the address and the network.`, {code: 'timeout', cause: error})
  }
  if (error.level === 'client-authentication' || /authentication/i.test(error.message)) {
    return authError(target, ctx)
  }
  if (/Connection lost before handshake/i.test(error.message)) {
    return new UnreachableError(target, `${target} closed the connection before the SSH handshake: check that sshd (not another service) listens there and allows our address.`, {code: 'closed', cause: error})
  }
  return new UnreachableError(target, `The SSH handshake with ${target}${via} failed (${error.message}): check that the host runs a current OpenSSH server.`, {code: 'unreachable', cause: error})
}

export function mapForwardError(error: Error & {reason?: unknown}, target: string, jump: string): UnreachableError {
  const text = error.message
  if (/refused/i.test(text)) return new UnreachableError(target, `Connection to ${target} (through ${jump}) was refused: is sshd running there, on that port?`, {code: 'refused', cause: error})
  if (/timed out/i.test(text)) return new UnreachableError(target, `${target} did not answer the jump host ${jump}: check the address and the network.`, {code: 'timeout', cause: error})
  if (/resolve|not known|name/i.test(text)) return new UnreachableError(target, `The jump host ${jump} cannot resolve the name in ${target}: check the spelling or its DNS.`, {code: 'dns', cause: error})
  if (/prohibited/i.test(text)) return new UnreachableError(target, `The jump host ${jump} does not allow forwarding to ${target} (${text}): enable AllowTcpForwarding in its sshd_config.`, {code: 'refused', cause: error})
  return new UnreachableError(target, `The jump host ${jump} could not reach ${target} (${text}): check the address, the routes and the firewall.`, {code: 'unreachable', cause: error})
}

function shortType(algorithm: string): string {
  if (algorithm === 'ssh-ed25519') return 'ed25519'
  if (algorithm.startsWith('ecdsa')) return 'ecdsa'
  if (algorithm === 'ssh-rsa') return 'rsa'
  return '*'
}
