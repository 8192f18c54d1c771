/**
 * Resolve what `ssh NAME` would connect to, from ~/.ssh/config, with the `ssh-config`
 * package's compute() (first value wins, Host patterns with `*` `?` `!`, Match host/user).
 *
 * Honoured: Host aliases, HostName (with %h), User, Port, IdentityFile (repeatable, `~`
 * and %d %u %l %L %h %r %p %n %i %% tokens, `none`), ProxyJump (comma-separated chain of
 * `[user@]host[:port]` or `ssh://[user@]host[:port]`, each hop resolved through the config,
 * `none` disables it), Include (expanded in place; `*`/`?` globs in the file name).
 * Deliberately not run: `Match exec` (a config file must not make clusterctl run shell
 * commands) and ProxyCommand (not supported: use ProxyJump).
 *
 * Explicit values (flags) win over the config; defaults are the current user and port 22.
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {homedir, hostname as localHostname, userInfo} from 'node:os'
import {basename, dirname, isAbsolute, join, resolve} from 'node:path'
import SSHConfig from 'ssh-config'
import {UserError} from '../core/errors.js'

export interface SshTargetInput {
  /** A Host alias from the config, a hostname or an IP address. */
  host: string
  user?: string
  port?: number
  /** An explicit key (`--key`): checked, `~`-expanded and returned as keyPath, not merged into identityFiles. */
  keyPath?: string
}

export interface ResolveOptions {
  /** Default: HOMEDIR/.ssh/config. A missing file is the same as an empty one. */
  configPath?: string
  /** Default: os.homedir(). */
  homeDir?: string
  /** Default: os.userInfo().username. */
  localUser?: string
}

export interface ResolvedTarget {
  /** The name as given, e.g. the Host alias. */
  alias: string
  /** What to connect to (HostName, or the alias itself). */
  hostname: string
  port: number
  user: string
  /** Existing identity files in the order to try: the config's IdentityFiles, or else the default keys. */
  identityFiles: string[]
  /** True when identityFiles come from IdentityFile lines (possibly `none`), false when they are the default keys. */
  identitiesFromConfig: boolean
  /** Jump hosts to go through, first hop first (already flattened: each hop's own proxyJump is empty). */
  proxyJump: ResolvedTarget[]
  /** The explicit key from the input, absolute; tried before everything else. */
  keyPath?: string
}

/** The keys OpenSSH tries when no IdentityFile is configured, minus types ssh2 cannot use (dsa, *_sk). */
export const DEFAULT_IDENTITY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'] as const

const MAX_JUMP_DEPTH = 8
const MAX_INCLUDE_DEPTH = 16

export function resolveSshTarget(input: SshTargetInput, opts: ResolveOptions = {}): ResolvedTarget {
  const homeDir = opts.homeDir ?? homedir()
  const configPath = opts.configPath ?? join(homeDir, '.ssh', 'config')
  const localUser = opts.localUser ?? currentUser()
  const config = loadConfig(configPath, homeDir)
  return resolveWith(config, input, {homeDir, localUser, configPath}, [], undefined)
}

interface Context {
  homeDir: string
  localUser: string
  configPath: string
}

function resolveWith(
  config: SSHConfig,
  input: SshTargetInput,
  ctx: Context,
  seen: string[],
  jumpOverride: ResolvedTarget[] | undefined,
): ResolvedTarget {
  if (input.host.trim() === '' || /\s/.test(input.host)) {
    throw new UserError(`"${input.host}" is not a valid host name: pass a hostname, an IP address or a Host alias from ${ctx.configPath}.`)
  }
  if (seen.length > MAX_JUMP_DEPTH || seen.includes(input.host)) {
    throw new UserError(
      `ProxyJump for ${seen[0] ?? input.host} loops or is deeper than ${MAX_JUMP_DEPTH} hops (${[...seen, input.host].join(' -> ')}): fix the ProxyJump lines in ${ctx.configPath}.`,
    )
  }
  const computed = config.compute(
    input.user === undefined ? {Host: input.host} : {Host: input.host, User: input.user},
    {ignoreCase: true, matchExec: false},
  )
  const first = (key: string): string | undefined => {
    const value = computed[key]
    return Array.isArray(value) ? value[0] : value
  }

  const hostname = expandTokens(first('hostname') ?? input.host, {h: input.host, '%': '%'})
  const user = input.user ?? first('user') ?? ctx.localUser
  const port = input.port ?? parsePort(first('port'), input.host, ctx.configPath)

  const configured = (computed['identityfile'] as string[] | undefined) ?? []
  // `IdentityFile none` is the config speaking too: no keys from files at all.
  const identitiesFromConfig = configured.length > 0
  const tokens: Record<string, string> = {
    '%': '%',
    d: ctx.homeDir,
    u: ctx.localUser,
    l: localHostname(),
    L: localHostname().split('.')[0] ?? '',
    h: hostname,
    r: user,
    p: String(port),
    n: input.host,
    i: String(currentUid()),
  }
  const candidates = identitiesFromConfig
    ? configured.filter((file) => file.toLowerCase() !== 'none').map((file) => resolve(expandTilde(expandTokens(file, tokens), ctx.homeDir)))
    : DEFAULT_IDENTITY_FILES.map((name) => join(ctx.homeDir, '.ssh', name))
  const identityFiles = [...new Set(candidates)].filter(isFile)

  let proxyJump: ResolvedTarget[]
  if (jumpOverride !== undefined) {
    proxyJump = jumpOverride
  } else {
    const spec = first('proxyjump')
    proxyJump = spec === undefined || spec.toLowerCase() === 'none' ? [] : resolveJumpChain(config, spec, input.host, ctx, [...seen, input.host])
  }

  const keyPath = input.keyPath === undefined ? undefined : resolveKeyPath(input.keyPath, ctx.homeDir)
  return {alias: input.host, hostname, port, user, identityFiles, identitiesFromConfig, proxyJump, ...(keyPath === undefined ? {} : {keyPath})}
}

