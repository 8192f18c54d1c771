/**
 * Pinned local volumes end to end (issue 14 item 6): a 2-instance stateful job writes
 * to its volumes, is scaled to 0 and back (its data still there, on the same nodes); the
 * node of one instance crashes: that instance is blocked, never moved, the reason shown
 * in ps, inspect and volumes; the node returns: it runs there again with its data;
 * `volume forget --new-empty` lets it start elsewhere with a new, empty volume.
 * The testbed's hosts share the machine's filesystem, so "its data" is checked by the
 * volume's own directory (named after its id) on the node it is recorded on.
 */
import {expect} from 'chai'
import {rmSync} from 'node:fs'

import {crashHost, restartHost, sshRun, type Testbed} from '../testbed/testbed.js'
import {type CliResult, CliSandbox} from './cli.js'
import {type Proc, startDaemon, stopAll} from './daemon-process.js'
import {getTestbed, until} from './fixture.js'

/** Appends its task id to /data/log, then sleeps until stopped. */
const WRITER = ['sh', '-c', 'echo "$CLUSTERCTL_TASK" >> /data/log && trap "exit 0" TERM; sleep 3600 & wait']

interface TaskJson {id: string; instance: number; node: string | null; state: string; reason: string | null}
interface VolumeJson {name: string; node: string | null; path: string | null; state: string; blocked: string | null; job: string | null; instance: number | null; usedBytes: number | null}

