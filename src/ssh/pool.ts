/**
 * SshPool: every SSH connection clusterctl makes goes through one of these (DESIGN principle 8).
 *
 * Create ONE per process and pass it down; call closeAll() when the process is done
 * (open connections keep Node's event loop alive: ssh2's keepalive interval is not unref'd).
 *
 * - Keyed per endpoint: user@host:port + identities + host-key policy + jump chain.
 * - Singleflight: concurrent execs to one endpoint share one in-flight connect.
 * - At most `maxChannelsPerConnection` sessions open per connection (sshd's MaxSessions
 *   defaults to 10); further execs wait in FIFO order.
 * - keepalive on (ssh2 ships with it off); a connect (TCP + handshake + auth) that takes
 *   longer than `connectTimeoutMs` fails with code `timeout`, dropped packets included.
 * - A dropped connection is forgotten; the next exec reconnects. A command whose session
 *   could not even be opened because the connection had just died is retried once on a
 *   new connection (it provably never started); a command that was running is not.
 * - Backoff: after a failed connect, further connects to that endpoint fail at once with
 *   the same error until `min(maxMs, baseMs * 2^(failures-1))`, jittered to 50–100%, has
 *   passed. The failure itself is always reported immediately (a one-shot CLI call never
 *   waits); the backoff only spaces out the attempts of long-running callers.
 * - Idle connections close after `idleTimeoutMs` (unref'd timer).
 * - Host keys: the verifier is always installed (ssh2 accepts any key without one). A key
 *   listed in known_hosts for the host must match; an expected (pinned or --host-key)
 *   fingerprint must match; otherwise the key is accepted (accept-new) and reported by
 *   hostKey(). Verification happens during key exchange, before authentication, so no
 *   command can ever run on a host whose key was refused. known_hosts is never written.
 * - Auth order: explicit key, ssh-agent (SSH_AUTH_SOCK), IdentityFiles (or default keys).
 *   Passphrase-protected keys are skipped (load them into the agent).
 * - ProxyJump: each hop is a pooled connection of its own; the next hop (or the target) is
 *   reached with a direct-tcpip channel (`forwardOut`) passed to ssh2 as `sock`.
 * - Shell sessions (session.ts): up to `sessions.max` long-lived shells per connection run
 *   the execs that have no stdin and collect their output, so the node's login shell
 *   starts once per session instead of once per command. Each holds one channel slot;
 *   an exec that finds no idle session and no free slot for a new one runs as an exec.
 *   A host where a session cannot be opened gets plain execs for `sessions.retryMs`.
 *
 * Never prints, never exits, installs no signal handlers. `debug` receives ssh2's trace.
 *
 * The pool itself keeps the connections, slots, backoff and idle timers; beside it:
 * endpoint.ts (endpoint, key, target), auth.ts (auth planning), connect-errors.ts (host
 * key checks and connect/forward errors), exec-channel.ts (one command on a connection).
 */
import {homedir} from 'node:os'
import type {Readable} from 'node:stream'
import ssh2 from 'ssh2'
import type {AuthenticationType, ClientChannel, ConnectConfig} from 'ssh2'
import {BugError, UnreachableError, UserError} from '../core/errors.js'
import type {ExecOptions, ExecResult, HostKeyInfo} from '../core/transport.js'
import {abortReason} from './abort.js'
import {planAuth} from './auth.js'
import {checkHostKey, mapConnectError, mapForwardError} from './connect-errors.js'
import {endpointKey, preferredHostKeyAlgorithms, seconds, type SshEndpoint, targetOf} from './endpoint.js'
import {type ChannelOwner, type Connection, ConnectionGoneError, runExecChannel, summarize} from './exec-channel.js'
import {hostKeyInfo, normalizeFingerprint} from './host-key.js'
import {defaultKnownHostsFiles, knownHostAlgorithms, readKnownHosts, type KnownHostEntry} from './known-hosts.js'
import {toShellCommand} from './quote.js'
import {sessionEligible, SessionSet, type SessionChannel} from './session.js'
import {sudoShellCommand} from './sudo.js'

export {endpointKey, preferredHostKeyAlgorithms, type HostKeyPolicy, type SshEndpoint} from './endpoint.js'