function resolveKeyPath(keyPath: string, homeDir: string): string {
  const path = resolve(expandTilde(keyPath, homeDir))
  if (!isFile(path)) throw new UserError(`The key file ${keyPath} does not exist: pass the path of a private key with --key.`, {code: 'key-not-found'})
  return path
}

/**
 * `a,b` means: reach a (through a's own ProxyJump, if any), then b through a, then the
 * target through b; b's own ProxyJump is overridden, as with `ssh -J a,b`.
 */
function resolveJumpChain(config: SSHConfig, spec: string, owner: string, ctx: Context, seen: string[]): ResolvedTarget[] {
  const hops = spec.split(',').map((hop) => hop.trim()).filter((hop) => hop !== '')
  const chain: ResolvedTarget[] = []
  for (const hop of hops) {
    const parsed = parseJumpHop(hop, owner, ctx.configPath)
    if (chain.length === 0) {
      const resolved = resolveWith(config, parsed, ctx, seen, undefined)
      chain.push(...resolved.proxyJump, {...resolved, proxyJump: []})
    } else {
      chain.push(resolveWith(config, parsed, ctx, seen, []))
    }
  }
  return chain
}

/** `[user@]host[:port]`, `[user@][v6addr]:port` or `ssh://[user@]host[:port]`. */
export function parseJumpHop(text: string, owner = text, configPath = '~/.ssh/config'): {host: string; user?: string; port?: number} {
  let rest = text.startsWith('ssh://') ? text.slice('ssh://'.length).replace(/\/$/, '') : text
  let user: string | undefined
  const at = rest.lastIndexOf('@')
  if (at >= 0) {
    user = rest.slice(0, at)
    rest = rest.slice(at + 1)
  }
  let host = rest
  let portText: string | undefined
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest)
  if (bracketed) {
    host = bracketed[1]!
    portText = bracketed[2]
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const colon = rest.indexOf(':')
    host = rest.slice(0, colon)
    portText = rest.slice(colon + 1)
  }
  const port = portText === undefined ? undefined : Number(portText)
  if (host === '' || user === '' || (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))) {
    throw new UserError(`ProxyJump hop "${text}" for ${owner} is not [user@]host[:port]: fix it in ${configPath}.`)
  }
  return {host, ...(user === undefined ? {} : {user}), ...(port === undefined ? {} : {port})}
}

function parsePort(value: string | undefined, host: string, configPath: string): number {
  if (value === undefined) return 22
  const port = Number(value)
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new UserError(`Port "${value}" for ${host} in ${configPath} is not a TCP port: fix the Port line.`)
  }
  return port
}

/** `%x` tokens; an unknown token is left as written (OpenSSH would refuse the line). */
function expandTokens(text: string, tokens: Record<string, string>): string {
  return text.replace(/%(.)/g, (whole, token: string) => tokens[token] ?? whole)
}

function expandTilde(path: string, homeDir: string): string {
  if (path === '~') return homeDir
  if (path.startsWith('~/')) return join(homeDir, path.slice(2))
  return path
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function currentUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env['USER'] ?? process.env['LOGNAME'] ?? 'root'
  }
}

function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1
}

function loadConfig(configPath: string, homeDir: string): SSHConfig {
  if (!existsSync(configPath)) return SSHConfig.parse('')
  return SSHConfig.parse(expandIncludes(configPath, homeDir, 0))
}

/**
 * Inline `Include` lines (the ssh-config package parses them but compute() ignores them).
 * Relative paths are relative to ~/.ssh, as for the user config in OpenSSH.
 */
function expandIncludes(file: string, homeDir: string, depth: number): string {
  if (depth > MAX_INCLUDE_DEPTH) throw new UserError(`Include lines in ${file} nest deeper than ${MAX_INCLUDE_DEPTH} levels: look for an Include loop.`)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if (depth > 0 && (error as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw new UserError(`Cannot read SSH config ${file}: ${(error as Error).message}.`, {cause: error})
  }
  return text
    .split(/\r?\n/)
    .map((line) => {
      const match = /^\s*include(?:\s*=\s*|\s+)(.+?)\s*$/i.exec(line)
      if (!match) return line
      const paths = splitWords(match[1]!)
      return paths
        .flatMap((pattern) => globFiles(expandTilde(pattern, homeDir), join(homeDir, '.ssh')))
        .map((included) => expandIncludes(included, homeDir, depth + 1))
        .join('\n')
    })
    .join('\n')
}

function splitWords(text: string): string[] {
  const words: string[] = []
  const re = /"([^"]*)"|(\S+)/g
  let match: RegExpExecArray | null
  while ((match = re.exec(text)) !== null) words.push(match[1] ?? match[2]!)
  return words
}

/** Files matching a path whose last component may hold `*` / `?`, sorted, as glob(3) returns them. */
function globFiles(pattern: string, baseDir: string): string[] {
  const full = isAbsolute(pattern) ? pattern : join(baseDir, pattern)
  const name = basename(full)
  if (!/[*?]/.test(name)) return [full]
  const dir = dirname(full)
  const re = new RegExp(`^${name.replace(/[\\^$.|+()[\]{}]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names
    .filter((entry) => re.test(entry) && !entry.startsWith('.'))
    .sort()
    .map((entry) => join(dir, entry))
    .filter(isFile)
}