const said = (r: CliResult): string => `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))


describe('e2e: pinned local volumes (scale to 0 and back, node crash, forget --new-empty)', function () {
  this.timeout(600_000)
  let cli: CliSandbox
  let tb: Testbed
  const procs: Proc[] = []
  const crashed: string[] = []
  const paths = new Set<string>()

  before(() => {
    tb = getTestbed()
    cli = new CliSandbox()
  })

  after(async function () {
    this.timeout(180_000)
    await stopAll(procs)
    for (const h of crashed.splice(0)) await restartHost(tb, h).catch(() => {})
    for (const job of ['db', 'cdb', 'bad3']) {
      const removed = await cli.run(['rm', job, '--wipe-volumes'])
      if (removed.exitCode !== 0 && removed.exitCode !== 3) console.warn(`      rm ${job}: ${said(removed)}`)
    }

    await cli.run(['volumes', '--json']).then((r) => r.exitCode === 0 && r.json<VolumeJson[]>().forEach((v) => v.path && paths.add(v.path)))
    for (const h of tb.hosts.filter((x) => x.runtimes.includes('podman'))) await sshRun(tb, h.name, 'podman rm -f -t 0 $(podman ps -aq --filter label=io.clusterctl.job=db) >/dev/null 2>&1; true', {timeoutMs: 30_000})
    for (const h of tb.hosts.filter((x) => x.runtimes.includes('containerd'))) await sshRun(tb, h.name, 'for c in $(ctr -n clusterctl c ls -q | grep "^cctl-cdb-"); do ctr -n clusterctl t kill -s KILL $c >/dev/null 2>&1; sleep 0.2; ctr -n clusterctl t rm -f $c >/dev/null 2>&1; ctr -n clusterctl c rm $c >/dev/null 2>&1; done; true', {timeoutMs: 30_000})
    // A forgotten volume's data is left on its node by design: the test removes it (the hosts share this filesystem).
    for (const p of paths) rmSync(p, {recursive: true, force: true})
    cli.cleanup()
  })

  const tasks = async (): Promise<TaskJson[]> => (await cli.run(['ps', 'db', '--json'])).json<TaskJson[]>()
  const volumes = async (): Promise<VolumeJson[]> => {
    const vs = (await cli.run(['volumes', '--json'])).json<VolumeJson[]>()
    for (const v of vs) if (v.path) paths.add(v.path)
    return vs
  }

  /** The lines of the volume's log, read on its node (`host`: the testbed host, when the node is named otherwise). */
  const logOf = async (v: VolumeJson, host = v.node!): Promise<string[]> => {
    const r = await sshRun(tb, host, `cat ${v.path}/log`, {timeoutMs: 20_000})
    expect(r.code, r.stderr).to.equal(0)
    return r.stdout.trim().split('\n')
  }

  const runningOn = async (n: number): Promise<TaskJson[]> =>
    until(`${n} running tasks of db`, 120_000, async () => {
      const ts = await tasks()
      return ts.filter((t) => t.state === 'running').length === n && ts.every((t) => t.state === 'running') ? ts : undefined
    })

  it('writes to its local volumes, keeps them through scale to 0 and back on the same nodes; a crashed node blocks its instance until it returns; forget --new-empty moves it', async () => {
    const hosts = tb.hosts.filter((h) => h.runtimes.includes('podman')).slice(0, 3)
    expect(hosts.length, 'three podman hosts').to.equal(3)
    for (const h of hosts) {
      const add = await cli.run(['add-node', `root@${h.ip}`, '--name', h.name, '--key', tb.keyPath, '--runtime', 'podman'])
      expect(add.exitCode, said(add)).to.equal(0)
    }

    const run = await cli.run(['run', 'db', '--image', tb.image, '--instances', '2', '-v', 'data:/data', '--constraint', 'hostname:UNIQUE', '--mem', '16Mi', '--', ...WRITER])
    expect(run.exitCode, said(run)).to.equal(0)
    const first = await runningOn(2)
    let vols = await volumes()
    expect(vols.map((v) => [v.name, v.job, v.instance, v.state])).to.deep.equal([['data-0', 'db', 0, 'in-use'], ['data-1', 'db', 1, 'in-use']])
    for (const t of first) expect(vols.find((v) => v.instance === t.instance)!.node, `instance ${t.instance}`).to.equal(t.node)
    for (const t of first) expect(await logOf(vols.find((v) => v.instance === t.instance)!)).to.deep.equal([t.id])

    // Scaled to 0: the volumes stay, on their nodes; scaled back: each instance on its volume's node, with its data.
    const down = await cli.run(['scale', 'db', '0'])
    expect(down.exitCode, said(down)).to.equal(0)
    vols = await volumes()
    expect(vols.map((v) => [v.name, v.state, v.node])).to.deep.equal(first.sort((a, b) => a.instance - b.instance).map((t) => [`data-${t.instance}`, 'idle', t.node]))
    const up = await cli.run(['scale', 'db', '2'])
    expect(up.exitCode, said(up)).to.equal(0)
    const second = await runningOn(2)
    for (const t of second) {
      const before = first.find((f) => f.instance === t.instance)!
      expect(t.node, `instance ${t.instance} on its volume's node`).to.equal(before.node)
      expect(await logOf(vols.find((v) => v.instance === t.instance)!)).to.deep.equal([before.id, t.id])
    }

    // The disk used is measured by the observation (with the health probe) and shown.
    const measured = await until('the volumes measured', 90_000, async () => {
      await cli.run(['schedule'])
      const vs = await volumes()
      return vs.every((v) => v.usedBytes !== null) ? vs : undefined
    }, 2000)
    expect(measured.map((v) => v.usedBytes! > 0)).to.deep.equal([true, true])
    expect((await cli.run(['volumes'])).stdout).to.match(/data-0\s+local\s+h\d\s+1Gi\s+\S+\s+db\s+0\s+in-use/)

    // In use: not removed, not forgotten.
    const rmInUse = await cli.run(['volume', 'rm', 'data-0', '--json'])
    expect(rmInUse.exitCode, said(rmInUse)).to.equal(2)
    expect(rmInUse.json<{error: {message: string}}>().error.message).to.match(/^Volume data-0 is in use by db.0 \(running on h\d\); it was not removed\.$/)

    // The node of instance 0 crashes: its task is blocked, never moved, the reason shown.
    const daemon = startDaemon(cli)
    procs.push(daemon)
    const victim = second.find((t) => t.instance === 0)!.node!
    await crashHost(tb, victim)
    crashed.push(victim)
    const blocked = await until('instance 0 blocked', 90_000, async () => {
      const ts = await tasks()
      return ts.find((t) => t.instance === 0 && t.state === 'pending' && /down/.test(t.reason ?? ''))
    })
    expect(blocked.reason).to.match(new RegExp(`^blocked: volume data-0 is on ${victim} \\(down \\d+s\\)$`))
    // It stays so: nothing of instance 0 runs anywhere else for 8 s of daemon passes.
    for (let i = 0; i < 8; i++) {
      const ts = await tasks()
      expect(ts.filter((t) => t.instance === 0 && t.node !== victim && t.state !== 'pending'), JSON.stringify(ts)).to.deep.equal([])
      await sleep(1000)
    }

    const ps = await cli.run(['ps', 'db'])
    expect(ps.stdout).to.include(`blocked: volume data-0 is on ${victim} (down`)
    const inspect = await cli.run(['inspect', blocked.id])
    expect(inspect.stdout, said(inspect)).to.include(`blocked: volume data-0 is on ${victim} (down`)
    expect((await volumes()).find((v) => v.name === 'data-0')!.state).to.equal('blocked')
    // Instance 1 was untouched.
    expect((await tasks()).find((t) => t.instance === 1 && t.state === 'running')?.id).to.equal(second.find((t) => t.instance === 1)!.id)

    // The node returns: instance 0 runs there again, with its data.
    await restartHost(tb, victim)
    crashed.splice(crashed.indexOf(victim), 1)
    const back = await until('instance 0 running on its node again', 120_000, async () => (await tasks()).find((t) => t.instance === 0 && t.state === 'running'))
    expect(back.node).to.equal(victim)
    const data0 = (await volumes()).find((v) => v.name === 'data-0')!
    expect(await logOf(data0)).to.deep.equal([first.find((t) => t.instance === 0)!.id, second.find((t) => t.instance === 0)!.id, back.id])

    // Crashed again, and the operator gives its data up: forget needs --new-empty, then it starts elsewhere, empty.
    await crashHost(tb, victim)
    crashed.push(victim)
    await until('instance 0 blocked again', 90_000, async () => (await tasks()).find((t) => t.instance === 0 && t.state === 'pending' && /down/.test(t.reason ?? '')))
    const refused = await cli.run(['volume', 'forget', 'data-0'])
    expect(refused.exitCode, said(refused)).to.equal(2)
    expect(refused.stderr).to.match(/Add --new-empty/)
    const forget = await cli.run(['volume', 'forget', 'data-0', '--new-empty'])
    expect(forget.exitCode, said(forget)).to.equal(0)
    const moved = await until('instance 0 running elsewhere', 120_000, async () => (await tasks()).find((t) => t.instance === 0 && t.state === 'running' && t.node !== victim))
    const fresh = (await volumes()).find((v) => v.name === 'data-0')!
    expect(fresh.node).to.equal(moved.node)
    expect(fresh.path).to.not.equal(data0.path)
    expect(await logOf(fresh)).to.deep.equal([moved.id])
  })

  it('bad input: one clear error, exit 2 (3 for a name that is no volume), nothing changed', async () => {
    await cli.run(['init']) // when it runs alone (-g): a state file without nodes; else it exists already
    const before = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>().map((j) => j.name)
    const badName = await cli.run(['run', 'bad1', '--image', tb.image, '--no-start', '-v', 'Data:/data', '--', 'true'])
    expect(badName.exitCode, said(badName)).to.equal(2)
    expect(badName.stderr).to.match(/volumes\[0\]: "Data" is not a volume name/)
    const badNfs = await cli.run(['run', 'bad2', '--image', tb.image, '--no-start', '--nfs', 'shared=nfs-1:/srv', '--', 'true'])
    expect(badNfs.exitCode, said(badNfs)).to.equal(2)
    expect(badNfs.stderr).to.match(/--nfs expects NAME=SERVER:\/EXPORT:DST/)
    const first = await cli.run(['run', 'bad3', '--image', tb.image, '--no-start', '-v', 'bdata:/data', '--', 'true'])
    expect(first.exitCode, said(first)).to.equal(0)
    const taken = await cli.run(['run', 'bad4', '--image', tb.image, '--no-start', '-v', 'bdata:/data', '--', 'true'])
    expect(taken.exitCode, said(taken)).to.equal(2)
    expect(taken.stderr).to.match(/^Error: Job bad4: volume bdata-0 belongs to job bad3; nothing was changed\./m)
    const missing = await cli.run(['volume', 'rm', 'nope'])
    expect(missing.exitCode, said(missing)).to.equal(3)
    expect(missing.stderr).to.match(/No volume named nope; nothing was changed/)
    const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>().map((j) => j.name)
    expect(jobs.sort()).to.deep.equal([...before, 'bad3'].sort())
    expect((await cli.run(['volumes', '--json'])).json<VolumeJson[]>().filter((v) => v.job?.startsWith('bad')).map((v) => v.name)).to.deep.equal(['bdata-0'])
    const rm = await cli.run(['rm', 'bad3', '--wipe-volumes'])
    expect(rm.exitCode, said(rm)).to.equal(0)
    expect((await cli.run(['volumes', '--json'])).json<VolumeJson[]>().filter((v) => v.job === 'bad3')).to.deep.equal([])
  })

  it('containerd: a local volume is made by the start and bound; rm --wipe-volumes deletes its data on its node', async () => {
    // not a host the first test left crashed (it is restarted in the after hook)
    const h = tb.hosts.find((x) => x.runtimes.includes('containerd') && !crashed.includes(x.name))!
    const add = await cli.run(['add-node', `root@${h.ip}`, '--name', 'ctr-1', '--key', tb.keyPath, '--runtime', 'containerd'])
    expect(add.exitCode, said(add)).to.equal(0)
    const run = await cli.run(['run', 'cdb', '--image', tb.image, '--runtime', 'containerd', '-v', 'cdata:/data', '--mem', '16Mi', '--', ...WRITER])
    expect(run.exitCode, said(run)).to.equal(0)
    const [task] = (await cli.run(['ps', 'cdb', '--json'])).json<TaskJson[]>()
    const vol = (await volumes()).find((v) => v.name === 'cdata-0')!
    expect([task!.state, task!.node, vol.node, vol.state]).to.deep.equal(['running', 'ctr-1', 'ctr-1', 'in-use'])
    expect(await logOf(vol, h.name)).to.deep.equal([task!.id])
    const rm = await cli.run(['rm', 'cdb', '--wipe-volumes', '--json'])
    expect(rm.exitCode, said(rm)).to.equal(0)
    expect(rm.json<{wipedVolumes: string[]}>().wipedVolumes).to.deep.equal(['cdata-0'])
    expect((await sshRun(tb, h.name, `test -e ${vol.path}`, {timeoutMs: 20_000})).code, 'the directory is gone').to.equal(1)
    const rmNode = await cli.run(['node', 'rm', 'ctr-1'])
    expect(rmNode.exitCode, said(rmNode)).to.equal(0)
  })
})

