/**
 * Shell sessions: pay the node's shell start-up once per connection, not once per command.
 *
 * sshd runs every exec through the user's login shell, and bash sources ~/.bashrc for
 * each one: on hosts whose ~/.bashrc runs a version manager's init (conda, pyenv, nvm,
 * rbenv...) every command costs a second or more of latency and of the node's CPU. A
 * ShellSession is one exec channel on the pooled connection running SESSION_SCRIPT, a
 * small POSIX sh loop that reads command lines from its stdin and runs them one after
 * another, so the login shell starts once per session (the idea behind Ansible's
 * pipelining and Mitogen). The pool keeps a few per connection (SessionSet) and sends
 * every eligible exec through an idle one; everything else, and every host where a
 * session cannot be held, keeps one exec per command.
 *
 * Protocol (client -> server), one command at a time:
 *   MARKER \n COMMAND LINE (may span lines) \n MARKER \n
 * where MARKER is `@@cctl-` + 32 random hex digits, new for every command and never
 * inside the command line. The server runs the line as `sh -c` would (`eval` in a
 * subshell, stdin /dev/null), with its stdout and stderr each through a pipe of its own
 * (`cat`), so the end marker is printed only once every process holding the command's
 * output has closed it: a straggler cannot write into the next command's output (it
 * keeps the session busy instead, as it would keep an exec channel open). Then:
 *   stdout: <the command's stdout bytes> MARKER SPACE EXIT-STATUS \n
 *   stderr: <the command's stderr bytes> MARKER \n
 * Output is passed through byte for byte (binary-safe); only the marker, which no
 * command can know, ends it.
 *
 * Differences from an exec, by design:
 * - a command killed by signal N reports exit status 128+N (as `sh -c` does), never a
 *   signal name;
 * - commands with stdin, and streams that are not collected (`logs -f`), take an exec;
 * - the environment is the one the login shell exported when the session started.
 *
 * Cancellation and timeouts cannot desynchronise the stream: a command that is aborted
 * or times out takes its session down with it (a cancel line, TERM and the channel's
 * close; on any of them the server kills its whole process group). The next command gets another
 * session. A session whose output breaks the protocol is discarded the same way.
 */
import {randomBytes} from 'node:crypto'

import {UnreachableError} from '../core/errors.js'
import {quoteWord} from './quote.js'
import type {ExecOptions, ExecResult} from '../core/transport.js'
import {summarize} from './exec-channel.js'

/** The first line a session prints on stdout and on stderr once its shell is up. */
export const SESSION_GREETING = '@@clusterctl-session 1'

/**
 * The server: POSIX sh (tested with dash and bash). While a command runs, the server
 * reads its input: the next command's marker means go on once this one is done; the end
 * of input (the client closed the channel) or any other line means cancel, and the
 * server kills its whole process group (sshd made the session a group of its own), as
 * it does on TERM or HUP. So a cancel works whether or not sshd passes signals on.
 */
export const SESSION_SCRIPT = `set -u
die() { trap '' TERM HUP; kill -TERM 0 2>/dev/null; kill -KILL 0; exit 1; }
trap die TERM HUP
exec 3>&1 4>&2
nl='
'
printf '%s\\n' '${SESSION_GREETING}'
printf '%s\\n' '${SESSION_GREETING}' >&2
IFS= read -r m || exit 0
while :; do
  cmd=
  first=1
  while :; do
    IFS= read -r line || exit 0
    if [ "$line" = "$m" ]; then break; fi
    if [ "$first" = 1 ]; then cmd=$line; first=0; else cmd=$cmd$nl$line; fi
  done
  {
    rc=$( { { { (eval "$cmd") </dev/null 3>&- 4>&- 5>&-; echo "$?" >&5; } | cat >&3; } 2>&1 | cat >&4; } 5>&1 )
    printf '%s %s\\n' "$m" "$rc"
    printf '%s\\n' "$m" >&2
  } &
  job=$!
  if IFS= read -r m && [ "\${m#@@cctl-}" != "$m" ]; then wait "$job"; else die; fi
done
`

/** The exec that starts a session (through the login shell, once). */
export function sessionCommandLine(): string {
  return `exec sh -c ${quoteWord(SESSION_SCRIPT)} clusterctl-session`
}

/** Whether an exec may go through a session: no stdin, and output collected (not an endless stream). */
export function sessionEligible(options: ExecOptions): boolean {
  return options.stdin === undefined && options.collect !== false
}

/**
 * Finds MARKER then the rest of its line in a byte stream. Bytes before the marker are
 * handed out as they arrive, except a tail short enough to be the start of a split marker.
 */
export class MarkerScanner {
  private held: Buffer = Buffer.alloc(0)
  /** The text after the marker, up to its newline, once seen. */
  trailer: string | undefined

  constructor(private readonly marker: Buffer) {}

  get done(): boolean {
    return this.trailer !== undefined
  }

