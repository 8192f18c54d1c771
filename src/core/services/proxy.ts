/**
 * `clusterctl proxy JOB`: a local TCP tunnel from the controller's machine to a
 * service's ready instances, for debugging (docs/endpoints.md). Not the production path:
 * a Node.js userspace proxy costs 1.5-2x HAProxy's CPU per byte and 2.5-6x per new
 * connection (measured for issue 13); the edges serve traffic.
 *
 * Each connection goes to the next ready backend, round robin; a backend that refuses or
 * does not answer within `connectTimeoutMs` is skipped for the next one. The backends are
 * read from the state file again every `refreshMs`, so moves, scale changes and readiness
 * are followed without a restart.
 */
import net from 'node:net'

import {FailedError} from '../errors.js'
import {hostPortText} from '../model/node.js'
import type {ServiceContext} from '../context.js'
import {type Backend, getEndpoints} from './endpoints.js'

export interface ProxyOptions {
  /** Local port (0: any free one). */
  port?: number
  /** Local address, default 127.0.0.1. */
  host?: string
  refreshMs?: number
  connectTimeoutMs?: number
  /** Told when the backends change (how many are ready) and when a connection fails over or fails. */
  onEvent?: (event: ProxyEvent) => void
}

export type ProxyEvent =
  | {kind: 'backends'; ready: number}
  | {kind: 'skipped'; backend: string; error: string}
  | {kind: 'refused'; why: string}

export interface ProxyHandle {
  host: string
  port: number
  /** Ready backends when last read. */
  ready(): number
  close(): Promise<void>
}

const hostPort = (b: Pick<Backend, 'host' | 'port'>): string => hostPortText(b.host, b.port)

/** Starts the tunnel for `job` (which must have a service port: exit 3 otherwise). */
export async function openProxy(ctx: Pick<ServiceContext, 'store'>, job: string, options: ProxyOptions = {}): Promise<ProxyHandle> {
  const read = (): Backend[] => getEndpoints(ctx, job)[0]?.backends.filter((b) => b.state === 'ready') ?? []
  let backends = read()
  let next = 0
  const emit = options.onEvent ?? (() => undefined)
  emit({kind: 'backends', ready: backends.length})
  const refresh = setInterval(() => {
    try {
      const fresh = read()
      if (fresh.map(hostPort).join() !== backends.map(hostPort).join()) emit({kind: 'backends', ready: fresh.length})
      backends = fresh
    } catch (error) {
      emit({kind: 'refused', why: `the state file could not be read: ${(error as Error).message}`})
    }
  }, options.refreshMs ?? 1000)
  refresh.unref()

  const sockets = new Set<net.Socket>()
  const track = (s: net.Socket): net.Socket => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
    return s
  }

  /** Connects to the first backend that answers, starting at the next in turn. */
  const connect = (candidates: Backend[], i: number, done: (s: net.Socket | null) => void): void => {
    if (i >= candidates.length) return done(null)
    const b = candidates[i]!
    const upstream = net.connect({host: b.host, port: b.port})
    const timer = setTimeout(() => upstream.destroy(new Error(`no answer within ${options.connectTimeoutMs ?? 3000} ms`)), options.connectTimeoutMs ?? 3000)
    upstream.once('connect', () => {
      clearTimeout(timer)
      upstream.removeAllListeners('error')
      done(upstream)
    })
    upstream.once('error', (error) => {
      clearTimeout(timer)
      upstream.destroy()
      emit({kind: 'skipped', backend: hostPort(b), error: error.message})
      connect(candidates, i + 1, done)
    })
  }

  const server = net.createServer({allowHalfOpen: true}, (client) => {
    track(client)
    client.pause()
    client.on('error', () => client.destroy())
    const start = backends.length === 0 ? 0 : next++ % backends.length
    const order = [...backends.slice(start), ...backends.slice(0, start)]
    connect(order, 0, (upstream) => {
      if (!upstream) {
        emit({kind: 'refused', why: backends.length === 0 ? `${job} has no ready backend` : `no backend of ${job} answered`})
        client.destroy()
        return
      }

      track(upstream)
      upstream.on('error', () => upstream.destroy())
      upstream.once('close', () => client.destroy())
      client.once('close', () => upstream.destroy())
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
  })

  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      clearInterval(refresh)
      reject(error.code === 'EADDRINUSE' ? new FailedError(`Port ${options.port} is in use on ${host}.`, {code: 'port-in-use', hint: 'Pick another with --port, or leave it out for a free one.'}) : error)
    })
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const {port} = server.address() as net.AddressInfo
  return {
    host,
    port,
    ready: () => backends.length,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(refresh)
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
