/**
 * Edge proxies on the testbed (docs/endpoints.md, issue 13): h1 and h2 are edge nodes
 * running the testbed's HAProxy image (Debian's 2.6, pushed with `image push`), h1-h3 run
 * the tasks (podman). A client sends a request every 50 ms to the service port of both
 * edges, alternating, each on a new connection, through rolling updates, a scale down and
 * a kill -9 of the daemon, and counts every failed request; afterwards each edge's
 * runtime API lists exactly the tasks the state has, and each runs one master and one
 * worker (no old HAProxy process left).
 */
import {expect} from 'chai'
import http from 'node:http'

import {parseServerStats} from '../../src/core/edge/haproxy.js'
import {crashHost, ensureHaproxyImage, restartHost, sshRun, type Testbed} from '../testbed/testbed.js'
import {CliSandbox} from './cli.js'
import {type Proc, startDaemon, stopAll} from './daemon-process.js'
import {getTestbed} from './fixture.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const SERVICE_PORT = 10_080

function webSpec(tb: Testbed, greeting: string, instances = 3, extra: readonly string[] = []): string {
  return [
    ...extra,
    'name: web',
    `image: ${tb.image}`,
    `instances: ${instances}`,
    'mem: 16Mi',
    // a quarter of a core: at the end one instance takes every request (busybox httpd forks one process per request)
    'cpus: 0.25',
    'ports: [8080]',
    `servicePort: ${SERVICE_PORT}`,
    `command: ${JSON.stringify(`mkdir -p /www && echo ${greeting} > /www/index.html && exec httpd -f -p 8080 -h /www`)}`,
    'healthCheck: {http: "8080/", gracePeriod: 1s, interval: 1s, timeout: 2s, maxConsecutiveFailures: 2}',
    'upgrade: {maxUnavailable: 0, maxSurge: 1, minHealthyTime: 1s}',
  ].join('\n')
}

/** One GET on a new connection: the body, or why it failed. */
function getOnce(url: string): Promise<{ok: boolean; body: string}> {
  return new Promise((resolve) => {
    const req = http.get(url, {agent: false, timeout: 3000}, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ok: res.statusCode === 200, body: res.statusCode === 200 ? body.trim() : `HTTP ${res.statusCode}`}))
      res.on('error', (e) => resolve({ok: false, body: e.message}))
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', (e) => resolve({ok: false, body: e.message}))
  })
}

/** A client hitting the edges' service port every 50 ms (alternating edges) until stopped. */
function steadyClient(urls: readonly string[]): {stop(): Promise<{sent: number; failed: Array<{sentAt: number; at: number; url: string; why: string}>; bodies: Map<string, number>; slowest: number}>} {
  let running = true
  const failed: Array<{sentAt: number; at: number; url: string; why: string}> = []
  let slowest = 0
  const bodies = new Map<string, number>()
  let sent = 0
  const inflight = new Set<Promise<void>>()
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const url = urls[i % urls.length]!
      sent++
      const sentAt = Date.now()
      const p = getOnce(url).then((r) => {
        slowest = Math.max(slowest, Date.now() - sentAt)
        if (r.ok) bodies.set(r.body, (bodies.get(r.body) ?? 0) + 1)
        else failed.push({sentAt, at: Date.now(), url, why: r.body})
      })
      inflight.add(p)
      void p.finally(() => inflight.delete(p))
      await sleep(50)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      await Promise.all(inflight)
      return {sent, failed, bodies, slowest}
    },
  }
}

/** Asks an edge's HAProxy through its admin socket (the image's perl), as clusterctl does. */
async function askEdge(tb: Testbed, host: string, node: string, command: string): Promise<string> {
  const perl = `use IO::Socket::UNIX; my $s = IO::Socket::UNIX->new(Peer => "/var/lib/clusterctl/edge/${node}/admin.sock") or die "$!"; print $s "${command}\\n"; local $/; print <$s>;`
  const r = await sshRun(tb, host, `podman exec clusterctl-edge perl -e '${perl}'`)
  expect(r.code, r.stderr).to.equal(0)
  return r.stdout
}

