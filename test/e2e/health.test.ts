/**
 * The health probe on real testbed hosts (about 1 s login shells: one round trip each):
 * `node doctor` on a healthy host, a real fault - the host's runtime store remounted
 * read-only (a bind mount of itself, made read-only) - raising ReadOnlyFilesystem, which
 * keeps new work off the node; a kernel-log line (the host's own kmsg file, never the
 * machine's) raising a critical GPU condition; and the pass probing a node that was never
 * probed, in the observation's round trip.
 */
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {sshRun, type TestbedHost} from '../testbed/testbed.js'
import {CliSandbox} from './cli.js'
import {getTestbed} from './fixture.js'

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

describe('e2e: node health (probe, conditions, node doctor)', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let hosts: TestbedHost[]
  const mounted: Array<{host: string; dir: string}> = []
  const fed: string[] = []

  const store = (h: TestbedHost): string => path.join(h.dir, 'podman', 'root')
  const uptime = (): number => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0])

  before(async () => {
    const tb = getTestbed()
    cli = new CliSandbox()
    hosts = tb.hosts.filter((h) => h.runtimes.includes('podman')).slice(0, 3)
    expect(hosts.length).to.equal(3)
    const add = await cli.run(['add-node', ...hosts.map((h) => `root@${h.ip}`), '--key', tb.keyPath, '--runtime', 'podman'])
    expect(add.exitCode, add.stderr).to.equal(0)
  })

  after(async () => {
    for (const m of mounted.reverse()) await sshRun(getTestbed(), m.host, `umount ${m.dir}`)
    for (const f of fed) fs.rmSync(f, {force: true})
    if (cli) {
      for (let i = 0; i < 40; i++) {
        const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>()
        const results = await Promise.all(jobs.map((j) => cli.run(['rm', j.name])))
        if (results.every((r) => r.exitCode === 0)) break
        await new Promise((resolve) => setTimeout(resolve, 500))
      }

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
