/**
 * Images without a registry: `clusterctl image push ARCHIVE` streams an image archive
 * over each node's transport into its container runtime (podman load, or ctr image
 * import into the clusterctl namespace). Nodes load in parallel, at most
 * PUSH_CONCURRENCY at a time; one failing node never stops the others.
 */
import fs from 'node:fs'
import {pipeline, Transform} from 'node:stream'

import {RuntimeClient, runtimeFor} from '../../runtime/index.js'
import {ClusterctlError, ExitCode, UnreachableError, UserError} from '../errors.js'
import type {Node, RuntimeName} from '../model/node.js'
import {formatBytes} from '../model/resources.js'
import {appendEvent} from '../state/events.js'
import {forEachLimited} from '../async.js'
import {connectSpecOf, type ServiceContext} from '../context.js'
import {getNode, getNodes} from './nodes.js'

export const PUSH_CONCURRENCY = 4
/** A push may take 2 minutes plus the time to move the archive at 256 KiB/s. */
export const PUSH_MIN_RATE_BYTES_PER_S = 256 * 1024

export function pushTimeoutMs(bytes: number): number {
  return 120_000 + Math.ceil((bytes / PUSH_MIN_RATE_BYTES_PER_S) * 1000)
}

export interface PushProgress {
  node: string
  /** Bytes handed to the node's transport so far. */
  sentBytes: number
  totalBytes: number
  /** Set once the node is finished (loaded or failed). */
  done?: {ok: boolean; images?: string[]; error?: PushNodeError}
}

export interface PushNodeError {
  /** `unreachable`-family codes (`timeout`, `refused`, `auth`, ...) or `load-failed`. */
  code: string
  message: string
  exitCode: number
}

export interface PushNodeResult {
  node: string
  runtime: RuntimeName
  ok: boolean
  /** The image names the runtime reported loading. */
  images?: string[]
  error?: PushNodeError
  durationMs: number
}

export interface PushImageResult {
  archive: string
  bytes: number
  nodes: PushNodeResult[]
}

export interface PushImageRequest {
  archive: string
  /** Node names; default: every node. */
  nodes?: string[]
  onProgress?: (progress: PushProgress) => void
  concurrency?: number
  signal?: AbortSignal
}

