/**
 * RuntimeClient: runs a ContainerRuntime's argv through a node's Transport and turns
 * the results into typed values or errors. The only effect is the injected transport;
 * the drivers themselves stay pure.
 *
 * A command that ran and failed becomes a RemoteError (exit 1) with a sentence naming
 * the container and the node, and the runtime's stderr; a node that cannot be reached
 * rejects with the transport's UnreachableError (exit 5).
 */
import type {Readable} from 'node:stream'

import {FailedError, RemoteError, stderrTail} from '../core/errors.js'
import type {ExecResult, Transport} from '../core/transport.js'
import type {ContainerRuntime, ContainerSpec, LogsOptions, ObservedContainer, StartResult} from './types.js'

export interface RuntimeClientOptions {
  /** Timeout of a start (it may pull an image under podman). Default 120 s. */
  startTimeoutMs?: number
  /** Timeout of list, image queries and remove. Default 30 s. */
  queryTimeoutMs?: number
}

/** How long a stop may take: the grace period plus time for the runtime itself. */
export function stopTimeoutMs(graceSeconds: number): number {
  return (graceSeconds + 30) * 1000
}

export class RuntimeClient {
  private readonly startTimeoutMs: number
  private readonly queryTimeoutMs: number

  constructor(
    readonly runtime: ContainerRuntime,
    readonly transport: Transport,
    options: RuntimeClientOptions = {},
  ) {
    this.startTimeoutMs = options.startTimeoutMs ?? 120_000
    this.queryTimeoutMs = options.queryTimeoutMs ?? 30_000
  }

  private fail(argv: readonly string[], result: ExecResult, what: string): RemoteError {
    const how = result.code === null ? `was killed by ${result.signal ?? 'a signal'}` : `exited ${result.code}`
    const tail = stderrTail(result.stderr)
    return new RemoteError(this.transport.target, argv, result, `${what} on ${this.transport.target} failed: ${this.runtime.name} ${how}${tail ? `: ${tail}` : ''}`)
  }

  async start(spec: ContainerSpec, options: {signal?: AbortSignal} = {}): Promise<StartResult> {
    const argv = this.runtime.startArgv(spec)
    const result = await this.transport.exec(argv, {timeoutMs: this.startTimeoutMs, ...(options.signal ? {signal: options.signal} : {})})
    const parsed = result.code === 0 ? this.runtime.parseStart(result.stdout) : null
    if (!parsed) throw this.fail(argv, result, `Starting container ${spec.name}`)
    return parsed
  }

  /** Every container carrying these labels. Throws rather than return a partial list. */
  async list(labelSelector: Record<string, string>, options: {signal?: AbortSignal} = {}): Promise<ObservedContainer[]> {
    const argv = this.runtime.listArgv(labelSelector)
    const result = await this.transport.exec(argv, {timeoutMs: this.queryTimeoutMs, ...(options.signal ? {signal: options.signal} : {})})
    if (result.code !== 0) throw this.fail(argv, result, 'Listing containers')
    const {containers, complete} = this.runtime.parseList(result.stdout)
    if (!complete) throw new FailedError(`The container list from ${this.transport.target} (${this.runtime.name}) was incomplete or not understood; nothing was concluded from it.`, {code: 'runtime-output'})
    return containers
  }

  async stop(name: string, graceSeconds: number): Promise<void> {
    const argv = this.runtime.stopArgv(name, graceSeconds)
    const result = await this.transport.exec(argv, {timeoutMs: stopTimeoutMs(graceSeconds)})
    if (result.code !== 0) throw this.fail(argv, result, `Stopping container ${name}`)
  }

  async remove(name: string): Promise<void> {
    const argv = this.runtime.removeArgv(name)
    const result = await this.transport.exec(argv, {timeoutMs: stopTimeoutMs(0)})
    if (result.code !== 0) throw this.fail(argv, result, `Removing container ${name}`)
  }

  /** Removes a network (podman); fails while a container uses it. */
  async removeNetwork(name: string): Promise<void> {
    const argv = this.runtime.removeNetworkArgv?.(name)
    if (!argv) return
    const result = await this.transport.exec(argv, {timeoutMs: this.queryTimeoutMs})
    if (result.code !== 0) throw this.fail(argv, result, `Removing network ${name}`)
  }

  /**
   * The container's output. With `follow`, chunks stream to onStdout/onStderr until the
   * container exits or `signal` aborts (which rejects with the signal's reason).
   */
  async logs(name: string, options: LogsOptions & {signal?: AbortSignal; onStdout?: (chunk: Buffer) => void; onStderr?: (chunk: Buffer) => void}): Promise<ExecResult> {
    const argv = this.runtime.logsArgv(name, {follow: options.follow, ...(options.tail === undefined ? {} : {tail: options.tail})})
    const result = await this.transport.exec(argv, {
      // A follow may run for days: stream it, do not also keep it in memory.
      ...(options.follow ? {collect: !options.onStdout} : {timeoutMs: 60_000}),
      ...(options.signal ? {signal: options.signal} : {}),
      ...(options.onStdout ? {onStdout: options.onStdout} : {}),
      ...(options.onStderr ? {onStderr: options.onStderr} : {}),
    })
    if (result.code !== 0) throw this.fail(argv, result, `Reading the logs of ${name}`)
    return result
  }

  /** Loads an image archive streamed on stdin; returns the image names the runtime reported. */
  async loadImage(archive: Readable | Buffer, options: {timeoutMs?: number; signal?: AbortSignal} = {}): Promise<string[]> {
    const argv = this.runtime.loadImageArgv()
    const result = await this.transport.exec(argv, {
      stdin: archive,
      ...(options.timeoutMs === undefined ? {} : {timeoutMs: options.timeoutMs}),
      ...(options.signal ? {signal: options.signal} : {}),
    })
    if (result.code !== 0) throw this.fail(argv, result, 'Loading the image archive')
    return this.runtime.parseLoad(result.stdout)
  }

  async imageExists(image: string): Promise<boolean> {
    const argv = this.runtime.imageExistsArgv(image)
    const result = await this.transport.exec(argv, {timeoutMs: this.queryTimeoutMs})
    if (result.code === 0) return true
    if (result.code === 1) return false
    throw this.fail(argv, result, `Looking up the image ${image}`)
  }

  async images(): Promise<string[]> {
    const argv = this.runtime.listImagesArgv()
    const result = await this.transport.exec(argv, {timeoutMs: this.queryTimeoutMs})
    if (result.code !== 0) throw this.fail(argv, result, 'Listing images')
    return this.runtime.parseImages(result.stdout)
  }
}
