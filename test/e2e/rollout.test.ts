/**
 * Rolling deployments on the testbed (podman, h1-h3): a 4-instance service with
 * maxUnavailable 1 / maxSurge 0 updated while a watcher on every host samples the
 * running containers every 100 ms; a version that fails its health check rolls back
 * by itself without the old version dropping below its bound; kill -9 of the daemon
 * mid-rollout and a new daemon resumes it (docs/deployments.md).
 */
import {expect} from 'chai'

import {sshRun, type Testbed} from '../testbed/testbed.js'
import {CliSandbox} from './cli.js'
import {type Proc, startDaemon, stopAll} from './daemon-process.js'
import {getTestbed} from './fixture.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** An httpd on 8080 saying its greeting; `broken` never listens, so its http check fails. */
function webSpec(tb: Testbed, greeting: string, upgrade: string, options: {broken?: boolean} = {}): string {
  const command = options.broken ? `trap 'exit 0' TERM; sleep 3600 & wait` : `mkdir -p /www && echo ${greeting} > /www/index.html && exec httpd -f -p 8080 -h /www`
  return [
    'name: web',
    `image: ${tb.image}`,
    'instances: 4',
    'mem: 16Mi',
    'cpus: 0.05',
    'ports: [8080]',
    `env: {GREETING: ${greeting}}`,
    `command: ${JSON.stringify(command)}`,
    'healthCheck: {http: "8080/", gracePeriod: 2s, interval: 1s, timeout: 2s, maxConsecutiveFailures: 2}',
    `upgrade: ${upgrade}`,
  ].join('\n')
}

interface Sample {
  at: number
  hashes: string[]
}

/**
 * Samples, on each host, the spec hashes of the job's running containers every 100 ms
 * (one ssh session per host, so the 1 s login shell is paid once), until stopped. The
 * hosts share one clock: the totals over time sum, per host, the containers of the
 * samples on both sides of each time.
 */
function watchContainers(tb: Testbed, job: string): {stop(): Promise<Array<{at: number; total: number; byHash: Map<string, number>}>>} {
  const flag = `/tmp/cctl-watch-${process.pid}-${Date.now()}`
  const hosts = tb.hosts.filter((h) => h.runtimes.length > 0).map((h) => h.name)
  const script = `rm -f ${flag}; while [ ! -f ${flag} ]; do echo "$(date +%s%3N) $(podman ps --filter label=io.clusterctl.job=${job} --format '{{index .Labels "io.clusterctl.spec-hash"}}' | tr '\\n' ' ')"; sleep 0.1; done`
  const runs = hosts.map((h) => sshRun(tb, h, script, {timeoutMs: 600_000}))
  return {
    async stop() {
      await sshRun(tb, hosts[0]!, `touch ${flag}`)
      await Promise.all(hosts.slice(1).map((h) => sshRun(tb, h, `touch ${flag}`)))
      const series: Sample[][] = (await Promise.all(runs)).map((r) => r.stdout.split('\n').filter(Boolean).map((line) => {
        const [at, ...hashes] = line.trim().split(/\s+/)
        return {at: Number(at), hashes}
      }))
      for (const h of hosts) await sshRun(tb, h, `rm -f ${flag}`)
      const times = [...new Set(series.flatMap((s) => s.map((x) => x.at)))].sort((a, b) => a - b)
      const start = Math.max(...series.map((s) => s[0]?.at ?? Infinity))
      const end = Math.min(...series.map((s) => s.at(-1)?.at ?? -Infinity))
      const counts = (hashes: readonly string[]): Map<string, number> => {
        const m = new Map<string, number>()
        for (const h of hashes) m.set(h, (m.get(h) ?? 0) + 1)
        return m
      }

      // A host's containers at time t: those in both its samples around t (a container seen
      // before and after t surely existed at t). Summing each host's latest sample alone would
      // count a container stopped on one host and its replacement started on another as both.
      return times.filter((t) => t >= start && t <= end).map((t) => {
        const byHash = new Map<string, number>()
        for (const s of series) {
          const before = counts([...s].reverse().find((x) => x.at <= t)?.hashes ?? [])
          const after = counts(s.find((x) => x.at >= t)?.hashes ?? [])
          for (const [h, n] of before) byHash.set(h, (byHash.get(h) ?? 0) + Math.min(n, after.get(h) ?? 0))
        }

        return {at: t, total: [...byHash.values()].reduce((a, b) => a + b, 0), byHash}
      })
    },
  }
}

