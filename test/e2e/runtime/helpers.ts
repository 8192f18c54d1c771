/** Shared by the runtime e2e tests: transports to testbed hosts, polling, HTTP. */
import http from 'node:http'

import {createTransport, SshPool, type Transport} from '../../../src/ssh/index.js'
import {hostByName, type Testbed} from '../../testbed/testbed.js'

/** A pool that ignores the machine's ~/.ssh (agent, config, known_hosts): only the test bed's key. */
export function testPool(): SshPool {
  return new SshPool({agentSocket: null, knownHostsFiles: []})
}

export function transportTo(tb: Testbed, pool: SshPool, name: string): {transport: Transport; ip: string} {
  const host = hostByName(tb, name)
  const transport = createTransport({host: host.ip, port: host.port, user: 'root', keyPath: tb.keyPath}, pool, {configPath: '/dev/null'})
  return {transport, ip: host.ip}
}

/** Run a shell script on the host (user values as positional arguments); throws unless it exits 0. */
export async function sh(transport: Transport, script: string, ...args: string[]): Promise<string> {
  const r = await transport.exec(['sh', '-c', script, 'sh', ...args], {timeoutMs: 60_000})
  if (r.code !== 0) throw new Error(`script failed (exit ${r.code}): ${r.stderr.trim()}\n${script}`)
  return r.stdout
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== null && value !== false) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

export function httpGet(url: string, timeoutMs = 2000): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, {timeout: timeoutMs}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)))
    req.on('error', reject)
  })
}

/** Ports in the scheduler's default range (31000-32000), a different one per call, from a random start. */
export function portAllocator(): () => number {
  let next = 31000 + Math.floor(Math.random() * 900)
  return () => (next = next >= 31999 ? 31000 : next + 1)
}