/**
 * NFS exports are probed at placement (issue 14 item 1). This machine's kernel has no NFS
 * client (no nfs in /proc/filesystems), so every probe fails here: the bad path is tested
 * for real, the good path by unit tests only (test/testbed/README.md).
 */
describe('e2e: an NFS export no node can mount keeps its job pending with the reason, and leaves nothing behind', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let tb: Testbed

  before(() => {
    tb = getTestbed()
    cli = new CliSandbox()
  })

  after(async function () {
    this.timeout(120_000)
    const rm = await cli.run(['rm', 'nfsweb'])
    if (rm.exitCode !== 0 && rm.exitCode !== 3) console.warn(`      rm nfsweb: ${said(rm)}`)
    for (const h of tb.hosts.filter((x) => x.runtimes.includes('podman'))) await sshRun(tb, h.name, 'podman rm -f -t 0 $(podman ps -aq --filter label=io.clusterctl.job=nfsweb) >/dev/null 2>&1; podman volume rm -f clusterctl-nfs-shared >/dev/null 2>&1; true', {timeoutMs: 30_000})
    cli.cleanup()
  })

  it('run exits 4, ps and inspect say the export cannot be mounted on every node with mount\'s words; no mount, directory or container is left', async () => {
    const hosts = tb.hosts.filter((h) => h.runtimes.includes('podman')).slice(0, 2)
    for (const [i, h] of hosts.entries()) {
      const add = await cli.run(['add-node', `root@${h.ip}`, '--name', `nfsp-${i + 1}`, '--key', tb.keyPath, '--runtime', 'podman'])
      expect(add.exitCode, said(add)).to.equal(0)
    }

    const device = `${hosts[0]!.ip}:/srv/share`
    const run = await cli.run(['run', 'nfsweb', '--image', tb.image, '--nfs', `shared=${device}:/shared`, '--mem', '16Mi', '--', 'sleep', '3600'])
    expect(run.exitCode, said(run)).to.equal(4)
    const reason = new RegExp(`^nfs export ${device.replace(/\./g, '\\.')} cannot be mounted on nfsp-1, nfsp-2: .*nfs`)
    expect(run.stdout + run.stderr).to.match(new RegExp(`nfs export ${device.replace(/\./g, '\\.')} cannot be mounted on nfsp-1, nfsp-2: `))
    const [task] = (await cli.run(['ps', 'nfsweb', '--json'])).json<TaskJson[]>()
    expect([task!.state, task!.node]).to.deep.equal(['pending', null])
    expect(task!.reason).to.match(reason)
    // A second pass keeps it pending with the same reason (answered from the kept result, or probed again).
    const again = await cli.run(['schedule'])
    expect(again.exitCode, said(again)).to.be.oneOf([0, 4])
    const inspect = await cli.run(['inspect', 'nfsweb'])
    expect(inspect.stdout).to.match(new RegExp(`nfs export ${device.replace(/\./g, '\\.')} cannot be mounted on nfsp-1, nfsp-2`))
    for (const h of hosts) {
      const left = await sshRun(tb, h.name, 'grep -c " nfs" /proc/mounts; ls -d /tmp/clusterctl-nfs-probe.* 2>/dev/null | wc -l; podman ps -aq --filter label=io.clusterctl.job=nfsweb | wc -l', {timeoutMs: 30_000})
      expect(left.stdout.trim().split(/\s+/), `${h.name}: nfs mounts, probe directories, containers`).to.deep.equal(['0', '0', '0'])
    }
  })
})