/** The archive must be a readable regular file that looks like a tar (plain or compressed). */
function checkArchive(archive: string): number {
  let stat: fs.Stats
  try {
    stat = fs.statSync(archive)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UserError(`Cannot read the image archive ${archive}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}.`, {
      hint: 'Create one with `podman save --format docker-archive -o app.tar IMAGE`.',
    })
  }
  if (!stat.isFile()) throw new UserError(`The image archive ${archive} is not a regular file.`)
  const head = Buffer.alloc(512)
  let read = 0
  let fd: number | undefined
  try {
    fd = fs.openSync(archive, 'r')
    read = fs.readSync(fd, head, 0, 512, 0)
  } catch (error) {
    throw new UserError(`Cannot read the image archive ${archive}: ${(error as Error).message}.`)
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
  const tar = read >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar'
  const gzip = read >= 2 && head[0] === 0x1f && head[1] === 0x8b
  const zstd = read >= 4 && head.readUInt32LE(0) === 0xfd2fb528
  if (!tar && !gzip && !zstd) {
    throw new UserError(`${archive} is not an image archive (a tar file, possibly compressed).`, {
      hint: 'Create one with `podman save --format docker-archive -o app.tar IMAGE` (or `docker save -o app.tar IMAGE`).',
    })
  }
  return stat.size
}

function toNodeError(error: unknown): PushNodeError {
  if (error instanceof UnreachableError) return {code: error.code, message: error.message, exitCode: ExitCode.unreachable}
  if (error instanceof ClusterctlError) return {code: error.code === 'remote' ? 'load-failed' : error.code, message: error.message, exitCode: error.exitCode}
  return {code: 'failed', message: (error as Error)?.message ?? String(error), exitCode: ExitCode.failed}
}

async function pushToNode(ctx: ServiceContext, node: Node, request: PushImageRequest, totalBytes: number): Promise<PushNodeResult> {
  const started = ctx.clock.now()
  let sentBytes = 0
  let lastReport = -1
  const report = (): void => {
    // At most ~100 reports per node: enough for a progress bar, cheap for big archives.
    const step = Math.max(1, Math.floor(totalBytes / 100))
    if (sentBytes === totalBytes || sentBytes - lastReport >= step) {
      lastReport = sentBytes
      request.onProgress?.({node: node.name, sentBytes, totalBytes})
    }
  }
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sentBytes += chunk.length
      report()
      callback(null, chunk)
    },
  })
  const file = fs.createReadStream(request.archive)
  // Errors end up in the exec (its stdin fails) or are moot once the command ended.
  pipeline(file, counter, () => {})

  let result: PushNodeResult
  try {
    const client = new RuntimeClient(runtimeFor(node.runtime), ctx.connect(connectSpecOf(node)))
    const images = await client.loadImage(counter, {timeoutMs: pushTimeoutMs(totalBytes), ...(request.signal ? {signal: request.signal} : {})})
    result = {node: node.name, runtime: node.runtime, ok: true, images, durationMs: ctx.clock.now() - started}
  } catch (error) {
    result = {node: node.name, runtime: node.runtime, ok: false, error: toNodeError(error), durationMs: ctx.clock.now() - started}
  } finally {
    file.destroy()
    counter.destroy()
  }

  ctx.store.write(() =>
    appendEvent(ctx.store, {
      type: result.ok ? 'image.pushed' : 'image.push-failed',
      subjectKind: 'node',
      subject: node.name,
      message: result.ok
        ? `loaded ${result.images?.join(', ') || 'an image archive'} (${formatBytes(totalBytes)}) into ${node.runtime}`
        : `could not load ${request.archive}: ${result.error?.message ?? 'failed'}`,
      data: {archive: request.archive, bytes: totalBytes, runtime: node.runtime, images: result.images ?? [], error: result.error ?? null},
    }),
  )
  request.onProgress?.({node: node.name, sentBytes, totalBytes, done: {ok: result.ok, ...(result.images ? {images: result.images} : {}), ...(result.error ? {error: result.error} : {})}})
  return result
}

/**
 * Streams the archive to every chosen node's runtime. Throws (before sending anything)
 * for a missing or non-tar archive (UserError), an unknown node (NotFoundError) or no
 * nodes at all; per-node failures are in the result.
 */
export async function pushImage(ctx: ServiceContext, request: PushImageRequest): Promise<PushImageResult> {
  const totalBytes = checkArchive(request.archive)
  const names = request.nodes === undefined ? undefined : [...new Set(request.nodes.map((n) => n.trim()).filter((n) => n !== ''))]
  if (names !== undefined && names.length === 0) throw new UserError('--nodes names no node: give names like --nodes web-1,web-2.')
  const nodes = names === undefined ? getNodes(ctx) : names.map((name) => getNode(ctx, name))
  if (nodes.length === 0) throw new UserError('There are no nodes to push to.', {hint: 'Add one with `clusterctl add-node [USER@]HOST`.'})

  const results: PushNodeResult[] = new Array(nodes.length)
  await forEachLimited(nodes, request.concurrency ?? PUSH_CONCURRENCY, async (node, index) => {
    results[index] = await pushToNode(ctx, node, request, totalBytes)
  })
  return {archive: request.archive, bytes: totalBytes, nodes: results}
}

/** 0 when every node loaded it; 5 when every failure was an unreachable node; else 1. */
export function pushExitCode(result: PushImageResult): number {
  const failed = result.nodes.filter((n) => !n.ok)
  if (failed.length === 0) return ExitCode.ok
  return failed.every((n) => n.error?.exitCode === ExitCode.unreachable) ? ExitCode.unreachable : ExitCode.failed
}
