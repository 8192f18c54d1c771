/** One command on one pooled connection: open an exec channel, feed stdin, collect or stream output, report how it ended. */
import type {Client as SshClient, ClientChannel} from 'ssh2'
import {UnreachableError} from '../core/errors.js'
import type {ExecOptions, ExecResult, HostKeyInfo} from '../core/transport.js'

export interface Connection {
  client: SshClient
  hostKey: HostKeyInfo
  closed: boolean
  /** Why it closed, when it was not us. */
  lostReason: string | undefined
  closedPromise: Promise<void>
}

/** Thrown inside the pool when a session could not be opened because the connection was already gone. */
export class ConnectionGoneError extends Error {}

/** What a channel needs from the pool: the target for messages, the channel cap, the slot to free, the trace. */
export interface ChannelOwner {
  target: string
  maxChannels: number
  /** Called once the server has closed the session: frees its slot. */
  release: () => void
  debug: ((message: string) => void) | undefined
}

export function runExecChannel(
  state: ChannelOwner,
  conn: Connection,
  command: string,
  argv: readonly string[],
  options: ExecOptions,
  stop: AbortSignal,
  handOff: () => void,
): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    if (stop.aborted) return reject(stop.reason)
    if (conn.closed) return reject(new ConnectionGoneError())
    let channel: ClientChannel | undefined
    let settled = false
    const finish = (outcome: {result: ExecResult} | {error: unknown}): void => {
      if (settled) return
      settled = true
      stop.removeEventListener('abort', onStop)
      const source = options.stdin
      if (source && typeof source === 'object' && !Buffer.isBuffer(source)) {
        if (channel) source.unpipe(channel)
        if (!source.readableEnded) source.destroy()
      }
      if ('result' in outcome) resolve(outcome.result)
      else reject(outcome.error)
    }
    const onStop = (): void => {
      if (channel) {
        channel.signal('KILL')
        channel.close()
      }
      finish({error: stop.reason})
    }
    stop.addEventListener('abort', onStop, {once: true})
    const opened = (error: Error | undefined, ch: ClientChannel): void => {
      if (settled) {
        // Stopped (abort, timeout) while the session was opening: the server may already run
        // the command, so end it. The caller released the slot when this settled.
        if (!error) {
          ch.signal('KILL')
          ch.close()
        }
        return
      }
      if (error) {
        if (conn.closed || /No response from server|Not connected/i.test(error.message)) return finish({error: new ConnectionGoneError()})
        return finish({
          error: new UnreachableError(
            state.target,
            `${state.target} refused to open a session (${error.message}): its sshd may allow fewer sessions per connection (MaxSessions) than clusterctl's ${state.maxChannels}; raise MaxSessions or lower the pool's channel cap.`,
            {code: 'refused', cause: error},
          ),
        })
      }
      channel = ch
      // From here the slot is freed when the server has really closed the session.
      handOff()
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      const collect = options.collect !== false
      let exit: {code: number | null; signal: string | null} | undefined
      ch.on('data', (chunk: Buffer) => {
        options.onStdout?.(chunk)
        if (collect) stdout.push(chunk)
      })
      ch.stderr.on('data', (chunk: Buffer) => {
        options.onStderr?.(chunk)
        if (collect) stderr.push(chunk)
      })
      ch.on('exit', (code: number | null, signal?: string) => {
        exit = {code: typeof code === 'number' ? code : null, signal: typeof signal === 'string' ? signal : null}
      })
      ch.on('close', () => {
        state.release()
        if (exit) {
          return finish({result: {stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), code: exit.code, signal: exit.signal}})
        }
        const why = conn.closed || conn.lostReason ? `the connection was lost${conn.lostReason ? ` (${conn.lostReason})` : ''}` : 'the session ended without an exit status'
        finish({
          error: new UnreachableError(
            state.target,
            `\`${summarize(argv)}\` on ${state.target} did not report how it ended because ${why}: check the node and run it again if that is safe.`,
            {code: 'closed'},
          ),
        })
      })
      ch.on('error', (streamError: Error) => {
        state.debug?.(`${state.target}: session error: ${streamError.message}`)
      })
      const source = options.stdin
      if (source === undefined) {
        ch.end()
      } else if (typeof source === 'string' || Buffer.isBuffer(source)) {
        ch.end(source)
      } else {
        source.on('error', (streamError: Error) => {
          ch.signal('KILL')
          ch.close()
          finish({error: streamError})
        })
        // pipe() respects the channel's window: a slow link pauses the source.
        source.pipe(ch)
      }
    }
    try {
      options.onSent?.()
      conn.client.exec(command, opened)
    } catch {
      finish({error: new ConnectionGoneError()})
    }
  })
}

/** The first three words of a command, for messages. */
export function summarize(argv: readonly string[]): string {
  const text = argv.slice(0, 3).join(' ')
  return argv.length > 3 ? `${text} …` : text
}