const {Client} = ssh2

export interface SshPoolOptions {
  /** TCP connect + SSH handshake + authentication, per hop. Default 10 000. */
  connectTimeoutMs?: number
  /** SSH-level keepalive. Default 5 000 (0 disables). */
  keepaliveIntervalMs?: number
  /** Unanswered keepalives before the connection is declared dead. Default 3. */
  keepaliveCountMax?: number
  /** Concurrent sessions per connection; more execs queue. Default 8 (sshd MaxSessions defaults to 10). */
  maxChannelsPerConnection?: number
  /** Close a connection after this long without sessions. Default 60 000. */
  idleTimeoutMs?: number
  /**
   * Long-lived shell sessions per connection (session.ts); false: one exec per command.
   * Defaults: max min(4, half the channel cap), openTimeoutMs 30 000, retryMs 600 000
   * (how long a host whose session failed to open gets plain execs).
   */
  sessions?: boolean | {max?: number; openTimeoutMs?: number; retryMs?: number}
  /** Connect backoff after failures. Defaults: baseMs 1 000, maxMs 60 000. */
  backoff?: {baseMs?: number; maxMs?: number}
  /** ssh-agent socket. Default process.env.SSH_AUTH_SOCK; null disables the agent. */
  agentSocket?: string | null
  /** For default keys and known_hosts. Default os.homedir(). */
  homeDir?: string
  /** Default: ~/.ssh/known_hosts(2), /etc/ssh/ssh_known_hosts(2). */
  knownHostsFiles?: readonly string[]
  /** Injectable clock and randomness (tests). */
  now?: () => number
  random?: () => number
  /** ssh2's debug trace, for --debug. */
  debug?: (message: string) => void
}

export interface PoolExecOptions extends ExecOptions {
  /** Run through `sudo -n --`. */
  sudo?: boolean
}

export interface PoolStats {
  /** Endpoints with an open connection. */
  connections: number
  /** Sessions open right now, over all endpoints. */
  activeChannels: number
  /** Execs waiting for a session slot. */
  queued: number
  /** Connection attempts started since the pool was created (jump hops included). */
  connectAttempts: number
  /** Shell sessions open now, and opened since the pool was created (each paid one shell start-up). */
  sessions: number
  sessionsOpened: number
  /** Execs that ran through a session since the pool was created. */
  sessionCommands: number
}

interface Waiter {
  resolve: () => void
  reject: (error: unknown) => void
  signal: AbortSignal | undefined
  onAbort: () => void
}

interface InFlight {
  promise: Promise<Connection>
  controller: AbortController
  waiters: number
}

interface EndpointState {
  key: string
  endpoint: SshEndpoint
  target: string
  conn: Connection | undefined
  connecting: InFlight | undefined
  failures: number
  retryAt: number
  lastError: Error | undefined
  active: number
  queue: Waiter[]
  /** Forwarded channels (jump hops) riding on this connection. */
  forwards: number
  idleTimer: NodeJS.Timeout | undefined
  hostKey: HostKeyInfo | undefined
  /** Slots held by shell sessions (counted in `active`), and how many of them run a command. */
  sessionSlots: number
  sessionsBusy: number
  /** No new session before this time (one failed to open). */
  sessionsOffUntil: number
}

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  maxChannelsPerConnection: 8,
  idleTimeoutMs: 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
}

export class SshPool {
  readonly options: Readonly<{
    connectTimeoutMs: number
    keepaliveIntervalMs: number
    keepaliveCountMax: number
    maxChannelsPerConnection: number
    idleTimeoutMs: number
    backoffBaseMs: number
    backoffMaxMs: number
    agentSocket: string | undefined
    homeDir: string
    knownHostsFiles: readonly string[]
    sessionsMax: number
    sessionOpenTimeoutMs: number
    sessionRetryMs: number
  }>

  private readonly states = new Map<string, EndpointState>()
  private readonly now: () => number
  private readonly random: () => number
  private readonly debug: ((message: string) => void) | undefined
  private connectAttempts = 0
  private sessionsOpened = 0
  private sessionCommands = 0
  /** Shell sessions per connection; they end with it. */
  private readonly sessionSets = new WeakMap<Connection, SessionSet>()