describe('e2e: draining a node that holds a local volume stops its task, which runs there again with its data after uncordon', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let tb: Testbed
  const paths: string[] = []

  before(() => {
    tb = getTestbed()
    cli = new CliSandbox()
  })

  after(async function () {
    this.timeout(120_000)
    for (const n of ['drn-1', 'drn-2']) await cli.run(['node', 'uncordon', n])
    const rm = await cli.run(['rm', 'sdb', '--wipe-volumes'])
    if (rm.exitCode !== 0 && rm.exitCode !== 3) console.warn(`      rm sdb: ${said(rm)}`)
    for (const h of tb.hosts.filter((x) => x.runtimes.includes('podman'))) await sshRun(tb, h.name, 'podman rm -f -t 0 $(podman ps -aq --filter label=io.clusterctl.job=sdb) >/dev/null 2>&1; true', {timeoutMs: 30_000})
    for (const p of paths) rmSync(p, {recursive: true, force: true})
    cli.cleanup()
  })

  it('node drain says it per task and finishes; the task waits, blocked, for the cordoned node; uncordon: it runs there with its data', async () => {
    const hosts = tb.hosts.filter((h) => h.runtimes.includes('podman')).slice(0, 2)
    for (const [i, h] of hosts.entries()) {
      const add = await cli.run(['add-node', `root@${h.ip}`, '--name', `drn-${i + 1}`, '--key', tb.keyPath, '--runtime', 'podman'])
      expect(add.exitCode, said(add)).to.equal(0)
    }

    const run = await cli.run(['run', 'sdb', '--image', tb.image, '-v', 'sdata:/data', '--mem', '16Mi', '--', ...WRITER])
    expect(run.exitCode, said(run)).to.equal(0)
    const [first] = (await cli.run(['ps', 'sdb', '--json'])).json<TaskJson[]>()
    expect(first!.state).to.equal('running')
    const node = first!.node!
    const host = hosts[Number(node.slice(-1)) - 1]!.name
    const [vol] = (await cli.run(['volumes', '--json'])).json<VolumeJson[]>().filter((v) => v.name === 'sdata-0')
    paths.push(vol!.path!)

    const drain = await cli.run(['node', 'drain', node, '--timeout', '2m'])
    expect(drain.exitCode, said(drain)).to.equal(0)
    expect(drain.stdout).to.contain(`sdb.0 stops and waits for ${node}: its volume sdata-0 is there; \`clusterctl node uncordon ${node}\` runs it there again, or \`clusterctl volume forget sdata-0 --new-empty\` moves it without its data`)
    expect(drain.stdout).to.match(new RegExp(`Node ${node} is drained`))
    // The next pass (the daemon's, or this one-shot) gives the instance its task, which waits for the node.
    const pass = await cli.run(['schedule'])
    expect(pass.exitCode, said(pass)).to.equal(4)
    const [waiting] = (await cli.run(['ps', 'sdb', '--json'])).json<TaskJson[]>()
    expect([waiting!.state, waiting!.node]).to.deep.equal(['pending', null])
    expect(waiting!.reason).to.match(new RegExp(`^blocked: volume sdata-0 is on ${node} \\(cordoned \\d+[smh]\\)$`))
    const left = await sshRun(tb, host, 'podman ps -q --filter label=io.clusterctl.job=sdb | wc -l', {timeoutMs: 30_000})
    expect(left.stdout.trim(), 'no sdb container runs on the drained node').to.equal('0')

    const uncordon = await cli.run(['node', 'uncordon', node])
    expect(uncordon.exitCode, said(uncordon)).to.equal(0)
    const back = await until('sdb running again', 120_000, async () => {
      await cli.run(['schedule'])
      const [t] = (await cli.run(['ps', 'sdb', '--json'])).json<TaskJson[]>()
      return t?.state === 'running' ? t : undefined
    })
    expect(back.node, 'on the node holding its volume').to.equal(node)
    const log = await sshRun(tb, host, `cat ${vol!.path}/log`, {timeoutMs: 20_000})
    expect(log.stdout.trim().split('\n'), 'its data: both tasks wrote to the same volume').to.deep.equal([first!.id, back.id])
  })
})
