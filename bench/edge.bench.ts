/**
 * The edge proxy's data path (issue 13 item 8): requests per second and p99 latency
 * through one HAProxy (the Debian 2.6 binary, on the file clusterctl renders for an edge)
 * against the same backend reached directly, in the same run, as ratios. The backend is
 * a Node.js HTTP server in a child process; the load comes from this process: C clients,
 * each a keep-alive connection sending one GET after another, for a fixed time per side
 * (the two sides alternate, twice each, so a change of load on the machine hits both).
 */
import {type ChildProcess, spawn} from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import {adminSocket, renderHaproxyConfig} from '../src/core/edge/haproxy.js'
import type {BenchSection} from './types.js'

export const name = 'edge'

const CLIENTS = 16
const ROUND_MS = 4000

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.end()
        resolve(true)
      })
      c.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }

  throw new Error(`nothing listens on 127.0.0.1:${port}`)
}

/** C keep-alive clients GETting `port` for `ms`: requests per second and latencies (ms). */
async function load(port: number, ms: number): Promise<{rps: number; latencies: number[]; errors: number}> {
  const agent = new http.Agent({keepAlive: true, maxSockets: CLIENTS})
  const latencies: number[] = []
  let errors = 0
  const end = Date.now() + ms
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = process.hrtime.bigint()
      const req = http.get({host: '127.0.0.1', port, path: '/', agent}, (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
          else errors++
          resolve()
        })
      })
      req.on('error', () => {
        errors++
        resolve()
      })
    })
  const started = Date.now()
  await Promise.all(Array.from({length: CLIENTS}, async () => {
    while (Date.now() < end) await one()
  }))
  agent.destroy()
  return {rps: latencies.length / ((Date.now() - started) / 1000), latencies, errors}
}

const p99 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? NaN
}

export async function run(): Promise<BenchSection> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cctl-edge-bench-'))
  const children: ChildProcess[] = []
  try {
    const backendPort = await freePort()
    const backend = spawn(process.execPath, ['-e', `require('http').createServer((q, s) => s.end('ok\\n')).listen(${backendPort}, '127.0.0.1')`], {stdio: 'ignore'})
    children.push(backend)
    const servicePort = await freePort()
    const file = path.join(dir, 'haproxy.cfg')
    fs.writeFileSync(file, renderHaproxyConfig([{name: 'web', servicePort, check: {type: 'tcp', path: null, intervalMs: 2000, timeoutMs: 1000, fall: 3, rise: 2}, servers: [{name: 't1', address: '127.0.0.1', port: backendPort, checkPort: null, state: 'ready'}]}], {runDir: dir, bindAddress: '127.0.0.1'}))
    const proxy = spawn('haproxy', ['-db', '-f', file], {stdio: 'ignore'})
    children.push(proxy)
    await Promise.all([waitForPort(backendPort), waitForPort(servicePort)])
    if (!fs.existsSync(adminSocket(dir))) throw new Error('haproxy did not start (scripts/setup.sh installs it)')
    await load(backendPort, 1000) // warm-up
    const direct = {rps: [] as number[], lat: [] as number[], errors: 0}
    const edge = {rps: [] as number[], lat: [] as number[], errors: 0}
    for (let round = 0; round < 2; round++) {
      for (const [side, port] of [[direct, backendPort], [edge, servicePort]] as const) {
        const r = await load(port, ROUND_MS)
        side.rps.push(r.rps)
        side.lat.push(...r.latencies)
        side.errors += r.errors
      }
    }

    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
    const d = {rps: mean(direct.rps), p99: p99(direct.lat)}
    const e = {rps: mean(edge.rps), p99: p99(edge.lat)}
    return {
      title: 'Edge proxy: through HAProxy vs straight to the instance',
      body: [
        `${CLIENTS} keep-alive clients, HTTP GET of a 3-byte answer from one Node.js server, ${(2 * ROUND_MS) / 1000} s per side (alternating rounds), on one machine: the proxy, the backend and the load share its cores. HAProxy is the Debian 2.6 binary on the file clusterctl renders for an edge (TCP mode, roundrobin, a TCP check).`,
        '',
        '| path | requests/s | p99 latency | errors |',
        '|---|---:|---:|---:|',
        `| straight to the instance | ${d.rps.toFixed(0)} | ${d.p99.toFixed(2)} ms | ${direct.errors} |`,
        `| through one edge | ${e.rps.toFixed(0)} | ${e.p99.toFixed(2)} ms | ${edge.errors} |`,
        `| **ratio edge / direct** | **${(e.rps / d.rps).toFixed(2)}** | **${(e.p99 / d.p99).toFixed(2)}** | |`,
        '',
        'The time from a task becoming ready to receiving traffic is not measured here: it is one pass (the sync after the pass that saw it ready), about the pass interval plus one SSH round trip to each edge.',
      ].join('\n'),
    }
  } finally {
    for (const c of children) c.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 200))
    fs.rmSync(dir, {recursive: true, force: true})
  }
}