describe('e2e: rolling deployments (podman)', function () {
  this.timeout(300_000)
  let tb: Testbed
  let cli: CliSandbox
  const procs: Proc[] = []

  beforeEach(async () => {
    tb = getTestbed()
    cli = new CliSandbox()
    const full = tb.hosts.filter((h) => h.runtimes.length > 0)
    const add = await cli.run(['add-node', ...full.map((h) => `root@${h.ip}`), '--key', tb.keyPath, '--runtime', 'podman', '--resources', 'cpus=2,mem=1Gi'])
    expect(add.exitCode, add.stderr).to.equal(0)
  })

  afterEach(async function () {
    this.timeout(120_000)
    await stopAll(procs)
    const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>()
    for (const j of jobs) await cli.run(['rm', j.name])
    for (const h of tb.hosts.filter((x) => x.runtimes.length > 0)) {
      const left = await sshRun(tb, h.name, `podman ps -aq --filter label=io.clusterctl.cluster`)
      expect(left.stdout.trim(), `containers left on ${h.name}`).to.equal('')
    }

    cli.cleanup()
  })

  const specHash = async (): Promise<string> => (await cli.run(['jobs', '--json'])).json<Array<{name: string; specHash: string}>>().find((j) => j.name === 'web')!.specHash
  const history = async (): Promise<string[]> => (await cli.run(['rollout', 'history', 'web', '--json'])).json<Array<{version: number; cause: string; state: string}>>().map((d) => `${d.version}:${d.cause}:${d.state}`)

  it('4 instances, maxUnavailable 1, maxSurge 0: a watcher every 100 ms never sees fewer than 3 nor more than 4 running containers, and the update completes', async () => {
    const upgrade = '{maxUnavailable: 1, maxSurge: 0, minHealthyTime: 2s}'
    expect((await cli.run(['apply', '-f', '-'], {input: webSpec(tb, 'one', upgrade)})).exitCode).to.equal(0)
    const first = await cli.run(['rollout', 'status', 'web'])
    expect(first.exitCode, first.stdout + first.stderr).to.equal(0)
    const watch = watchContainers(tb, 'web')
    await sleep(2_000)
    const applied = await cli.run(['apply', '-f', '-'], {input: webSpec(tb, 'two', upgrade)})
    expect(applied.exitCode, applied.stdout + applied.stderr).to.equal(0)
    const rolled = await cli.run(['rollout', 'status', 'web'])
    expect(rolled.exitCode, rolled.stdout + rolled.stderr).to.equal(0)
    await sleep(1_000)
    const samples = await watch.stop()
    const totals = samples.map((s) => s.total)
    console.log(`      ${samples.length} samples: running containers between ${Math.min(...totals)} and ${Math.max(...totals)}`)
    expect(samples.length).to.be.greaterThan(20)
    expect(Math.min(...totals)).to.be.at.least(3)
    expect(Math.max(...totals)).to.be.at.most(4)
    const now = await specHash()
    expect(samples.at(-1)!.byHash.get(now)).to.equal(4)
    expect(await history()).to.deep.equal(['2:apply:succeeded', '1:create:succeeded'])
  })

  it('a version that fails its health check rolls back by itself; the healthy old version never drops below 3 of 4', async () => {
    const upgrade = '{maxUnavailable: 1, maxSurge: 0, minHealthyTime: 1s}'
    expect((await cli.run(['apply', '-f', '-'], {input: webSpec(tb, 'one', upgrade)})).exitCode).to.equal(0)
    expect((await cli.run(['rollout', 'status', 'web'])).exitCode).to.equal(0)
    const good = await specHash()
    const watch = watchContainers(tb, 'web')
    await sleep(2_000)
    expect((await cli.run(['apply', '-f', '-'], {input: webSpec(tb, 'broken', upgrade, {broken: true})})).exitCode).to.equal(0)
    const rolled = await cli.run(['rollout', 'status', 'web'])
    expect(rolled.exitCode, rolled.stdout + rolled.stderr).to.equal(1)
    expect(rolled.stdout).to.match(/version 2 failed; now version 3 \(rollback\) succeeded/)
    await sleep(1_000)
    const samples = await watch.stop()
    const goods = samples.map((s) => s.byHash.get(good) ?? 0)
    console.log(`      ${samples.length} samples: healthy old-version containers between ${Math.min(...goods)} and ${Math.max(...goods)}, all between ${Math.min(...samples.map((s) => s.total))} and ${Math.max(...samples.map((s) => s.total))}`)
    expect(Math.min(...goods)).to.be.at.least(3)
    const over = samples.filter((s) => s.total > 4)
    expect(over.length, `${over.length} samples with more than 4 containers, from ${JSON.stringify(over.slice(0, 3).map((s) => [s.at, [...s.byHash]]))}; the job's events: ${(await cli.run(['events', '--job', 'web'])).stdout}`).to.equal(0)
    expect(samples.at(-1)!.byHash.get(good)).to.equal(4)
    expect(await specHash()).to.equal(good)
    expect(await history()).to.deep.equal(['3:rollback:succeeded', '2:apply:failed', '1:create:succeeded'])
    const events = (await cli.run(['events', '--job', 'web', '--json'])).json<Array<{type: string; message: string}>>()
    expect(events.some((e) => e.type === 'deployment.failed' && /1 new instance failed \(failure budget 0\); rolling back to version 1/.test(e.message)), JSON.stringify(events.map((e) => e.message))).to.equal(true)
  })

  it('kill -9 of the daemon mid-rollout: a new daemon resumes it from what it observes (no new version, no task started twice)', async () => {
    const upgrade = '{maxUnavailable: 0, maxSurge: 1, minHealthyTime: 3s}'
    const daemon = startDaemon(cli)
    procs.push(daemon)
    await daemon.waitFor(/acting as the controller/)
    expect((await cli.run(['apply', '-f', '-'], {input: webSpec(tb, 'one', upgrade)})).exitCode).to.equal(0)
    expect((await cli.run(['rollout', 'status', 'web'])).exitCode).to.equal(0)
    expect((await cli.run(['apply', '-f', '-'], {input: webSpec(tb, 'two', upgrade)})).exitCode).to.equal(0)
    const deadline = Date.now() + 120_000
    for (;;) {
      const s = (await cli.run(['rollout', 'status', 'web', '--no-follow', '--json'])).json<{updated: number; desired: number}>()
      if (s.updated >= 1 && s.updated < s.desired) break
      if (Date.now() > deadline) throw new Error('the rollout did not progress')
      await sleep(200)
    }

    daemon.child.kill('SIGKILL')
    await daemon.child
    procs.splice(procs.indexOf(daemon), 1)
    const again = startDaemon(cli)
    procs.push(again)
    await again.waitFor(/acting as the controller/, 30_000)
    const rolled = await cli.run(['rollout', 'status', 'web'])
    expect(rolled.exitCode, rolled.stdout + rolled.stderr).to.equal(0)
    expect(await history()).to.deep.equal(['2:apply:succeeded', '1:create:succeeded'])
    // 4 tasks of version 1 and 4 of version 2: none started twice, none replaced for nothing
    const all = (await cli.run(['ps', 'web', '--all', '--json'])).json<Array<{id: string; state: string}>>()
    expect(all.length, JSON.stringify(all)).to.equal(8)
    expect(all.filter((t) => t.state === 'running')).to.have.length(4)
  })
})
