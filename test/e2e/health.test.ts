/**
 * The health probe on real testbed hosts (about 1 s login shells: one round trip each):
 * `node doctor` on a healthy host, a real fault - the host's runtime store remounted
 * read-only (a bind mount of itself, made read-only) - raising ReadOnlyFilesystem, which
 * keeps new work off the node; a kernel-log line (the host's own kmsg file, never the
 * machine's) raising a critical GPU condition; and the pass probing a node that was never
 * probed, in the observation's round trip.
 */
import {expect} from 'chai'
import {execa} from 'execa'
import fs from 'node:fs'
import path from 'node:path'

import {sshRun, type TestbedHost} from '../testbed/testbed.js'
import {CliSandbox} from './cli.js'
import {type Proc, startCli, stopAll} from './daemon-process.js'
import {clusterContainers, getTestbed} from './fixture.js'

interface NodeRow {
  name: string
  healthProbedAt: string | null
  conditions: Array<{type: string; severity: string; reason: string; message: string; blocksWork: boolean}>
}

interface Doctor {
  verdict: string
  nodes: Array<{name: string; probed: boolean; probeMs: number | null; conditions: NodeRow['conditions']}>
}

const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait']

/** Three podman hosts of the test bed, added to the sandbox's cluster. */
async function addPodmanHosts(cli: CliSandbox): Promise<TestbedHost[]> {
  const tb = getTestbed()
  const hosts = tb.hosts.filter((h) => h.runtimes.includes('podman')).slice(0, 3)
  expect(hosts.length).to.equal(3)
  const add = await cli.run(['add-node', ...hosts.map((h) => `root@${h.ip}`), '--key', tb.keyPath, '--runtime', 'podman'])
  expect(add.exitCode, add.stderr).to.equal(0)
  return hosts
}

