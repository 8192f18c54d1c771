/**
 * Ready to traffic through an edge (issue 13 item 8), on the testbed with the real
 * daemon: a service of one instance is scaled to two, and the new instance's time from
 * answering on its own host port (ready: the moment it could serve) to its first answer
 * through the edge's service port (HAProxy has it in rotation) is measured by this
 * process, on one clock. Both probes open a new connection every 25 ms; the answer names
 * the task that served it. The baseline in the same run is the daemon's pass interval:
 * the figure is read as a number of passes (the pass that sees the health check pass,
 * then the edge sync).
 */
import http from 'node:http'

import {CliSandbox} from '../test/e2e/cli.js'
import {startDaemon, stopAll, type Proc} from '../test/e2e/daemon-process.js'
import {downTestbed, ensureHaproxyImage, loadTestbed, type Testbed, testbedBaseDir, upTestbed} from '../test/testbed/testbed.js'
import type {BenchSection} from './types.js'

export const name = 'edge-ready'

const SAMPLES = 6
const PROBE_MS = 25
const SERVICE_PORT = 10_090
/** The pass interval startDaemon gives the daemon (test/e2e/daemon-process.ts). */
const PASS_INTERVAL_MS = 500

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** One GET on a new connection: the body when it answered 200, else null. */
function get(url: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.get(url, {agent: false, timeout: 2000}, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : null))
      res.on('error', () => resolve(null))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(null))
  })
}

/** Probes `url` every PROBE_MS until `accept` holds for an answer: when it first did (ms since the epoch). */
async function firstAnswer(url: () => string | null, accept: (body: string) => boolean, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const u = url()
    const sent = Date.now()
    const body = u === null ? null : await get(u)
    if (body !== null && accept(body)) return sent
    await sleep(Math.max(0, PROBE_MS - (Date.now() - sent)))
  }

  throw new Error(`no answer from ${url()} within ${timeoutMs} ms`)
}

async function must(cli: CliSandbox, args: string[], input?: string): Promise<string> {
  const r = await cli.run(args, {input})
  if (r.exitCode !== 0) throw new Error(`clusterctl ${args.join(' ')}: exit ${r.exitCode}\n${r.stdout}${r.stderr}`)
  return r.stdout
}

interface Task {id: string; state: string; desired: string; health: string; ports: Array<{endpoint: string | null}>}

async function measure(tb: Testbed, cli: CliSandbox, procs: Proc[]): Promise<number[]> {
  const [edgeHost] = tb.hosts
  await must(cli, ['add-node', ...tb.hosts.map((h) => `root@${h.ip}`), '--key', tb.keyPath, '--runtime', 'podman', '--resources', 'cpus=2,mem=1Gi'])
  const nodes = JSON.parse(await must(cli, ['nodes', '--json'])) as Array<{name: string; address: unknown}>
  const edgeNode = nodes.find((n) => JSON.stringify(n.address).includes(`"${edgeHost!.ip}"`))!.name
  const {image, archive} = await ensureHaproxyImage(tb)
  await must(cli, ['image', 'push', archive, '--nodes', edgeNode])
  await must(cli, ['edge', 'image', image])
  await must(cli, ['node', 'edge', edgeNode])
  const daemon = startDaemon(cli)
  procs.push(daemon)
  await daemon.waitFor(/acting as the controller/)
  const spec = [
    'name: web',
    `image: ${tb.image}`,
    'instances: 1',
    'mem: 16Mi',
    'cpus: 0.25',
    'ports: [8080]',
    `servicePort: ${SERVICE_PORT}`,
    `command: ${JSON.stringify('mkdir -p /www && echo $CLUSTERCTL_TASK > /www/index.html && exec httpd -f -p 8080 -h /www')}`,
    'healthCheck: {http: "8080/", gracePeriod: 1s, interval: 1s, timeout: 2s, maxConsecutiveFailures: 2}',
  ].join('\n')
  await must(cli, ['apply', '-f', '-'], spec)
  await must(cli, ['rollout', 'status', 'web'])
  const edgeUrl = `http://${edgeHost!.ip}:${SERVICE_PORT}/`
  const running = async (): Promise<Task[]> => (JSON.parse(await must(cli, ['ps', 'web', '--json'])) as Task[]).filter((t) => t.desired === 'run' && t.state === 'running')
  const [first] = await running()
  await firstAnswer(() => edgeUrl, (b) => b === first!.id, 60_000)
  const samples: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    await must(cli, ['scale', 'web', '2'])
    // the new task and its host port, as soon as the pass has started it
    let fresh: Task | undefined
    const seen = Date.now()
    while (!fresh?.ports[0]?.endpoint) {
      if (Date.now() - seen > 60_000) throw new Error('the second instance did not start')
      fresh = (await running()).find((t) => t.id !== first!.id)
      if (!fresh?.ports[0]?.endpoint) await sleep(PROBE_MS)
    }

    const direct = `http://${fresh.ports[0].endpoint}/`
    const id = fresh.id
    const [ready, traffic] = await Promise.all([firstAnswer(() => direct, (b) => b === id, 60_000), firstAnswer(() => edgeUrl, (b) => b === id, 60_000)])
    samples.push(traffic - ready)
    await must(cli, ['scale', 'web', '1'])
    // back to the one first instance on the edge before the next sample
    const back = Date.now()
    while ((await running()).length !== 1) {
      if (Date.now() - back > 60_000) throw new Error('the second instance did not stop')
      await sleep(200)
    }
  }

  await stopAll(procs)
  await must(cli, ['rm', 'web'])
  await must(cli, ['node', 'edge', edgeNode, '--off'])
  return samples
}

export async function run(): Promise<BenchSection> {
  if (await loadTestbed()) throw new Error(`a testbed is already up in ${testbedBaseDir()}: run under \`flock /tmp/cctl-e2e.lock npm run bench -- edge-ready\`.`)
  const tb = await upTestbed({hosts: 2})
  const cli = new CliSandbox('clusterctl-bench-ready-')
  const procs: Proc[] = []
  try {
    const samples = await measure(tb, cli, procs)
    const sorted = [...samples].sort((a, b) => a - b)
    const median = sorted[Math.floor(sorted.length / 2)]!
    return {
      title: 'Edge proxy: from ready to receiving traffic',
      body: [
        `A service of one instance scaled to two, ${SAMPLES} times, on the testbed (2 realistic hosts: ~1 s login shells; h1 the edge, HAProxy from the Debian package), \`clusterctl daemon --interval ${PASS_INTERVAL_MS}ms\`, health check every 1 s. Ready: the new instance's first answer on its own host port; traffic: its first answer through the edge (both probed every ${PROBE_MS} ms on new connections, same clock).`,
        '',
        '| | ms | passes (÷ the pass interval) |',
        '|---|---:|---:|',
        `| median | ${median} | ${(median / PASS_INTERVAL_MS).toFixed(1)} |`,
        `| fastest | ${sorted[0]} | ${(sorted[0]! / PASS_INTERVAL_MS).toFixed(1)} |`,
        `| slowest | ${sorted.at(-1)} | ${(sorted.at(-1)! / PASS_INTERVAL_MS).toFixed(1)} |`,
        '',
        `Samples (ms): ${samples.join(', ')}. The path: the health check passes (checked every 1 s, over the node's shell session), the pass records the task ready, and the edge sync of that pass enables the server through HAProxy's runtime API.`,
      ].join('\n'),
    }
  } finally {
    await stopAll(procs)
    cli.cleanup()
    await downTestbed()
  }
}