  /** Feed a chunk; returns the bytes that are surely before the marker (maybe empty). */
  push(chunk: Buffer): Buffer {
    if (this.done) return Buffer.alloc(0)
    const buf = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk])
    const at = buf.indexOf(this.marker)
    if (at >= 0) {
      const newline = buf.indexOf(0x0a, at + this.marker.length)
      if (newline >= 0) {
        this.trailer = buf.subarray(at + this.marker.length, newline).toString('latin1')
        this.held = Buffer.alloc(0)
      } else {
        this.held = Buffer.from(buf.subarray(at))
      }
      return buf.subarray(0, at)
    }
    const keep = Math.min(buf.length, this.marker.length - 1)
    this.held = Buffer.from(buf.subarray(buf.length - keep))
    return buf.subarray(0, buf.length - keep)
  }
}

/** What the session needs of an ssh2 ClientChannel (a child process's pipes do as well, in tests). */
export interface SessionChannel {
  write(data: string): unknown
  on(event: 'data', listener: (chunk: Buffer) => void): unknown
  on(event: 'close', listener: () => void): unknown
  stderr: {on(event: 'data', listener: (chunk: Buffer) => void): unknown}
  signal(name: string): unknown
  close(): unknown
}

interface Running {
  marker: string
  out: MarkerScanner
  err: MarkerScanner
  stdout: Buffer[]
  stderr: Buffer[]
  options: ExecOptions
  argv: readonly string[]
  resolve: (result: ExecResult) => void
  reject: (error: unknown) => void
}

export type SessionState = 'opening' | 'idle' | 'busy' | 'closed'

export class ShellSession {
  state: SessionState = 'opening'
  /** Resolves when the shell greeted on both streams; rejects when the channel closed first. */
  readonly ready: Promise<void>
  /** Commands run to completion. */
  commands = 0
  private current: Running | undefined
  private greetOut = new MarkerScanner(Buffer.from(SESSION_GREETING))
  private greetErr = new MarkerScanner(Buffer.from(SESSION_GREETING))
  private early: Buffer[] = []
  private settleReady!: (error?: Error) => void

  constructor(
    private readonly channel: SessionChannel,
    private readonly target: string,
    private readonly onGone: (session: ShellSession) => void = () => {},
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (error) => (error ? reject(error) : resolve())
    })
    // Nobody may be waiting when it fails: never leave it unhandled.
    this.ready.catch(() => {})
    channel.on('data', (chunk: Buffer) => this.onData(chunk, 'out'))
    channel.stderr.on('data', (chunk: Buffer) => this.onData(chunk, 'err'))
    channel.on('close', () => this.onClose())
  }

  /**
   * Run one command line (already quoted by toShellCommand). Rejects with the signal's
   * reason on abort (the session is discarded), with UnreachableError `closed` when the
   * session died under the command.
   */
  run(command: string, argv: readonly string[], options: ExecOptions, signal: AbortSignal): Promise<ExecResult> {
    if (this.state !== 'idle') return Promise.reject(new Error(`session not idle (${this.state})`))
    if (signal.aborted) return Promise.reject(signal.reason)
    let marker = newMarker()
    while (command.includes(marker)) marker = newMarker()
    this.state = 'busy'
    return new Promise<ExecResult>((resolve, reject) => {
      const onAbort = (): void => {
        this.current = undefined
        this.discard()
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, {once: true})
      const done = (fn: () => void): void => {
        signal.removeEventListener('abort', onAbort)
        fn()
      }
      this.current = {
        marker,
        out: new MarkerScanner(Buffer.from(marker)),
        err: new MarkerScanner(Buffer.from(marker)),
        stdout: [],
        stderr: [],
        options,
        argv,
        resolve: (result) => done(() => resolve(result)),
        reject: (error) => done(() => reject(error)),
      }
      this.channel.write(`${marker}\n${command}\n${marker}\n`)
      // The session's shell is already up: the command's deadline starts now (the failure detector's clock).
      options.onSent?.()
    })
  }

  /** End the session and everything it runs: the server kills its process group on a cancel line, the end of its input, or TERM. */
  discard(): void {
    if (this.state === 'closed') return
    try {
      this.channel.write('cancel\n')
      this.channel.signal('TERM')
      this.channel.close()
    } catch {
      // The channel is already gone.
    }
    this.onClose()
  }

  private onData(chunk: Buffer, stream: 'out' | 'err'): void {
    if (this.state === 'opening') {
      const scanner = stream === 'out' ? this.greetOut : this.greetErr
      scanner.push(chunk)
      this.early.push(chunk)
      if (this.greetOut.done && this.greetErr.done) {
        this.state = 'idle'
        this.early = []
        this.settleReady()
      }
      return
    }
    const run = this.current
    if (!run) {
      // Output with no command running: the stream can no longer be trusted.
      if (this.state !== 'closed') this.discard()
      return
    }
    const scanner = stream === 'out' ? run.out : run.err
    const bytes = scanner.push(chunk)
    if (bytes.length > 0) {
      if (stream === 'out') {
        run.options.onStdout?.(bytes)
        run.stdout.push(bytes)
      } else {
        run.options.onStderr?.(bytes)
        run.stderr.push(bytes)
      }
    }
    if (!(run.out.done && run.err.done)) return
    const status = /^ (\d{1,3})$/.exec(run.out.trailer!)
    this.current = undefined
    if (!status || run.err.trailer !== '') {
      this.discard()
      run.reject(new UnreachableError(this.target, `The shell session on ${this.target} answered \`${summarize(run.argv)}\` out of protocol: run it again.`, {code: 'closed'}))
      return
    }
    this.state = 'idle'
    this.commands++
    run.resolve({stdout: Buffer.concat(run.stdout).toString('utf8'), stderr: Buffer.concat(run.stderr).toString('utf8'), code: Number(status[1]), signal: null})
  }

  private onClose(): void {
    if (this.state === 'closed') return
    const wasOpening = this.state === 'opening'
    this.state = 'closed'
    if (wasOpening) {
      const said = Buffer.concat(this.early).toString('utf8').trim().split('\n').slice(-2).join(' ')
      this.settleReady(new Error(`the session's shell ended before it was ready${said ? `: ${said.slice(0, 300)}` : ''}`))
    }
    const run = this.current
    this.current = undefined
    run?.reject(
      new UnreachableError(this.target, `\`${summarize(run.argv)}\` on ${this.target} did not report how it ended because its shell session closed: check the node and run it again if that is safe.`, {
        code: 'closed',
      }),
    )
    this.onGone(this)
  }
}