describe('e2e: node health (probe, conditions, node doctor)', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let hosts: TestbedHost[]
  const mounted: Array<{host: string; dir: string}> = []
  const fed: string[] = []

  const store = (h: TestbedHost): string => path.join(h.dir, 'podman', 'root')
  const uptime = (): number => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0])

  before(async () => {
    cli = new CliSandbox()
    hosts = await addPodmanHosts(cli)
  })

  after(async () => {
    for (const m of mounted.reverse()) await sshRun(getTestbed(), m.host, `umount ${m.dir}`)
    for (const f of fed) fs.rmSync(f, {force: true})
    if (cli) {
      await cli.removeAllJobs()

      cli.cleanup()
    }
  })

  it('node doctor on healthy hosts: one round trip each, no condition on the store, exit 0 or 1 by what the machine has', async () => {
    const r = await cli.run(['node', 'doctor', '--json'])
    const doc = r.json<Doctor>()
    expect(doc.nodes.map((n) => n.probed)).to.deep.equal([true, true, true])
    for (const n of doc.nodes) expect(n.conditions.map((c) => c.type)).not.to.include.members(['ReadOnlyFilesystem', 'RuntimeUnhealthy'])
    expect(r.exitCode).to.equal(doc.verdict === 'healthy' ? 0 : doc.verdict === 'warnings' ? 1 : 2)
    // The figures for the report (docs/health.md): the probe's round trip beside the command's wall time.
    console.log(`      doctor of 3 hosts: ${r.durationMs} ms wall; probe round trips ${doc.nodes.map((n) => `${n.probeMs} ms`).join(', ')}`)
    const text = await cli.run(['node', 'doctor', hosts[0]!.ip])
    expect(text.stdout).to.match(new RegExp(`^Node ${hosts[0]!.ip.replace(/\./g, '\\.')}: (healthy|warnings|critical) \\(probed in \\d+ ms\\)`))
    expect(text.stdout).to.match(/disks {5}\/ \d+% free .*, \/\S+\/podman\/root \d+% free/)
  })

  it('a runtime store remounted read-only raises ReadOnlyFilesystem: shown in doctor, nodes and inspect, and no new work lands there', async () => {
    const [h1] = hosts
    const dir = store(h1!)
    // A real fault on the host, in its own mount namespace: its store becomes a read-only mount (a bind mount of itself).
    const ro = await sshRun(getTestbed(), h1!.name, `mount --bind ${dir} ${dir} && mount -o remount,ro,bind ${dir} && touch ${dir}/probe-write-test; echo "touch=$?"`)
    mounted.push({host: h1!.name, dir})
    expect(ro.stdout + ro.stderr).to.match(/Read-only file system/)
    const r = await cli.run(['node', 'doctor', h1!.ip, '--json'])
    expect(r.exitCode, r.stdout).to.be.oneOf([1, 2])
    const cond = r.json<Doctor>().nodes[0]!.conditions.find((c) => c.type === 'ReadOnlyFilesystem')
    expect(cond, r.stdout).to.deep.include({severity: 'warning', reason: 'MountedReadOnly', blocksWork: true})
    expect(cond!.message).to.include(dir)
    const table = (await cli.run(['nodes'])).stdout
    expect(table.split('\n').find((l) => l.startsWith(`${h1!.ip} `)), table).to.include('ReadOnlyFilesystem')
    const inspect = (await cli.run(['node', 'inspect', h1!.ip])).stdout
    expect(inspect).to.match(/Conditions\n[\s\S]*ReadOnlyFilesystem\s+warning\s+MountedReadOnly/)
    const events = (await cli.run(['events', '--json'])).json<Array<{type: string; subject: string; message: string}>>()
    expect(events.some((e) => e.type === 'node.condition.raised' && e.subject === h1!.ip && e.message.startsWith('ReadOnlyFilesystem raised'))).to.equal(true)

    // Three instances on three nodes, one each at most: the node with the condition takes none.
    const run = await cli.run(['run', 'spread', '--image', 'localhost/clusterctl-test:latest', '--instances', '3', '--mem', '16Mi', '--constraint', 'hostname:UNIQUE', '--', ...SLEEPER])
    expect(run.exitCode, run.stdout + run.stderr).to.equal(4)
    const ps = (await cli.run(['ps', 'spread', '--json'])).json<Array<{node: string | null; state: string; reason: string | null}>>()
    expect(ps.filter((t) => t.state === 'running').map((t) => t.node).sort()).to.deep.equal([hosts[1]!.ip, hosts[2]!.ip].sort())
    const pending = ps.find((t) => t.state === 'pending')!
    expect(pending.reason, pending.reason ?? 'no reason').to.match(/0\/3 nodes fit: .*1 with a health condition \(clusterctl node doctor\)/)
    expect((await cli.run(['rm', 'spread'])).exitCode).to.equal(0)
  })

  it('a GPU Xid 79 in the host kernel log is a critical condition: doctor exits 2 and says to drain', async () => {
    const h2 = hosts[1]!
    const log = path.join(h2.dir, 'kmsg.log')
    fed.push(log)
    fs.appendFileSync(log, `[${uptime().toFixed(6)}] NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, GPU has fallen off the bus.\n`)
    const r = await cli.run(['node', 'doctor', h2.ip])
    expect(r.exitCode, r.stdout).to.equal(2)
    expect(r.stdout).to.match(/Node \S+: critical/)
    expect(r.stdout).to.match(/GPUError\s+critical\s+GPUXidCritical/)
    expect(r.stdout).to.include('drain the node and reset the GPU')
    const nodes = (await cli.run(['nodes', '--json'])).json<NodeRow[]>()
    expect(nodes.find((n) => n.name === h2.ip)!.conditions.map((c) => c.type)).to.include('GPUError')
  })

  it('a pass probes a node never probed, in its observation round trip, and records its conditions', async () => {
    const tb = getTestbed()
    const h3 = hosts[2]!
    // A fresh name for the third host: never probed.
    const add = await cli.run(['add-node', `root@${h3.ip}`, '--name', 'fresh', '--key', tb.keyPath, '--runtime', 'podman'])
    expect(add.exitCode, add.stderr).to.equal(0)
    expect((await cli.run(['nodes', '--json'])).json<NodeRow[]>().find((n) => n.name === 'fresh')!.healthProbedAt).to.equal(null)
    const pass = await cli.run(['schedule'])
    expect(pass.exitCode, pass.stdout + pass.stderr).to.equal(0)
    const after = (await cli.run(['nodes', '--json'])).json<NodeRow[]>()
    expect(after.find((n) => n.name === 'fresh')!.healthProbedAt).not.to.equal(null)
    // The read-only store of the first host is still found by the pass's probe (it was probed by doctor < 30 s ago: not due again).
    expect(after.find((n) => n.name === hosts[0]!.ip)!.conditions.map((c) => c.type)).to.include('ReadOnlyFilesystem')
    expect((await cli.run(['node', 'rm', 'fresh'])).exitCode).to.equal(0)
  })
})