  constructor(options: SshPoolOptions = {}) {
    const homeDir = options.homeDir ?? homedir()
    const agentSocket = options.agentSocket === null ? undefined : (options.agentSocket ?? process.env['SSH_AUTH_SOCK'] ?? undefined)
    this.options = {
      connectTimeoutMs: positive(options.connectTimeoutMs, DEFAULTS.connectTimeoutMs, 'connectTimeoutMs'),
      keepaliveIntervalMs: nonNegative(options.keepaliveIntervalMs, DEFAULTS.keepaliveIntervalMs, 'keepaliveIntervalMs'),
      keepaliveCountMax: positive(options.keepaliveCountMax, DEFAULTS.keepaliveCountMax, 'keepaliveCountMax'),
      maxChannelsPerConnection: positive(options.maxChannelsPerConnection, DEFAULTS.maxChannelsPerConnection, 'maxChannelsPerConnection'),
      idleTimeoutMs: positive(options.idleTimeoutMs, DEFAULTS.idleTimeoutMs, 'idleTimeoutMs'),
      backoffBaseMs: nonNegative(options.backoff?.baseMs, DEFAULTS.backoffBaseMs, 'backoff.baseMs'),
      backoffMaxMs: nonNegative(options.backoff?.maxMs, DEFAULTS.backoffMaxMs, 'backoff.maxMs'),
      agentSocket: agentSocket === '' ? undefined : agentSocket,
      homeDir,
      knownHostsFiles: options.knownHostsFiles ?? defaultKnownHostsFiles(homeDir),
      ...sessionOptions(options),
    }
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.debug = options.debug
  }

  /** `user@host:port`, as used in every message. */
  static targetOf(endpoint: SshEndpoint): string {
    return targetOf(endpoint)
  }