export interface SessionSetOptions {
  target: string
  /** Most sessions held at once. */
  max: number
  /** Open an exec channel running `command`; resolves once sshd accepted it. */
  openChannel: (command: string) => Promise<SessionChannel>
  /** Reserve a channel for a new session without waiting; false when none is free. */
  reserve: () => boolean
  /** Give back a reserved channel (the session closed or never opened). */
  release: () => void
  /** A session could not be opened: stop trying for a while. */
  onUnusable: (why: string) => void
  /** How long a new session may take to greet. */
  openTimeoutMs: number
  debug?: (message: string) => void
}

/** The sessions held on one connection. */
export class SessionSet {
  readonly sessions: ShellSession[] = []
  /** Sessions opened, ever (a measure of shell start-ups paid). */
  opened = 0
  /** Channels being opened for new sessions. */
  private pending = 0

  constructor(private readonly options: SessionSetOptions) {}

  /** Sessions running a command now. */
  busy(): number {
    return this.sessions.filter((s) => s.state === 'busy').length
  }

  /**
   * An idle session for one command (it is run at once by the caller, before any await),
   * a new one when under the cap and a channel is free, else undefined (use an exec).
   * The caller's abort while a new session opens rejects, and the session stays for later.
   */
  async take(signal: AbortSignal): Promise<ShellSession | undefined> {
    const idle = this.sessions.find((s) => s.state === 'idle')
    if (idle) return idle
    if (this.sessions.length + this.pending >= this.options.max || !this.options.reserve()) return undefined
    this.pending++
    const opening = this.open().finally(() => this.pending--)
    // Opening a channel on a connection whose host died never answers: the caller's abort
    // (its deadline) must not wait for it. A session that opens later stays for later.
    const session = await abortable(opening, signal)
    if (!session) return undefined
    try {
      await abortable(session.ready, signal)
    } catch (error) {
      if (signal.aborted) throw error
      return undefined
    }
    // Someone else may have taken it while we waited for the abort race: only hand it out idle.
    return session.state === 'idle' ? session : undefined
  }

  closeAll(): void {
    for (const session of [...this.sessions]) session.discard()
  }

  /** Opens a session on a reserved channel; undefined (and the channel released) when sshd refused it. */
  private async open(): Promise<ShellSession | undefined> {
    let channel: SessionChannel
    try {
      channel = await this.options.openChannel(sessionCommandLine())
    } catch (error) {
      this.options.release()
      this.options.onUnusable(`sshd refused a session channel (${(error as Error).message})`)
      return undefined
    }
    this.opened++
    const session = new ShellSession(channel, this.options.target, (gone) => {
      const index = this.sessions.indexOf(gone)
      if (index >= 0) this.sessions.splice(index, 1)
      this.options.release()
    })
    this.sessions.push(session)
    const timer = setTimeout(() => {
      if (session.state === 'opening') {
        this.options.onUnusable(`its shell did not start within ${this.options.openTimeoutMs / 1000}s`)
        session.discard()
      }
    }, this.options.openTimeoutMs)
    timer.unref()
    session.ready.then(
      () => clearTimeout(timer),
      (error: Error) => {
        clearTimeout(timer)
        this.options.onUnusable(error.message)
      },
    )
    return session
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, {once: true})
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

function newMarker(): string {
  return `@@cctl-${randomBytes(16).toString('hex')}`
}