/**
 * The health conditions acting, on a fresh state (its own CLI sandbox, so the conditions
 * of the suite above do not carry over; the hosts are the same): a runtime store that is a
 * small size-limited filesystem filling at a steady rate (a prediction, then disk pressure
 * keeping new work off the node); a container OOM-killed by its memory limit; and
 * `daemon --auto-drain` refusing, then draining, a node with a critical condition.
 */
describe('e2e: node health acting (disk pressure and trend, OOM, auto-drain)', function () {
  this.timeout(420_000)
  let cli: CliSandbox
  let hosts: TestbedHost[]
  const procs: Proc[] = []
  const mounted: Array<{host: string; dir: string}> = []
  const fed: string[] = []
  const store = (h: TestbedHost): string => path.join(h.dir, 'podman', 'root')
  const uptime = (): number => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0])
  const doctor = async (h: TestbedHost): Promise<Doctor['nodes'][number]> => (await cli.run(['node', 'doctor', h.ip, '--json'])).json<Doctor>().nodes[0]!
  const types = (conditions: NodeRow['conditions']): string[] => conditions.map((c) => c.type)

  before(async () => {
    cli = new CliSandbox()
    hosts = await addPodmanHosts(cli)
  })

  after(async () => {
    await stopAll(procs)
    if (cli) {
      await cli.removeAllJobs()

      cli.cleanup()
    }

    // The store's own filesystem goes last: nothing of this suite runs in it (no work lands on a node under disk pressure).
    for (const m of mounted.reverse()) await sshRun(getTestbed(), m.host, `umount ${m.dir}`)
    for (const f of fed) fs.rmSync(f, {force: true})
    expect(await clusterContainers(getTestbed(), ['podman'])).to.deep.equal([])
  })

  it('a store on a small filesystem filling at a steady rate: DiskFilling predicts when it is full, past 90 % DiskPressure keeps new work off', async () => {
    const h3 = hosts[2]!
    const dir = store(h3)
    // In the host's own mount namespace: a 64 MiB tmpfs over its podman store, holding a copy of the store (its image).
    const mount = await sshRun(getTestbed(), h3.name, `set -e; t=$(mktemp -d); cp -a ${dir}/. $t/; mount -t tmpfs -o size=64m cctl-small-store ${dir}; cp -a $t/. ${dir}/; rm -rf $t; df -P -k ${dir} | tail -n 1`)
    expect(mount.code, mount.stderr).to.equal(0)
    mounted.push({host: h3.name, dir})
    expect(mount.stdout).to.match(/^cctl-small-store\s+65536\s/)
    // A steady writer: 6 MiB every ~40 s (the test writes each step itself: no process is left on the host), probed after each step.
    const fill = (mib: number): Promise<{code: number; stderr: string}> => sshRun(getTestbed(), h3.name, `dd if=/dev/zero bs=1M count=${mib} oflag=append conv=notrunc of=${dir}/cctl-filler 2>&1 >/dev/null | grep -v records`)
    // From 41 MiB used, three steps of 6 MiB: 59 of 64 MiB, under 10 % free at the last.
    const used = Number(mount.stdout.trim().split(/\s+/)[2]) / 1024
    expect((await fill(Math.max(0, Math.round(41 - used)))).code).to.equal(0)
    let last = await doctor(h3)
    expect(types(last.conditions)).not.to.include.members(['DiskPressure', 'DiskFilling'])
    for (let step = 0; step < 3; step++) {
      await new Promise((resolve) => setTimeout(resolve, 41_000))
      expect((await fill(6)).code).to.equal(0)
      last = await doctor(h3)
    }

    // 4 samples over 2 min (the trend's minimum): a line through them reaches zero within minutes.
    const filling = last.conditions.find((c) => c.type === 'DiskFilling')
    expect(filling, JSON.stringify(last.conditions)).to.deep.include({severity: 'warning', reason: 'PredictedFull', blocksWork: false})
    expect(filling!.message).to.match(new RegExp(`${dir.replace(/\//g, '\\/')} full in ~\\d+ min \\(filling at \\d+Mi/h\\)`))
    const pressure = last.conditions.find((c) => c.type === 'DiskPressure')
    expect(pressure, JSON.stringify(last.conditions)).to.deep.include({severity: 'warning', reason: 'LowDiskSpace', blocksWork: true})
    expect(pressure!.message).to.include(dir)
    const row = (await cli.run(['nodes'])).stdout.split('\n').find((l) => l.startsWith(`${h3.ip} `))
    expect(row).to.include('DiskPressure')
    const listed = (await cli.run(['nodes', '--json'])).json<NodeRow[]>().find((n) => n.name === h3.ip)!
    expect(types(listed.conditions)).to.include.members(['DiskPressure', 'DiskFilling'])

    const run = await cli.run(['run', 'spread', '--image', getTestbed().image, '--instances', '3', '--mem', '16Mi', '--constraint', 'hostname:UNIQUE', '--', ...SLEEPER])
    expect(run.exitCode, run.stdout + run.stderr).to.equal(4)
    const ps = (await cli.run(['ps', 'spread', '--json'])).json<Array<{node: string | null; state: string; reason: string | null}>>()
    expect(ps.filter((t) => t.state === 'running').map((t) => t.node).sort()).to.deep.equal([hosts[0]!.ip, hosts[1]!.ip].sort())
    expect(ps.find((t) => t.state === 'pending')!.reason).to.match(/1 with a health condition/)
    expect((await cli.run(['rm', 'spread'])).exitCode).to.equal(0)
  })

  it('a container OOM-killed by its memory limit: OOMKilling on its node (the kernel is shared by the test hosts: every host sees the count)', async () => {
    const [h1, h2] = hosts
    for (const h of [h1!, h2!]) await doctor(h) // the counter's baseline
    // A shell that doubles a string until its 16 MiB limit kills it.
    const run = await cli.run(['run', 'hog', '--image', getTestbed().image, '--mem', '16Mi', '--kind', 'batch', '--restart', 'never', '--constraint', `hostname:IS:${h1!.ip}`, '--', 'sh', '-c', 'a=0123456789abcdef; while :; do a="$a$a"; done'])
    expect(run.exitCode, run.stdout + run.stderr).to.equal(0)
    let ps: Array<{node: string | null; state: string; exitCode?: number | null}> = []
    for (let i = 0; i < 60; i++) {
      await cli.run(['schedule'])
      ps = (await cli.run(['ps', 'hog', '--json'])).json<typeof ps>()
      if (ps.length > 0 && ps.every((t) => !['pending', 'starting', 'running'].includes(t.state))) break
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }

    expect(ps.map((t) => t.state), JSON.stringify(ps)).to.not.include('running')
    // The machine's kernel says it was the memory cgroup's limit (read only, never written).
    const dmesg = await execa('dmesg', [], {reject: false})
    if (dmesg.exitCode === 0) expect(dmesg.stdout).to.match(/Memory cgroup out of memory: Killed process \d+ \(sh\)/)
    const n1 = await doctor(h1!)
    const oom = n1.conditions.find((c) => c.type === 'OOMKilling')
    expect(oom, JSON.stringify(n1.conditions)).to.deep.include({severity: 'warning', reason: 'OOMKill', blocksWork: false})
    expect(oom!.message).to.match(/^\d+ process(es)? killed by the OOM killer since the last probe/)
    // /proc/vmstat is the one kernel's: the other host counts the same kill (on real nodes each has its own kernel).
    expect(types((await doctor(h2!)).conditions)).to.include('OOMKilling')
    expect((await cli.run(['rm', 'hog'])).exitCode).to.equal(0)
  })

  it('daemon --auto-drain: cordons (with the reason) a critical node whose work would not fit, drains it make-before-break once it fits', async () => {
    const [h1, h2, h3] = hosts
    // h3 is under disk pressure (the first test): the work lands on h1 and h2 only.
    const web = await cli.run(['run', 'web', '--image', getTestbed().image, '--instances', '4', '--mem', '16Mi', '--strategy', 'spread', '--', ...SLEEPER])
    expect(web.exitCode, web.stdout + web.stderr).to.equal(0)
    const pinned = await cli.run(['run', 'pinned', '--image', getTestbed().image, '--instances', '2', '--mem', '16Mi', '--constraint', 'hostname:UNIQUE', '--', ...SLEEPER])
    expect(pinned.exitCode, pinned.stdout + pinned.stderr).to.equal(0)
    const onNode = async (job: string): Promise<Array<{node: string | null; state: string}>> => (await cli.run(['ps', job, '--json'])).json<Array<{node: string | null; state: string}>>()
    expect((await onNode('web')).filter((t) => t.node === h2!.ip && t.state === 'running').length).to.be.greaterThan(0)
    expect((await onNode('pinned')).map((t) => t.node).sort()).to.deep.equal([h1!.ip, h2!.ip].sort())
    expect((await onNode('web')).map((t) => t.node)).not.to.include(h3!.ip)

    // A critical hardware fault on h2 (the kernel log the testbed feeds it).
    const log = path.join(h2!.dir, 'kmsg.log')
    fed.push(log)
    fs.appendFileSync(log, `[${uptime().toFixed(6)}] NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, GPU has fallen off the bus.\n`)
    const daemon = startCli(cli, ['daemon', '--interval', '500ms', '--auto-drain'])
    procs.push(daemon)
    // pinned cannot lose h2 (h1 has its other instance, h3 takes no work): cordoned, not drained, nothing moved.
    const cordon = await daemon.waitFor(/auto-cordon/, 90_000)
    expect(cordon).to.include(h2!.ip)
    expect(cordon).to.match(/GPUError \(GPUXidCritical\).*not drained: what-if says 1 task\(s\) would not fit elsewhere \(pinned\.\d+: /)
    const events = (await cli.run(['events', '--json'])).json<Array<{type: string; subject: string; message: string}>>()
    expect(events.find((e) => e.type === 'node.auto-cordon' && e.subject === h2!.ip)?.message).to.match(/not drained: what-if/)
    expect((await onNode('pinned')).filter((t) => t.state === 'running').map((t) => t.node).sort()).to.deep.equal([h1!.ip, h2!.ip].sort())
    expect(daemon.lines.some((l) => /auto-drain/.test(l))).to.equal(false)

    // Without pinned, h2's work fits on h1: the next pass drains it make-before-break, web never below 4 running.
    expect((await cli.run(['rm', 'pinned'])).exitCode).to.equal(0)
    let lowest = Infinity
    let moved = false
    for (let i = 0; i < 240 && !moved; i++) {
      const tasks = await onNode('web')
      const running = tasks.filter((t) => t.state === 'running')
      lowest = Math.min(lowest, running.length)
      moved = running.length === 4 && running.every((t) => t.node === h1!.ip) && tasks.every((t) => t.node !== h2!.ip || t.state !== 'running')
      if (!moved) await new Promise((resolve) => setTimeout(resolve, 250))
    }

    expect(moved, (await cli.run(['ps', 'web'])).stdout + daemon.lines.slice(-20).join('\n')).to.equal(true)
    expect(lowest).to.be.at.least(4)
    expect(daemon.lines.find((l) => /auto-drain/.test(l))).to.match(/GPUError.*what-if: its \d+ task\(s\) fit elsewhere/)
    const after = (await cli.run(['events', '--json'])).json<Array<{type: string; subject: string}>>()
    expect(after.some((e) => e.type === 'node.auto-drain' && e.subject === h2!.ip)).to.equal(true)
  })
})