describe('e2e: edge proxies (podman, HAProxy from the Debian package)', function () {
  this.timeout(600_000)
  let tb: Testbed
  let cli: CliSandbox
  const procs: Proc[] = []
  /** Clients still sending: stopped after each test, also a failed one (a running client keeps mocha from exiting). */
  const clients: Array<ReturnType<typeof steadyClient>> = []
  const startClient = (): ReturnType<typeof steadyClient> => {
    const c = steadyClient(urls())
    clients.push(c)
    return c
  }
  /** Testbed host name and clusterctl node name of each edge. */
  let edges: Array<{host: string; node: string; ip: string}> = []

  beforeEach(async () => {
    tb = getTestbed()
    cli = new CliSandbox()
    const full = tb.hosts.filter((h) => h.runtimes.length > 0)
    const add = await cli.run(['add-node', ...full.map((h) => `root@${h.ip}`), '--key', tb.keyPath, '--runtime', 'podman', '--resources', 'cpus=2,mem=1Gi'])
    expect(add.exitCode, add.stderr).to.equal(0)
    const nodes = (await cli.run(['nodes', '--json'])).json<Array<{name: string; address: unknown}>>()
    edges = full.slice(0, 2).map((h) => ({host: h.name, ip: h.ip, node: nodes.find((n) => JSON.stringify(n.address).includes(`"${h.ip}"`))!.name}))
    const {image, archive} = await ensureHaproxyImage(tb)
    const pushed = await cli.run(['image', 'push', archive, '--nodes', edges.map((e) => e.node).join(',')])
    expect(pushed.exitCode, pushed.stdout + pushed.stderr).to.equal(0)
    expect((await cli.run(['edge', 'image', image])).exitCode).to.equal(0)
    for (const e of edges) expect((await cli.run(['node', 'edge', e.node])).exitCode).to.equal(0)
  })

  afterEach(async function () {
    this.timeout(180_000)
    for (const c of clients.splice(0)) await c.stop()
    await stopAll(procs)
    const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>()
    for (const j of jobs) await cli.run(['rm', j.name])
    for (const e of edges) {
      const off = await cli.run(['node', 'edge', e.node, '--off'])
      expect(off.exitCode, off.stderr).to.equal(0)
      expect(/could not be removed/.test(off.stderr), `the edge proxy is removed with the mark: ${off.stderr}`).to.equal(false)
      const still = await sshRun(tb, e.host, `podman ps -a --format '{{.Names}} {{.Status}} {{.CreatedAt}}' --filter name=clusterctl-edge`)
      expect(still.stdout.trim(), `the edge proxy on ${e.host} after node edge --off (${off.stdout} ${off.stderr})`).to.equal('')
      await sshRun(tb, e.host, `rm -rf /var/lib/clusterctl/edge/${e.node}`)
    }

    for (const h of tb.hosts.filter((x) => x.runtimes.length > 0)) {
      const left = await sshRun(tb, h.name, `podman ps -a --format '{{.Names}}' --filter label=io.clusterctl.cluster; podman ps -a --format '{{.Names}}' --filter name=clusterctl-edge`)
      expect(left.stdout.trim(), `containers left on ${h.name}`).to.equal('')
    }

    cli.cleanup()
  })

  const urls = (): string[] => edges.map((e) => `http://${e.ip}:${SERVICE_PORT}/`)
  const live = async (): Promise<string[]> => (await cli.run(['ps', 'web', '--json'])).json<Array<{id: string; state: string; desired: string}>>().filter((t) => t.state === 'running' && t.desired === 'run').map((t) => t.id).sort()

  /** Each edge's servers of be_web (the runtime API's list), sorted. */
  const edgeServers = async (e: {host: string; node: string}): Promise<string[]> => {
    const text = await askEdge(tb, e.host, e.node, 'show servers state be_web')
    return text.split('\n').filter((l) => /^\d+ be_web /.test(l)).map((l) => l.split(/\s+/)[3]!).sort()
  }

  /** Waits until every edge serves exactly the running tasks (what the database says). */
  const edgesMatchState = async (timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const want = await live()
      const got = await Promise.all(edges.map(edgeServers))
      if (got.every((g) => JSON.stringify(g) === JSON.stringify(want))) return
      if (Date.now() > deadline) expect(got, `edges' servers vs the state's running tasks`).to.deep.equal(edges.map(() => want))
      await sleep(1000)
    }
  }

  /** The failed requests grouped by second, the edges' view and the daemon's last lines when there are any. */
  const expectNoFailures = async (result: Awaited<ReturnType<ReturnType<typeof steadyClient>['stop']>>, daemon: Proc): Promise<void> => {
    if (result.failed.length === 0) return
    const bySecond = new Map<string, number>()
    for (const f of result.failed) {
      const key = `${new Date(f.at).toISOString().slice(11, 19)} ${f.why}`
      bySecond.set(key, (bySecond.get(key) ?? 0) + 1)
    }

    const states = await Promise.all(edges.map(async (e) => `${e.host}:\n${await askEdge(tb, e.host, e.node, 'show servers state be_web')}\n${await askEdge(tb, e.host, e.node, 'show stat -1 4 -1')}`))
    expect.fail(`${result.failed.length} failed requests: ${JSON.stringify([...bySecond])}\nthe edges now:\n${states.join('\n')}\nthe daemon said:\n${daemon.lines.slice(-80).join('\n')}`)
  }

  const hostOfNode = (node: string): string => tb.hosts.find((h) => node === h.ip || node === h.name)?.name ?? expect.fail(`no testbed host for node ${node}`)

  const haproxyProcesses = async (e: {host: string}): Promise<number> => {
    const r = await sshRun(tb, e.host, `podman exec clusterctl-edge ps -o comm`)
    return r.stdout.split('\n').filter((l) => l.trim() === 'haproxy').length
  }

  /** A daemon (stopped after the test) with `spec` rolled out under it and served by every edge. */
  const daemonServing = async (spec: string): Promise<Proc> => {
    const daemon = startDaemon(cli)
    procs.push(daemon)
    await daemon.waitFor(/acting as the controller/)
    expect((await cli.run(['apply', '-f', '-'], {input: spec})).exitCode).to.equal(0)
    const rolled = await cli.run(['rollout', 'status', 'web'])
    expect(rolled.exitCode, rolled.stdout + rolled.stderr).to.equal(0)
    await edgesMatchState()
    return daemon
  }

  it('0 failed requests through a node drain and a podman kill of an instance', async () => {
    const daemon = await daemonServing(webSpec(tb, 'v1'))
    const client = startClient()
    await sleep(2000)

    // drain the node that holds the most instances: each moves make-before-break, its backend drained first
    const tasks = (await cli.run(['ps', 'web', '--json'])).json<Array<{id: string; node: string; state: string; desired: string}>>().filter((t) => t.state === 'running' && t.desired === 'run')
    const counts = new Map<string, number>()
    for (const t of tasks) counts.set(t.node, (counts.get(t.node) ?? 0) + 1)
    const busiest = [...counts].sort((a, b) => b[1] - a[1])[0]![0]
    const drained = await cli.run(['node', 'drain', busiest, '--force'])
    expect(drained.exitCode, drained.stdout + drained.stderr).to.equal(0)
    await edgesMatchState()
    expect((await cli.run(['node', 'uncordon', busiest])).exitCode).to.equal(0)

    // podman kill of one instance: HAProxy retries the refused connections elsewhere, the pass replaces it
    const victim = (await cli.run(['ps', 'web', '--json'])).json<Array<{id: string; node: string; state: string; desired: string}>>().find((t) => t.state === 'running' && t.desired === 'run')!
    const host = hostOfNode(victim.node)
    const killed = await sshRun(tb, host, `podman kill $(podman ps -q --filter label=io.clusterctl.task=${victim.id})`)
    expect(killed.code, killed.stderr).to.equal(0)
    const deadline = Date.now() + 60_000
    while ((await live()).includes(victim.id) || (await live()).length < 3) {
      if (Date.now() > deadline) expect.fail(`web did not get back to 3 running instances: ${JSON.stringify(await live())}`)
      await sleep(1000)
    }

    await edgesMatchState()
    await sleep(2000)
    const result = await client.stop()
    console.log(`      ${result.sent} requests through the edges (drain of ${busiest}, podman kill of ${victim.id}), ${result.failed.length} failed`)
    await expectNoFailures(result, daemon)

    // `endpoints` reads each edge's HAProxy: every ready instance up on both edges, nothing differs.
    type Endpoint = {live: boolean; mismatch: boolean; edges: Array<{node: string; read: boolean}>; stale: unknown[]; backends: Array<{taskId: string; state: string; mismatch: boolean; edges: Array<{node: string; actual: string; mismatch: boolean}>}>}
    const took: number[] = []
    const endpoints = async (): Promise<{exitCode: number; web: Endpoint; text: string}> => {
      const at = Date.now()
      const r = await cli.run(['endpoints', 'web', '--json'])
      took.push(Date.now() - at)
      return {exitCode: r.exitCode, web: r.json<Endpoint[]>()[0]!, text: r.stdout + r.stderr}
    }

    const agreed = Date.now()
    for (;;) {
      const {exitCode, web, text} = await endpoints()
      expect(exitCode, text).to.equal(0)
      expect(web.edges.map((e) => `${e.node} ${e.read}`).sort(), text).to.deep.equal(edges.map((e) => `${e.node} true`).sort())
      const ready = web.backends.filter((b) => b.state === 'ready')
      // HAProxy's own check may still be bringing a new server up (rise 2): that is a `down` mismatch for a moment.
      if (!web.mismatch && JSON.stringify(ready.map((b) => b.taskId).sort()) === JSON.stringify(await live())) {
        for (const b of ready) expect(b.edges.map((x) => x.actual), text).to.deep.equal(edges.map(() => 'up'))
        expect(web.stale, text).to.deep.equal([])
        break
      }

      if (Date.now() - agreed > 30_000) expect.fail(`endpoints still reports a mismatch: ${text}`)
      await sleep(1000)
    }

    console.log(`      endpoints (both edges read): ${took.map((t) => `${(t / 1000).toFixed(1)}s`).join(' ')}`)
    const ps = (await cli.run(['ps', 'web', '--json'])).json<Array<{serviceAddress: string; servicePort: number}>>()
    expect(ps.map((t) => t.servicePort)).to.deep.equal(ps.map(() => SERVICE_PORT))
    expect(edges.map((e) => `${e.ip}:${SERVICE_PORT}`)).to.include(ps[0]!.serviceAddress)

    // A deliberate difference, without a daemon to repair it at once: one server put in maintenance by hand on one edge
    // is reported as a mismatch (HAProxy maint, clusterctl up), and the next pass (`schedule`) brings it back.
    await stopAll(procs)
    const [target] = await live()
    expect(await askEdge(tb, edges[0]!.host, edges[0]!.node, `disable server be_web/${target}`)).to.not.match(/\w/)
    const differs = await endpoints()
    expect(differs.exitCode, differs.text).to.equal(0)
    expect(differs.web.mismatch, differs.text).to.equal(true)
    const wrong = differs.web.backends.find((b) => b.taskId === target)!
    expect(wrong.mismatch).to.equal(true)
    expect(wrong.edges.map((x) => `${x.node} ${x.actual} ${x.mismatch}`).sort()).to.deep.equal(edges.map((e, i) => `${e.node} ${i === 0 ? 'maint' : 'up'} ${i === 0}`).sort())
    const text = await cli.run(['endpoints', 'web'])
    expect(text.stdout).to.match(/MISMATCH/).and.to.include('the next pass')
    const pass = await cli.run(['schedule'])
    expect(pass.exitCode, pass.stdout + pass.stderr).to.equal(0)
    const after = await endpoints()
    expect(after.web.backends.find((b) => b.taskId === target)!.edges.find((x) => x.node === edges[0]!.node)!.actual, `the pass put it back in rotation: ${after.text}`).to.not.equal('maint')
    const back = Date.now()
    while ((await endpoints()).web.mismatch) {
      if (Date.now() - back > 15_000) expect.fail(`still a mismatch after the pass: ${(await endpoints()).text}`)
      await sleep(1000)
    }
  })

  it('0 failed requests through rolling updates and a scale down; after the redeploys each edge lists exactly the running tasks and runs no old HAProxy process; kill -9 of the daemon leaves the edges serving', async () => {
    const daemon = await daemonServing(webSpec(tb, 'v1'))
    for (const u of urls()) expect((await getOnce(u)).body).to.equal('v1')

    const client = startClient()
    const redeploys = 3
    for (let v = 2; v <= redeploys + 1; v++) {
      expect((await cli.run(['apply', '-f', '-'], {input: webSpec(tb, `v${v}`)})).exitCode).to.equal(0)
      const rolled = await cli.run(['rollout', 'status', 'web'])
      expect(rolled.exitCode, rolled.stdout + rolled.stderr).to.equal(0)
    }

    const scaled = await cli.run(['scale', 'web', '1'])
    expect(scaled.exitCode, scaled.stdout + scaled.stderr).to.equal(0)
    await edgesMatchState()
    expect(await live()).to.have.length(1)
    await sleep(2000)
    const result = await client.stop()
    console.log(`      ${result.sent} requests through the edges, ${result.failed.length} failed; answers ${JSON.stringify([...result.bodies])}`)
    await expectNoFailures(result, daemon)
    expect(result.bodies.get(`v${redeploys + 1}`) ?? 0).to.be.greaterThan(0)

    // No stale backend, no old process (a master and one worker each), also after two reloads (a service added, removed).
    await edgesMatchState()
    for (const e of edges) expect(await haproxyProcesses(e), `haproxy processes on ${e.host}`).to.equal(2)
    const api = await cli.run(['run', 'api', '--image', tb.image, '-p', '8080', '--service-port', '10081', '--mem', '16Mi', '--cpus', '0.05', '--', 'sh', '-c', 'exec httpd -f -p 8080 -h /'])
    expect(api.exitCode, api.stdout + api.stderr).to.equal(0)
    expect((await cli.run(['rm', 'api'])).exitCode).to.equal(0)
    const reloaded = Date.now()
    for (const e of edges) {
      while ((await haproxyProcesses(e)) !== 2) {
        if (Date.now() - reloaded > 40_000) expect.fail(`old HAProxy workers on ${e.host} outlived hard-stop-after: ${(await sshRun(tb, e.host, 'podman exec clusterctl-edge ps')).stdout}`)
        await sleep(1000)
      }
    }

    await edgesMatchState()

    // kill -9 of the daemon: the edges keep serving what they had.
    daemon.child.kill('SIGKILL')
    await daemon.child
    procs.splice(procs.indexOf(daemon), 1)
    const after = startClient()
    await sleep(5000)
    const alone = await after.stop()
    console.log(`      without a controller: ${alone.sent} requests, ${alone.failed.length} failed`)
    expect(alone.failed).to.deep.equal([])
    expect(alone.sent).to.be.greaterThan(50)
  })

  it('redeploys in quick succession, each superseding the last (10; the issue\'s 50 with CLUSTERCTL_E2E_REDEPLOYS=50): 0 failed requests, then each edge lists exactly the running tasks and runs no old HAProxy process', async function () {
    const redeploys = Math.max(1, Number(process.env.CLUSTERCTL_E2E_REDEPLOYS ?? '10'))
    this.timeout(180_000 + redeploys * 20_000)
    const daemon = await daemonServing(webSpec(tb, 'r0'))
    const client = startClient()
    const started = Date.now()
    const applyMs: number[] = []
    for (let v = 1; v <= redeploys; v++) {
      const applied = await cli.run(['apply', '-f', '-'], {input: webSpec(tb, `r${v}`)})
      applyMs.push(applied.durationMs)
      expect(applied.exitCode, applied.stdout + applied.stderr).to.be.oneOf([0, 4])
    }

    const rolled = await cli.run(['rollout', 'status', 'web'])
    expect(rolled.exitCode, rolled.stdout + rolled.stderr).to.equal(0)
    await edgesMatchState()
    await sleep(2000)
    const result = await client.stop()
    const versions = (await cli.run(['rollout', 'history', 'web', '--json'])).json<Array<{state: string}>>()
    const byState = new Map<string, number>()
    for (const r of versions) byState.set(r.state, (byState.get(r.state) ?? 0) + 1)
    const sortedMs = [...applyMs].sort((a, b) => a - b)
    console.log(`      ${redeploys} redeploys in ${((Date.now() - started) / 1000).toFixed(0)} s (each apply waits for the daemon's pass: median ${sortedMs[Math.floor(sortedMs.length / 2)]} ms; versions ${JSON.stringify([...byState])}): ${result.sent} requests, ${result.failed.length} failed; answers from ${result.bodies.size} versions`)
    await expectNoFailures(result, daemon)
    expect(result.bodies.get(`r${redeploys}`) ?? 0).to.be.greaterThan(0)
    for (const e of edges) expect(await haproxyProcesses(e), `haproxy processes on ${e.host}`).to.equal(2)
    expect(await live()).to.have.length(3)
  })

  it('a host crash: failed requests through the edges stop within the failure-detection time plus 1 s, and the edges serve the replacement', async () => {
    await daemonServing(webSpec(tb, 'v1', 3, ['strategy: spread']))
    // the victim: a worker that is not an edge, so the crash takes an instance and no proxy
    const before = (await cli.run(['ps', 'web', '--json'])).json<Array<{id: string; node: string; state: string; desired: string}>>().filter((t) => t.state === 'running' && t.desired === 'run')
    const victim = before.find((t) => !edges.some((e) => e.node === t.node)) ?? expect.fail(`no instance off the edges: ${JSON.stringify(before)}`)
    const host = hostOfNode(victim.node)
    const client = startClient()
    await sleep(3000)
    const crashedAt = Date.now()
    await crashHost(tb, host)
    try {
      const deadline = Date.now() + 60_000
      for (;;) {
        const now = await live()
        if (!now.includes(victim.id) && now.length === 3) break
        if (Date.now() > deadline) expect.fail(`web did not get back to 3 running instances off ${host}: ${JSON.stringify(now)}`)
        await sleep(500)
      }

      // the edges: the running tasks in rotation, the crashed host's in maintenance (kept until its node returns or its task is forgotten)
      const wanted = async (): Promise<boolean> => {
        const want = await live()
        const views = await Promise.all(edges.map(async (e) => parseServerStats(await askEdge(tb, e.host, e.node, 'show stat -1 4 -1'))))
        return views.every((v) => want.every((id) => v.get(`be_web/${id}`)?.status === 'UP') && [undefined, 'MAINT'].includes(v.get(`be_web/${victim.id}`)?.status))
      }
      const settled = Date.now() + 60_000
      while (!(await wanted())) {
        if (Date.now() > settled) expect.fail(`the edges do not have the running tasks up and ${victim.id} in maintenance: ${JSON.stringify(await Promise.all(edges.map((e) => askEdge(tb, e.host, e.node, 'show stat -1 4 -1'))))}`)
        await sleep(1000)
      }

      await sleep(3000)
      const result = await client.stop()
      const down = (await cli.run(['events', '--node', victim.node, '--json'])).json<Array<{at: string; type: string}>>().find((e) => e.type === 'node.down' && Date.parse(e.at) >= crashedAt - 1000)
      expect(down, `node.down of ${victim.node} recorded`).to.not.equal(undefined)
      const detectedMs = Date.parse(down!.at) - crashedAt
      const after = result.failed.filter((f) => f.at >= crashedAt)
      const lastSent = after.length === 0 ? null : Math.max(...after.map((f) => f.sentAt)) - crashedAt
      console.log(`      host crash (${host}): ${result.sent} requests, ${after.length} failed${lastSent === null ? '' : `, the last one sent ${(lastSent / 1000).toFixed(1)} s after the crash`}; node declared down ${(detectedMs / 1000).toFixed(1)} s after the crash; slowest answer ${result.slowest} ms`)
      expect(result.failed.filter((f) => f.at < crashedAt), 'failures before the crash').to.deep.equal([])
      if (lastSent !== null) expect(lastSent, `failures stop within the failure-detection time (${detectedMs} ms) plus 1 s: ${JSON.stringify(after.slice(-5))}`).to.be.at.most(detectedMs + 1000)
    } finally {
      await client.stop()
      await restartHost(tb, host)
    }
  })
})
