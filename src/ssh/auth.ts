/** Auth planning: which keys and agent to offer, in order, and the error that says what was tried. */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import ssh2 from 'ssh2'
import {UnreachableError, UserError} from '../core/errors.js'
import type {SshEndpoint} from './endpoint.js'
import {DEFAULT_IDENTITY_FILES} from './ssh-config.js'

const {utils} = ssh2

export interface AuthPlan {
  attempts: Array<{kind: 'key'; path: string; key: Buffer} | {kind: 'agent'; socket: string}>
  skipped: Array<{path: string; reason: string}>
  /** Set when the server stopped offering publickey: what it still accepts. */
  serverMethods?: string[]
}

/** Explicit key (`--key`, unreadable: UserError), then the agent, then IdentityFiles (or the default keys); passphrase-protected keys are skipped. */
export function planAuth(endpoint: SshEndpoint, options: {agentSocket: string | undefined; homeDir: string}): AuthPlan {
  const plan: AuthPlan = {attempts: [], skipped: []}
  const seen = new Set<string>()
  const addKey = (path: string, explicit: boolean): void => {
    if (seen.has(path)) return
    seen.add(path)
    let data: Buffer
    try {
      data = readFileSync(path)
    } catch (error) {
      if (explicit) throw new UserError(`Cannot read the key file ${path}: ${(error as Error).message}; pass the path of a private key with --key.`, {code: 'key-not-found', cause: error})
      return
    }
    const parsed = utils.parseKey(data)
    if (parsed instanceof Error) {
      const encrypted = /passphrase|encrypted/i.test(parsed.message)
      plan.skipped.push({path, reason: encrypted ? 'passphrase-protected' : 'unreadable'})
      return
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed
    if (!key || typeof key.isPrivateKey !== 'function' || !key.isPrivateKey()) {
      plan.skipped.push({path, reason: 'not a private key'})
      return
    }
    plan.attempts.push({kind: 'key', path, key: data})
  }
  if (endpoint.keyPath !== undefined) addKey(endpoint.keyPath, true)
  if (options.agentSocket) plan.attempts.push({kind: 'agent', socket: options.agentSocket})
  const files = endpoint.identityFiles ?? DEFAULT_IDENTITY_FILES.map((name) => join(options.homeDir, '.ssh', name))
  for (const file of files) addKey(file, false)
  return plan
}

export function authError(target: string, ctx: {auth: AuthPlan; agentUsed: boolean; user: string}): UnreachableError {
  if (ctx.auth.serverMethods) {
    return new UnreachableError(
      target,
      `${target} does not accept public keys for ${ctx.user} (it offers ${ctx.auth.serverMethods.join(', ') || 'nothing'}): set PubkeyAuthentication yes in its sshd_config and add your key to ~${ctx.user}/.ssh/authorized_keys.`,
      {code: 'auth'},
    )
  }
  const keys = ctx.auth.attempts.flatMap((attempt) => (attempt.kind === 'key' ? [attempt.path] : []))
  const skipped = ctx.auth.skipped.length > 0 ? `; skipped ${ctx.auth.skipped.map((entry) => `${entry.path} (${entry.reason})`).join(', ')}` : ''
  const passphraseHint = ctx.auth.skipped.some((entry) => entry.reason === 'passphrase-protected') ? ', load passphrase-protected keys with `ssh-add`' : ''
  if (keys.length === 0 && !ctx.agentUsed) {
    return new UnreachableError(
      target,
      `No usable SSH key to authenticate to ${target} with${skipped}: pass --key${passphraseHint}, start ssh-agent, or create a key with \`ssh-keygen -t ed25519\` and add it to the host's authorized_keys.`,
      {code: 'auth'},
    )
  }
  const tried = keys.length > 0 ? `with keys ${keys.join(', ')}${ctx.agentUsed ? ' (and the agent)' : ''}` : 'with the agent'
  return new UnreachableError(
    target,
    `Authentication to ${target} failed ${tried}${skipped}: pass --key${passphraseHint}, or add the key to ~${ctx.user}/.ssh/authorized_keys on the host.`,
    {code: 'auth'},
  )
}
