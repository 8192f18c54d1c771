/**
 * Rolling deployments on the testbed (podman, h1-h3): a 4-instance service with
 * maxUnavailable 1 / maxSurge 0 updated while a watcher on every host samples the
 * running containers every 100 ms; a version that fails its health check rolls back
 * by itself without the old version dropping below its bound; kill -9 of the daemon
 * mid-rollout and a new daemon resumes it; a canary waits for `rollout promote`; a new
 * spec mid-rollout supersedes it and converges to the newest spec (docs/deployments.md).
 */
import {expect} from 'chai'

import {sshRun, type Testbed} from '../testbed/testbed.js'
import {CliSandbox} from './cli.js'
import {type Proc, startDaemon, stopAll} from './daemon-process.js'
import {getTestbed} from './fixture.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** `rollout status --no-follow --json`, with its exit code. */
interface NoFollow {
  version: number
  outcome: string
  updated: number
  desired: number
  exitCode: number
}

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
  /** A daemon (removed by afterEach) driving the passes, and version 1 of web rolled out under it. */
  const daemonWithVersionOne = async (upgrade: string): Promise<Proc> => {
    const daemon = startDaemon(cli)
    procs.push(daemon)
    await daemon.waitFor(/acting as the controller/)
    expect((await cli.run(['apply', '-f', '-'], {input: webSpec(tb, 'one', upgrade)})).exitCode).to.equal(0)
    expect((await cli.run(['rollout', 'status', 'web'])).exitCode).to.equal(0)
    return daemon
  }

  const history = async (): Promise<string[]> => (await cli.run(['rollout', 'history', 'web', '--json'])).json<Array<{version: number; cause: string; state: string}>>().map((d) => `${d.version}:${d.cause}:${d.state}`)

  /** `rollout status --no-follow --json` polled every 500 ms (never a follow that could wait forever) until `until` holds. */
  const pollStatus = async (until: (s: NoFollow) => boolean, what: string, timeoutMs = 120_000): Promise<NoFollow> => {
    const deadline = Date.now() + timeoutMs
    let last: NoFollow | undefined
    for (;;) {
      const r = await cli.run(['rollout', 'status', 'web', '--no-follow', '--json'])
      last = {...r.json<Omit<NoFollow, 'exitCode'>>(), exitCode: r.exitCode}
      if (until(last)) return last
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000}s; last status ${JSON.stringify(last)}; the job's events: ${(await cli.run(['events', '--job', 'web'])).stdout}`)
      await sleep(500)
    }
  }

  const running = async (): Promise<Array<{id: string; instance: number; health: string}>> => (await cli.run(['ps', 'web', '--json'])).json<Array<{id: string; instance: number; state: string; desired: string; health: string}>>().filter((t) => t.state === 'running' && t.desired === 'run')

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
    const daemon = await daemonWithVersionOne(upgrade)
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

  it('a canary waits for promote: one new instance beside the 4 old ones, the old ones untouched while it waits, then `rollout promote` rolls the rest', async () => {
    const upgrade = '{canary: 1, maxUnavailable: 0, maxSurge: 1, minHealthyTime: 2s}'
    await daemonWithVersionOne(upgrade)
    const one = await specHash()
    const olds = (await running()).map((t) => t.id).sort()
    expect(olds).to.have.length(4)
    const watch = watchContainers(tb, 'web')
    await sleep(2_000)
    const applied = await cli.run(['apply', '-f', '-'], {input: webSpec(tb, 'two', upgrade)})
    expect(applied.exitCode, applied.stdout + applied.stderr).to.equal(0)
    const two = await specHash()
    const waiting = await pollStatus((s) => s.outcome === 'waiting', 'the canary did not become available')
    expect(waiting.exitCode).to.equal(4)
    expect(waiting).to.include({version: 2, updated: 1, desired: 4})
    const waitingSince = Date.now()
    await sleep(10_000)
    const still = await pollStatus(() => true, '')
    expect(still, JSON.stringify(still)).to.include({outcome: 'waiting', version: 2, updated: 1, exitCode: 4})
    const tasks = await running()
    expect(tasks.filter((t) => olds.includes(t.id)).map((t) => t.id).sort(), 'the old tasks run on, untouched').to.deep.equal(olds)
    expect(tasks.filter((t) => !olds.includes(t.id)), JSON.stringify(tasks)).to.have.length(1)
    const samples = await watch.stop()
    const held = samples.filter((s) => s.at >= waitingSince)
    expect(held.length).to.be.greaterThan(20)
    const heldWrong = held.filter((s) => s.total !== 5 || s.byHash.get(one) !== 4 || s.byHash.get(two) !== 1)
    expect(heldWrong.length, `samples while waiting not 4 old + 1 canary: ${JSON.stringify(heldWrong.slice(0, 3).map((s) => [s.at, [...s.byHash]]))}`).to.equal(0)
    expect(Math.max(...samples.map((s) => s.total))).to.be.at.most(5)
    expect(Math.min(...samples.map((s) => s.byHash.get(one) ?? 0))).to.equal(4)
    expect(await history()).to.deep.equal(['2:apply:running', '1:create:succeeded'])

    const promoted = await cli.run(['rollout', 'promote', 'web'])
    expect(promoted.exitCode, promoted.stdout + promoted.stderr).to.equal(0)
    const rolled = await cli.run(['rollout', 'status', 'web'])
    expect(rolled.exitCode, rolled.stdout + rolled.stderr).to.equal(0)
    expect(await history()).to.deep.equal(['2:apply:succeeded', '1:create:succeeded'])
    const after = await running()
    expect(after, JSON.stringify(after)).to.have.length(4)
    expect(after.filter((t) => olds.includes(t.id))).to.have.length(0)
    const left = await Promise.all(tb.hosts.filter((h) => h.runtimes.length > 0).map((h) => sshRun(tb, h.name, `podman ps --filter label=io.clusterctl.job=web --format '{{index .Labels "io.clusterctl.spec-hash"}}'`)))
    expect(left.flatMap((r) => r.stdout.split('\n').filter(Boolean)).sort()).to.deep.equal([two, two, two, two])
  })

  it('superseding a rollout mid-way converges to the newest spec: version 2 recorded superseded, version 3 rolls out from the mixed state within the bounds', async () => {
    const upgrade = '{maxUnavailable: 0, maxSurge: 1, minHealthyTime: 3s}'
    await daemonWithVersionOne(upgrade)
    const one = await specHash()
    const watch = watchContainers(tb, 'web')
    // the controller's view, every ~second: running tasks whose health check passes (the bound is on these)
    let watching = true
    const healthy: number[] = []
    const healthWatch = (async () => {
      while (watching) {
        healthy.push((await running()).filter((t) => t.health === 'healthy').length)
        await sleep(300)
      }
    })()
    let two = ''
    let three = ''
    try {
      await sleep(2_000)
      expect((await cli.run(['apply', '-f', '-'], {input: webSpec(tb, 'two', upgrade)})).exitCode).to.equal(0)
      two = await specHash()
      const mid = await pollStatus((s) => s.updated >= 1, 'version 2 did not progress')
      expect(mid.updated, JSON.stringify(mid)).to.be.below(4)
      const applied = await cli.run(['apply', '-f', '-'], {input: webSpec(tb, 'three', upgrade)})
      expect(applied.exitCode, applied.stdout + applied.stderr).to.equal(0)
      three = await specHash()
      expect(await history()).to.deep.equal(['3:apply:running', '2:apply:superseded', '1:create:succeeded'])
      const rolled = await cli.run(['rollout', 'status', 'web'])
      expect(rolled.exitCode, rolled.stdout + rolled.stderr).to.equal(0)
      await sleep(1_000)
    } finally {
      watching = false
      await healthWatch
    }

    const samples = await watch.stop()
    const totals = samples.map((s) => s.total)
    console.log(`      ${samples.length} samples: running containers between ${Math.min(...totals)} and ${Math.max(...totals)}; ${healthy.length} controller views: healthy between ${Math.min(...healthy)} and ${Math.max(...healthy)}`)
    expect(samples.length).to.be.greaterThan(20)
    const events = async (): Promise<string> => (await cli.run(['events', '--job', 'web'])).stdout
    expect(Math.max(...totals), await events()).to.be.at.most(5)
    expect(Math.min(...totals), await events()).to.be.at.least(4)
    expect(Math.min(...healthy), await events()).to.be.at.least(4)
    const last = samples.at(-1)!
    expect([...last.byHash]).to.deep.equal([[three, 4]])
    expect(samples.some((s) => (s.byHash.get(one) ?? 0) > 0 && (s.byHash.get(two) ?? 0) > 0), 'versions 1 and 2 ran side by side').to.equal(true)
    expect(await history()).to.deep.equal(['3:apply:succeeded', '2:apply:superseded', '1:create:succeeded'])
    const superseded = (await cli.run(['events', '--job', 'web', '--json'])).json<Array<{type: string; message: string}>>()
    expect(superseded.some((e) => e.type === 'deployment.superseded' && /version 2 superseded by version 3/.test(e.message)), JSON.stringify(superseded.map((e) => e.message))).to.equal(true)
  })
})