  /**
   * Run argv on the endpoint (quoted by toShellCommand, the only way a command is built).
   * Resolves with the exit status, whatever it is; rejects with UnreachableError when the
   * node cannot be reached, the command times out, or the connection is lost mid-command,
   * with UserError for an argv no shell can carry, and with the signal's reason on abort.
   */
  async exec(endpoint: SshEndpoint, argv: readonly string[], options: PoolExecOptions = {}): Promise<ExecResult> {
    const command = options.sudo ? sudoShellCommand(argv) : toShellCommand(argv)
    const state = this.stateFor(endpoint)
    const stop = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const onCallerAbort = (): void => stop.abort(abortReason(options.signal))
    if (options.signal?.aborted) throw abortReason(options.signal)
    options.signal?.addEventListener('abort', onCallerAbort, {once: true})
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        stop.abort(
          new UnreachableError(
            state.target,
            `\`${summarize(argv)}\` on ${state.target} did not finish within ${seconds(options.timeoutMs!)} and was stopped: raise the timeout or check what the node is doing.`,
            {code: 'timeout'},
          ),
        )
      }, options.timeoutMs)
    }
    const slot = {held: false, handedOff: false}
    try {
      if (this.options.sessionsMax > 0 && sessionEligible(options)) {
        const result = await this.execInSession(state, command, argv, options, stop.signal)
        if (result) return result
      }
      await this.acquireSlot(state, stop.signal)
      slot.held = true
      for (let attempt = 0; ; attempt++) {
        const conn = await this.getConnection(state, stop.signal)
        try {
          return await runExecChannel(this.channelOwner(state), conn, command, argv, options, stop.signal, () => {
            slot.handedOff = true
          })
        } catch (error) {
          if (error instanceof ConnectionGoneError) this.discard(state, conn)
          if (error instanceof ConnectionGoneError && attempt === 0 && !stop.signal.aborted) {
            this.debug?.(`${state.target}: connection was gone before the session opened; reconnecting once`)
            continue
          }
          if (error instanceof ConnectionGoneError) {
            throw new UnreachableError(state.target, `The connection to ${state.target} closed before \`${summarize(argv)}\` could start: check the node and retry.`, {code: 'closed'})
          }
          throw error
        }
      }
    } finally {
      if (timer) clearTimeout(timer)
      options.signal?.removeEventListener('abort', onCallerAbort)
      if (slot.held && !slot.handedOff) this.releaseSlot(state)
    }
  }

  /**
   * Make sure a connection to the endpoint is up (connecting if needed) and return the
   * host key it presented. Useful to probe a node before registering it.
   */
  async connect(endpoint: SshEndpoint, options: {signal?: AbortSignal} = {}): Promise<HostKeyInfo> {
    const state = this.stateFor(endpoint)
    const conn = await this.getConnection(state, options.signal)
    if (this.unused(state)) this.scheduleIdle(state)
    return conn.hostKey
  }

  /** The host key seen on the last successful key exchange with this endpoint. */
  hostKey(endpoint: SshEndpoint): HostKeyInfo | undefined {
    return this.states.get(endpointKey(endpoint))?.hostKey
  }

  /** Forget the backoff for an endpoint (e.g. the user asked to retry now). */
  resetBackoff(endpoint: SshEndpoint): void {
    const state = this.states.get(endpointKey(endpoint))
    if (state) {
      state.failures = 0
      state.retryAt = 0
    }
  }

  /** Close this endpoint's connection (queued execs keep waiting and will reconnect). */
  async close(endpoint: SshEndpoint): Promise<void> {
    const state = this.states.get(endpointKey(endpoint))
    if (state) await this.closeState(state)
  }

  /** Close every connection and abort in-flight connects. Queued execs are rejected. The pool stays usable. */
  async closeAll(): Promise<void> {
    const states = [...this.states.values()]
    for (const state of states) {
      for (const waiter of state.queue.splice(0)) {
        waiter.signal?.removeEventListener('abort', waiter.onAbort)
        waiter.reject(new UnreachableError(state.target, `The SSH pool was closed before a command could run on ${state.target}.`, {code: 'closed'}))
      }
    }
    await Promise.all(states.map((state) => this.closeState(state)))
  }

  stats(): PoolStats {
    let connections = 0
    let activeChannels = 0
    let queued = 0
    let sessions = 0
    for (const state of this.states.values()) {
      if (state.conn && !state.conn.closed) connections++
      activeChannels += state.active
      queued += state.queue.length
      sessions += state.sessionSlots
    }
    return {connections, activeChannels, queued, connectAttempts: this.connectAttempts, sessions, sessionsOpened: this.sessionsOpened, sessionCommands: this.sessionCommands}
  }

  // --- endpoints -----------------------------------------------------------------------

  private stateFor(endpoint: SshEndpoint): EndpointState {
    const key = endpointKey(endpoint)
    let state = this.states.get(key)
    if (!state) {
      state = {
        key,
        endpoint,
        target: SshPool.targetOf(endpoint),
        conn: undefined,
        connecting: undefined,
        failures: 0,
        retryAt: 0,
        lastError: undefined,
        active: 0,
        queue: [],
        forwards: 0,
        idleTimer: undefined,
        hostKey: undefined,
        sessionSlots: 0,
        sessionsBusy: 0,
        sessionsOffUntil: 0,
      }
      this.states.set(key, state)
    } else if (endpoint.name !== undefined && state.endpoint.name === undefined) {
      state.endpoint = endpoint
    }
    return state
  }

  private async closeState(state: EndpointState): Promise<void> {
    this.clearIdle(state)
    state.connecting?.controller.abort(new UnreachableError(state.target, `The connection to ${state.target} was closed by clusterctl while it was being set up.`, {code: 'closed'}))
    const conn = state.conn
    if (conn && !conn.closed) {
      conn.client.end()
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())
      await Promise.race([conn.closedPromise, timeout])
      if (!conn.closed) conn.client.destroy()
    }
  }

  // --- session slots -------------------------------------------------------------------

  private acquireSlot(state: EndpointState, signal: AbortSignal | undefined): Promise<void> {
    this.clearIdle(state)
    if (state.active < this.options.maxChannelsPerConnection && state.queue.length === 0) {
      state.active++
      return Promise.resolve()
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = state.queue.indexOf(waiter)
          if (index >= 0) state.queue.splice(index, 1)
          reject(abortReason(signal))
        },
      }
      if (signal?.aborted) return reject(abortReason(signal))
      signal?.addEventListener('abort', waiter.onAbort, {once: true})
      state.queue.push(waiter)
    })
  }

  private releaseSlot(state: EndpointState): void {
    state.active--
    const next = state.queue.shift()
    if (next) {
      next.signal?.removeEventListener('abort', next.onAbort)
      state.active++
      next.resolve()
      return
    }
    if (this.unused(state)) this.scheduleIdle(state)
  }

  /** Nothing runs on the endpoint's connection: no exec, no session command (idle sessions do not count). */
  private unused(state: EndpointState): boolean {
    return state.active - state.sessionSlots + state.sessionsBusy === 0
  }

  private scheduleIdle(state: EndpointState): void {
    this.clearIdle(state)
    if (!this.unused(state) || state.forwards > 0 || !state.conn || state.conn.closed) return
    const conn = state.conn
    state.idleTimer = setTimeout(() => {
      state.idleTimer = undefined
      if (state.conn === conn && this.unused(state) && state.forwards === 0) {
        this.debug?.(`${state.target}: idle for ${this.options.idleTimeoutMs} ms, closing`)
        // Forget it first, so an exec arriving before the close event opens a new connection.
        state.conn = undefined
        conn.client.end()
      }
    }, this.options.idleTimeoutMs)
    state.idleTimer.unref()
  }

  /** Forget a connection that turned out to be dead, and make sure it is torn down. */
  private discard(state: EndpointState, conn: Connection): void {
    if (state.conn === conn) state.conn = undefined
    conn.closed = true
    conn.client.destroy()
  }

  private clearIdle(state: EndpointState): void {
    if (state.idleTimer) {
      clearTimeout(state.idleTimer)
      state.idleTimer = undefined
    }
  }

  // --- connections ---------------------------------------------------------------------

  private getConnection(state: EndpointState, signal: AbortSignal | undefined): Promise<Connection> {
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    if (state.conn && !state.conn.closed) return Promise.resolve(state.conn)
    if (!state.connecting) {
      if (state.lastError && this.now() < state.retryAt) {
        const last = state.lastError
        this.debug?.(`${state.target}: in connect backoff for ${state.retryAt - this.now()} ms`)
        return Promise.reject(last instanceof UnreachableError ? new UnreachableError(last.host, last.message, {code: last.code, hint: last.hint, cause: last}) : last)
      }
      const controller = new AbortController()
      const inflight: InFlight = {controller, waiters: 0, promise: Promise.resolve(undefined as never)}
      inflight.promise = this.connectNow(state, controller.signal).then(
        (conn) => {
          if (state.connecting === inflight) state.connecting = undefined
          state.failures = 0
          state.retryAt = 0
          state.lastError = undefined
          state.conn = conn
          if (this.unused(state)) this.scheduleIdle(state)
          return conn
        },
        (error: unknown) => {
          if (state.connecting === inflight) state.connecting = undefined
          if (!controller.signal.aborted && !(error instanceof UserError)) {
            state.failures++
            const delay = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** (state.failures - 1))
            state.retryAt = this.now() + Math.round(delay * (0.5 + 0.5 * this.random()))
            state.lastError = error as Error
          }
          throw error
        },
      )
      // Nobody may be waiting when it fails (all waiters aborted): never leave it unhandled.
      inflight.promise.catch(() => {})
      state.connecting = inflight
    }
    return this.join(state.connecting, signal)
  }

  /** Wait for a shared connect; the connect is aborted when every waiter has given up. */
  private join(inflight: InFlight, signal: AbortSignal | undefined): Promise<Connection> {
    inflight.waiters++
    if (!signal) return inflight.promise
    return new Promise<Connection>((resolve, reject) => {
      let left = false
      const leave = (): void => {
        if (left) return
        left = true
        signal.removeEventListener('abort', onAbort)
        inflight.waiters--
      }
      const onAbort = (): void => {
        leave()
        if (inflight.waiters === 0) inflight.controller.abort(abortReason(signal))
        reject(abortReason(signal))
      }
      signal.addEventListener('abort', onAbort, {once: true})
      inflight.promise.then(
        (conn) => {
          leave()
          resolve(conn)
        },
        (error: unknown) => {
          leave()
          reject(error)
        },
      )
    })
  }

  // --- sessions ------------------------------------------------------------------------

  /**
   * Run the command through an idle shell session of the endpoint's connection (opening
   * one when there is room). Undefined when no session can take it: the caller execs.
   */
  private async execInSession(state: EndpointState, command: string, argv: readonly string[], options: PoolExecOptions, stop: AbortSignal): Promise<ExecResult | undefined> {
    if (this.now() < state.sessionsOffUntil) return undefined
    const conn = await this.getConnection(state, stop)
    let sessions = this.sessionSets.get(conn)
    if (!sessions) {
      sessions = this.sessionSetFor(state, conn)
      this.sessionSets.set(conn, sessions)
    }
    // take() hands out an idle session, but another caller whose take() resolved in the same turn
    // may have started a command on it before this continuation ran: only an idle one is used.
    let session = await sessions.take(stop)
    for (let attempt = 0; session && session.state !== 'idle' && attempt < 3; attempt++) session = await sessions.take(stop)
    if (!session || session.state !== 'idle' || conn.closed) return undefined
    this.clearIdle(state)
    state.sessionsBusy++
    try {
      const result = await session.run(command, argv, options, stop)
      this.sessionCommands++
      return result
    } finally {
      state.sessionsBusy--
      if (this.unused(state)) this.scheduleIdle(state)
    }
  }

  private sessionSetFor(state: EndpointState, conn: Connection): SessionSet {
    return new SessionSet({
      target: state.target,
      max: this.options.sessionsMax,
      openTimeoutMs: this.options.sessionOpenTimeoutMs,
      reserve: () => {
        if (conn.closed || state.conn !== conn || state.active >= this.options.maxChannelsPerConnection || state.queue.length > 0) return false
        state.active++
        state.sessionSlots++
        return true
      },
      release: () => {
        state.sessionSlots--
        this.releaseSlot(state)
      },
      openChannel: (line) =>
        new Promise<SessionChannel>((resolve, reject) => {
          try {
            conn.client.exec(line, (error, channel) => {
              if (error) return reject(error)
              this.sessionsOpened++
              channel.on('error', (streamError: Error) => this.debug?.(`${state.target}: session error: ${streamError.message}`))
              resolve(channel)
            })
          } catch (error) {
            reject(error as Error)
          }
        }),
      onUnusable: (why) => {
        this.debug?.(`${state.target}: shell sessions off for ${this.options.sessionRetryMs} ms: ${why}`)
        state.sessionsOffUntil = this.now() + this.options.sessionRetryMs
      },
      ...(this.debug ? {debug: this.debug} : {}),
    })
  }

  private channelOwner(state: EndpointState): ChannelOwner {
    return {target: state.target, maxChannels: this.options.maxChannelsPerConnection, release: () => this.releaseSlot(state), debug: this.debug}
  }

  private async connectNow(state: EndpointState, signal: AbortSignal): Promise<Connection> {
    const endpoint = state.endpoint
    const port = endpoint.port ?? 22
    const auth = planAuth(endpoint, this.options)
    const knownHostsFiles = endpoint.hostKey?.knownHostsFiles ?? this.options.knownHostsFiles
    let entries: KnownHostEntry[]
    try {
      entries = readKnownHosts(knownHostsFiles)
    } catch (error) {
      throw new UserError(`Cannot read the known_hosts files (${knownHostsFiles.join(', ')}): ${(error as Error).message}.`, {cause: error})
    }
    const expectedRaw = endpoint.hostKey?.expectedFingerprint
    const expected = expectedRaw === undefined ? undefined : normalizeFingerprint(expectedRaw)
    if (expectedRaw !== undefined && expected === undefined) {
      throw new UserError(`"${expectedRaw}" is not a SHA256 host key fingerprint: give it as printed by \`ssh-keygen -lf KEY.pub\`, e.g. SHA256:abc…`, {code: 'invalid-host-key'})
    }

    let sock: Readable | undefined
    let jump: {state: EndpointState; release: () => void} | undefined
    const chain = endpoint.proxyJump ?? []
    if (chain.length > 0) {
      const hop = chain[chain.length - 1]!
      const jumpState = this.stateFor({...hop, proxyJump: chain.slice(0, -1)})
      const jumpConn = await this.getConnection(jumpState, signal)
      const opened = await this.forward(jumpState, jumpConn, endpoint.host, port, state.target, signal)
      sock = opened.stream
      jump = {state: jumpState, release: opened.release}
    }

    this.connectAttempts++
    const client = new Client()
    let seenKey: HostKeyInfo | undefined
    let refusal: UnreachableError | undefined
    let tcpConnected = sock !== undefined
    const agentUsed = auth.attempts.some((attempt) => attempt.kind === 'agent')

    const verify = (blob: Buffer): boolean => {
      try {
        seenKey = hostKeyInfo(blob)
      } catch (error) {
        refusal = new UnreachableError(state.target, `${state.target} sent a host key clusterctl cannot read (${(error as Error).message}): check that an SSH server listens there.`, {code: 'unreachable'})
        return false
      }
      refusal = checkHostKey(endpoint, state.target, blob, seenKey, expected, entries)
      if (refusal) {
        this.debug?.(`${state.target}: host key ${seenKey.fingerprint} refused (${refusal.code})`)
        return false
      }
      state.hostKey = seenKey
      return true
    }

    const pending = [...auth.attempts]
    const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (method: unknown) => void): void => {
      if (methodsLeft && !methodsLeft.includes('publickey')) {
        auth.serverMethods = methodsLeft
        return next(false)
      }
      const attempt = pending.shift()
      if (!attempt) return next(false)
      if (attempt.kind === 'agent') return next({type: 'agent', username: endpoint.user, agent: attempt.socket})
      this.debug?.(`${state.target}: trying key ${attempt.path}`)
      return next({type: 'publickey', username: endpoint.user, key: attempt.key})
    }

    const preferred = preferredHostKeyAlgorithms([
      ...(endpoint.hostKey?.expectedAlgorithm ? [endpoint.hostKey.expectedAlgorithm] : []),
      ...knownHostAlgorithms(entries, endpoint.host, port),
    ])
    const config: ConnectConfig = {
      host: endpoint.host,
      port,
      username: endpoint.user,
      readyTimeout: this.options.connectTimeoutMs + 1_000,
      keepaliveInterval: this.options.keepaliveIntervalMs,
      keepaliveCountMax: this.options.keepaliveCountMax,
      hostVerifier: verify,
      authHandler: authHandler as unknown as ConnectConfig['authHandler'],
      ...(preferred.length > 0 ? {algorithms: {serverHostKey: {remove: preferred, prepend: preferred} as never}} : {}),
      ...(sock ? {sock} : {}),
      ...(this.debug ? {debug: (message: string) => this.debug!(`${state.target}: ${message}`)} : {}),
    }

    let closedResolve!: () => void
    const closedPromise = new Promise<void>((resolve) => (closedResolve = resolve))
    const conn: Connection = {client, hostKey: undefined as unknown as HostKeyInfo, closed: false, lostReason: undefined, closedPromise}

    return await new Promise<Connection>((resolve, reject) => {
      let settled = false
      const fail = (error: unknown): void => {
        if (settled) return
        settled = true
        cleanup()
        client.destroy()
        jump?.release()
        reject(error)
      }
      const timer = setTimeout(() => {
        fail(
          new UnreachableError(
            state.target,
            tcpConnected
              ? `${state.target} accepted the connection but did not complete the SSH handshake within ${seconds(this.options.connectTimeoutMs)}: check that sshd (not another service) listens there and is not overloaded.`
              : `${state.target} did not answer within ${seconds(this.options.connectTimeoutMs)}: check the address and the network${chain.length > 0 ? ` (reached through ${chain.map((hop) => SshPool.targetOf(hop)).join(' -> ')})` : ''}.`,
            {code: 'timeout'},
          ),
        )
      }, this.options.connectTimeoutMs)
      const onAbort = (): void => fail(signal.reason)
      const cleanup = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      }
      signal.addEventListener('abort', onAbort, {once: true})

      client.on('connect', () => {
        tcpConnected = true
      })
      client.on('error', (error: Error & {level?: string; code?: unknown}) => {
        if (!settled) {
          // ssh2 reports per-method auth problems as 'error' events and then carries on
          // with the next method: only the final "all methods failed" is fatal.
          if (error.level === 'agent') {
            this.debug?.(`${state.target}: ssh-agent: ${error.message}`)
            return
          }
          if (error.level === 'client-authentication' && !/All configured authentication methods failed/.test(error.message)) {
            this.debug?.(`${state.target}: ${error.message}`)
            return
          }
          if (refusal) return fail(refusal)
          return fail(mapConnectError(error, state.target, {auth, agentUsed, user: endpoint.user, via: chain.length > 0 ? SshPool.targetOf(chain[chain.length - 1]!) : undefined}))
        }
        conn.lostReason ??= error.message
        this.debug?.(`${state.target}: connection error: ${error.message}`)
      })
      client.on('close', () => {
        conn.closed = true
        closedResolve()
        jump?.release()
        if (state.conn === conn) {
          state.conn = undefined
          this.clearIdle(state)
        }
        if (!settled) {
          fail(
            refusal ??
              new UnreachableError(state.target, `${state.target} closed the connection during the SSH handshake: check that sshd (not another service) listens there and allows our address.`, {code: 'closed'}),
          )
        }
      })
      client.on('ready', () => {
        if (settled) return
        if (!seenKey || refusal) {
          // Cannot happen (ssh2 verifies before auth), but never hand out an unverified connection.
          return fail(new BugError(`SSH connection to ${state.target} became ready without a verified host key.`))
        }
        settled = true
        cleanup()
        conn.hostKey = seenKey
        resolve(conn)
      })
      try {
        client.connect(config)
      } catch (error) {
        fail(new UserError(`Cannot set up an SSH connection to ${state.target}: ${(error as Error).message}.`, {cause: error}))
      }
    })
  }

  /** Open a direct-tcpip channel through a jump connection; it counts as a forward on the jump. */
  private forward(
    jumpState: EndpointState,
    jumpConn: Connection,
    host: string,
    port: number,
    target: string,
    signal: AbortSignal,
  ): Promise<{stream: ClientChannel; release: () => void}> {
    jumpState.forwards++
    this.clearIdle(jumpState)
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      jumpState.forwards--
      if (this.unused(jumpState) && jumpState.forwards === 0) this.scheduleIdle(jumpState)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        release()
        reject(new UnreachableError(target, `${target} did not answer within ${seconds(this.options.connectTimeoutMs)} when reached through ${jumpState.target}: check the address and the network.`, {code: 'timeout'}))
      }, this.options.connectTimeoutMs)
      const onAbort = (): void => {
        clearTimeout(timer)
        release()
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, {once: true})
      try {
        jumpConn.client.forwardOut('127.0.0.1', 0, host, port, (error, stream) => {
          clearTimeout(timer)
          signal.removeEventListener('abort', onAbort)
          if (released) {
            stream?.destroy()
            return
          }
          if (error) {
            release()
            return reject(mapForwardError(error, target, jumpState.target))
          }
          stream.on('close', release)
          if (signal.aborted) {
            stream.destroy()
            return reject(signal.reason)
          }
          resolve({stream, release})
        })
      } catch (error) {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        release()
        reject(new UnreachableError(target, `The jump host ${jumpState.target} closed the connection before ${target} could be reached: retry.`, {code: 'closed', cause: error}))
      }
    })
  }

}

function sessionOptions(options: SshPoolOptions): {sessionsMax: number; sessionOpenTimeoutMs: number; sessionRetryMs: number} {
  const given = options.sessions === undefined || options.sessions === true ? {} : options.sessions === false ? {max: 0} : options.sessions
  const channels = options.maxChannelsPerConnection ?? DEFAULTS.maxChannelsPerConnection
  return {
    sessionsMax: given.max === undefined ? Math.min(4, Math.floor(channels / 2)) : nonNegative(given.max, 0, 'sessions.max'),
    sessionOpenTimeoutMs: positive(given.openTimeoutMs, 30_000, 'sessions.openTimeoutMs'),
    sessionRetryMs: nonNegative(given.retryMs, 600_000, 'sessions.retryMs'),
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!(Number.isFinite(value) && value > 0)) throw new BugError(`SshPool option ${name} must be a positive number, got ${value}.`)
  return value
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!(Number.isFinite(value) && value >= 0)) throw new BugError(`SshPool option ${name} must be zero or more, got ${value}.`)
  return value
}

