/**
 * LocalTransport: the controller machine itself as a node (`clusterctl node add local`).
 * argv goes straight to execve via execa, no shell involved. Results mirror SshTransport:
 * a program that is missing resolves with 127 (what a remote shell reports), not an error.
 */
import {execa} from 'execa'
import type {Readable} from 'node:stream'
import {UnreachableError} from '../core/errors.js'
import type {ExecOptions, ExecResult, HostKeyInfo, Transport} from '../core/transport.js'
import {abortReason} from './abort.js'
import {sudoArgv} from './sudo.js'

export interface LocalTransportOptions {
  /** Prefix every command with `sudo -n --`. */
  sudo?: boolean
}

export class LocalTransport implements Transport {
  readonly target = 'local'

  constructor(private readonly options: LocalTransportOptions = {}) {}

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new UnreachableError(this.target, 'Cannot run an empty command on local: argv has no program name.', {code: 'invalid'})
    if (options.signal?.aborted) throw abortReason(options.signal)
    const full = this.options.sudo ? sudoArgv(argv, process.env) : [...argv]
    const [file, ...args] = full as [string, ...string[]]
    const collect = options.collect !== false
    const source = options.stdin
    const subprocess = execa(file, args, {
      reject: false,
      encoding: 'buffer',
      stripFinalNewline: false,
      buffer: collect,
      maxBuffer: Number.MAX_SAFE_INTEGER,
      ...(source === undefined ? {stdin: 'ignore' as const} : {input: source as string | Uint8Array | Readable}),
      ...(options.timeoutMs === undefined ? {} : {timeout: options.timeoutMs, killSignal: 'SIGKILL' as const}),
      ...(options.signal ? {cancelSignal: options.signal, killSignal: 'SIGKILL' as const} : {}),
    })
    options.onSent?.()
    if (options.onStdout) subprocess.stdout?.on('data', options.onStdout)
    if (options.onStderr) subprocess.stderr?.on('data', options.onStderr)
    const result = await subprocess
    if (source && typeof source === 'object' && !Buffer.isBuffer(source) && !(source as Readable).readableEnded) (source as Readable).destroy()

    if (result.timedOut) {
      throw new UnreachableError(
        this.target,
        `\`${summarize(argv)}\` on local did not finish within ${seconds(options.timeoutMs ?? 0)} and was stopped: raise the timeout or check what it is doing.`,
        {code: 'timeout'},
      )
    }
    if (result.isCanceled) throw abortReason(options.signal)
    const stdout = decode(result.stdout)
    const stderr = decode(result.stderr)
    if (result.exitCode === undefined && result.signal === undefined) {
      // Could not spawn: answer like a shell would, so callers treat local and remote alike.
      if (result.code === 'ENOENT') return {stdout, stderr: `${file}: command not found\n`, code: 127, signal: null}
      if (result.code === 'EACCES') return {stdout, stderr: `${file}: Permission denied\n`, code: 126, signal: null}
      throw new UnreachableError(this.target, `Cannot run \`${summarize(argv)}\` on local: ${result.shortMessage ?? result.code ?? 'spawn failed'}.`, {code: 'unreachable', cause: result.cause})
    }
    return {stdout, stderr, code: result.exitCode ?? null, signal: result.signal ?? null}
  }

  hostKey(): HostKeyInfo | undefined {
    return undefined
  }

  async close(): Promise<void> {}
}

function decode(output: unknown): string {
  if (output instanceof Uint8Array) return Buffer.from(output.buffer, output.byteOffset, output.byteLength).toString('utf8')
  if (typeof output === 'string') return output
  return ''
}


function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`
}

function summarize(argv: readonly string[]): string {
  const text = argv.slice(0, 3).join(' ')
  return argv.length > 3 ? `${text} …` : text
}
