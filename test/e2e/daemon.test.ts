/**
 * The daemon and the controller lease, with real processes, signals and the
 * testbed's podman: one controller acts at a time; commands defer to a daemon;
 * SIGTERM stops it cleanly; a daemon killed with -9 blocks others only until its
 * lease lapses; the loop replaces a container removed behind its back.
 */
import {expect} from 'chai'

import {sshRun} from '../testbed/testbed.js'
import {CliSandbox} from './cli.js'
import {type Proc, startCli, startDaemon, stopAll} from './daemon-process.js'
import {getTestbed} from './fixture.js'

describe('e2e: daemon and controller lease', function () {
  this.timeout(180_000)
  let cli: CliSandbox
  const procs: Proc[] = []

  beforeEach(async () => {
    const tb = getTestbed()
    cli = new CliSandbox()
    const full = tb.hosts.filter((h) => h.runtimes.length > 0)
    expect((await cli.run(['add-node', ...full.map((h) => `root@${h.ip}`), '--key', tb.keyPath])).exitCode).to.equal(0)
  })

  afterEach(async () => {
    await stopAll(procs)

    // Lapse any lease a killed daemon left, then remove every job.
    await cli.removeAllJobs()

    cli.cleanup()
  })

  it('one daemon acts, a second stands by; commands defer to the daemon; SIGTERM hands over cleanly', async () => {
    const a = startDaemon(cli)
    procs.push(a)
    await a.waitFor(/acting as the controller/)
    const b = startDaemon(cli)
    procs.push(b)
    await b.waitFor(/standing by: the cluster is converged by a daemon \(pid \d+/)

    const run = await cli.run(['run', 'web', '--image', getTestbed().image, '--instances', '2', '--mem', '16Mi', '--', 'sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'])
    expect(run.exitCode, run.stderr + run.stdout).to.equal(0)
    expect(run.stdout).to.match(/A daemon \(pid \d+ on .*\) converges this cluster/)
    expect((await cli.run(['ps', 'web', '--json'])).json<Array<{state: string}>>().map((t) => t.state)).to.deep.equal(['running', 'running'])
    await a.waitFor(/started web\.1 on /)
    expect(b.lines.filter((l) => /^\S+ (placed|started|stopped) /.test(l))).to.deep.equal([])

    const schedule = await cli.run(['schedule'])
    expect(schedule.exitCode).to.equal(1)
    expect(schedule.stderr).to.match(/^Error: The cluster is being converged by a daemon \(pid \d+/)
    expect((await cli.run(['schedule', '--dry-run'])).exitCode).to.equal(0)

    a.child.kill('SIGTERM')
    const exited = await a.child
    expect(exited.exitCode).to.equal(0)
    expect(a.lines.at(-1)).to.match(/daemon stopped; lease released$/)
    await b.waitFor(/acting as the controller/, 5000)
  })

  it("with a daemon running, run/scale/restart/apply wait for the daemon's pass that applies the change and exit by its outcome (1 failed, 4 pending, 0 ok)", async () => {
    const a = startDaemon(cli)
    procs.push(a)
    await a.waitFor(/acting as the controller/)
    const bad = await cli.run(['run', 'badimg', '--image', 'localhost/nope:1', '--mem', '16Mi', '--timeout', '90s'])
    expect(bad.exitCode, bad.stdout + bad.stderr).to.equal(1)
    expect(bad.stdout).to.match(/A daemon \(pid \d+ on .*\) converges this cluster: the change was recorded, and its pass that started at \S+ applied it:/)
    expect(bad.stdout).to.match(/started\s+badimg\.0\s+on [\s\S]* FAILED/)
    const scaled = await cli.run(['scale', 'badimg', '2', '--json'])
    expect(scaled.exitCode, scaled.stdout).to.equal(1)
    expect(scaled.json<{pass: {convergedBy: {pid: number}; actions: Array<{job: string; ok: boolean}>}}>().pass.actions.some((x) => x.job === 'badimg' && !x.ok)).to.equal(true)

    const nowhere = await cli.run(['run', 'nowhere', '--image', getTestbed().image, '--mem', '16Mi', '--constraint', 'hostname:IS:no-such-node'])
    expect(nowhere.exitCode, nowhere.stdout).to.equal(4)
    expect(nowhere.stdout).to.match(/pending\s+nowhere\.0\s+0\/\d+ nodes fit/)

    const ok = await cli.run(['run', 'fine', '--image', getTestbed().image, '--mem', '16Mi', '--', 'sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'])
    expect(ok.exitCode, ok.stdout + ok.stderr).to.equal(0)
    expect(ok.stdout).to.match(/started\s+fine\.0\s+on /)
    const restarted = await cli.run(['restart', 'fine'])
    expect(restarted.exitCode, restarted.stdout + restarted.stderr).to.equal(0)
    expect(restarted.stdout).to.match(/started\s+fine\.0\s+on /)
    expect((await cli.run(['scale', 'fine', '2', '--timeout', 'soon'])).exitCode).to.equal(2)
  })

  it('a drain whose task cannot be placed says why at once; uncordon or drain --cancel cancels the pending replacement (nothing stays pending, nothing moves later)', async () => {
    const nodes = (await cli.run(['nodes', '--json'])).json<Array<{name: string}>>().map((n) => n.name)
    const target = nodes[0]!
    const pinned = await cli.run(['run', 'pinned', '--image', getTestbed().image, '--mem', '16Mi', '--constraint', `hostname:IS:${target}`, '--', 'sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'])
    expect(pinned.exitCode, pinned.stdout + pinned.stderr).to.equal(0)
    // What-if says its task has nowhere to go: without --force the drain is refused, nothing changed.
    const refused = await cli.run(['node', 'drain', target])
    expect(refused.exitCode, refused.stdout + refused.stderr).to.equal(1)
    expect(refused.stderr).to.match(new RegExp(`Draining ${target.replace(/\./g, '\\.')} would leave 1 task\\(s\\) with nowhere to go \\(pinned\\.0: 0/\\d+ nodes fit`))
    expect((await cli.run(['nodes', '--json'])).json<Array<{name: string; adminState: string}>>().find((n) => n.name === target)!.adminState).to.equal('ready')
    const drain = startCli(cli, ['node', 'drain', target, '--timeout', '120s', '--force'])
    procs.push(drain)
    const said = await drain.waitFor(/pinned\.0: its replacement cannot be placed: 0\/\d+ nodes fit/, 30_000)
    expect(said).to.match(/hostname/)
    const uncordon = await cli.run(['node', 'uncordon', target])
    expect(uncordon.exitCode, uncordon.stderr).to.equal(0)
    expect(uncordon.stdout).to.include('cancelled the pending replacement of pinned.0')
    const ended = await drain.child
    expect(ended.exitCode).to.equal(1)
    expect(drain.lines.join('\n')).to.match(/The drain of .* was stopped \(it is ready now\)/)
    const after = (await cli.run(['ps', 'pinned', '--json'])).json<Array<{state: string; node: string}>>()
    expect(after.map((t) => [t.state, t.node])).to.deep.equal([['running', target]])
    expect((await cli.run(['schedule'])).exitCode).to.equal(0)

    // The same with --cancel: the node stays cordoned, nothing stays pending.
    expect((await cli.run(['node', 'drain', target, '--no-wait', '--force'])).exitCode).to.equal(0)
    const stuck = await cli.run(['schedule'])
    expect(stuck.exitCode, stuck.stdout).to.equal(4)
    const cancel = await cli.run(['node', 'drain', target, '--cancel', '--json'])
    expect(cancel.exitCode, cancel.stderr).to.equal(0)
    expect(cancel.json<{node: {adminState: string}; cancelled: Array<{job: string}>}>()).to.deep.include({cancelled: [{job: 'pinned', instance: 0, taskId: cancel.json<{cancelled: Array<{taskId: string}>}>().cancelled[0]!.taskId}]})
    expect(cancel.json<{node: {adminState: string}}>().node.adminState).to.equal('cordoned')
    const calm = await cli.run(['schedule'])
    expect(calm.exitCode, calm.stdout).to.equal(0)
    expect((await cli.run(['ps', 'pinned', '--json'])).json<Array<{state: string}>>().map((t) => t.state)).to.deep.equal(['running'])
  })

  it('stop, scale and rm take several jobs and --selector, and act on those jobs alone (another job pending stays out of their pass)', async () => {
    const sleeper = ['--', 'sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait']
    for (const name of ['a', 'b']) expect((await cli.run(['run', name, '--image', getTestbed().image, '--mem', '16Mi', '--label', 'tier=x', ...sleeper])).exitCode).to.equal(0)
    expect((await cli.run(['run', 'stuck', '--image', getTestbed().image, '--mem', '16Mi', '--constraint', 'hostname:IS:no-such-node', ...sleeper])).exitCode).to.equal(4)
    type Pass = {pass: {pending: Array<{job: string}>; actions: Array<{job: string; kind: string}>}; jobs: string[]}
    const scaled = await cli.run(['scale', 'a', 'b', '2', '--json'])
    expect(scaled.exitCode, scaled.stdout + scaled.stderr).to.equal(0)
    expect(scaled.json<Pass>().jobs).to.deep.equal(['a', 'b'])
    expect(scaled.json<Pass>().pass.pending).to.deep.equal([])
    expect(new Set(scaled.json<Pass>().pass.actions.map((x) => x.job))).to.deep.equal(new Set(['a', 'b']))
    expect((await cli.run(['ps', '--json'])).json<Array<{job: string; state: string}>>().filter((t) => t.state === 'running').map((t) => t.job).sort()).to.deep.equal(['a', 'a', 'b', 'b'])

    const stopped = await cli.run(['stop', '--selector', 'tier=x', '--json'])
    expect(stopped.exitCode, stopped.stdout + stopped.stderr).to.equal(0)
    expect(stopped.json<Pass>().jobs).to.deep.equal(['a', 'b'])
    expect(stopped.json<Pass>().pass.actions.filter((x) => x.kind === 'stop').map((x) => x.job).sort()).to.deep.equal(['a', 'a', 'b', 'b'])
    expect(stopped.json<Pass>().pass.pending).to.deep.equal([])

    const missing = await cli.run(['rm', 'a', 'no-such-job'])
    expect(missing.exitCode).to.equal(3)
    expect(missing.stderr).to.include('No job named no-such-job; nothing was changed.')
    const removed = await cli.run(['rm', 'a', 'b'])
    expect(removed.exitCode, removed.stdout + removed.stderr).to.equal(0)
    expect(removed.stdout).to.include('Removed jobs a, b.')
    expect((await cli.run(['jobs', '--json'])).json<Array<{name: string}>>().map((j) => j.name)).to.deep.equal(['stuck'])
  })

  it('replaces a container removed behind its back', async () => {
    const a = startDaemon(cli)
    procs.push(a)
    await a.waitFor(/acting as the controller/)
    expect((await cli.run(['run', 'keep', '--image', getTestbed().image, '--mem', '16Mi', '--', 'sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'])).exitCode).to.equal(0)
    const [task] = (await cli.run(['ps', 'keep', '--json'])).json<Array<{id: string; node: string; containerName: string}>>()
    const host = getTestbed().hosts.find((h) => h.ip === task!.node)!
    expect((await sshRun(getTestbed(), host.name, `podman rm -f ${task!.containerName}`)).code).to.equal(0)
    // Seen gone (lost), or caught between podman's stop and its removal (exited 0 on TERM): either way it ends.
    await a.waitFor(/ended keep\.0 on .*(lost: container disappeared|failed: container exited)/)
    // The replacement (after its restart back-off when the end was seen as an exit).
    let now: Array<{id: string; state: string}> = []
    for (let i = 0; i < 100; i++) {
      now = (await cli.run(['ps', 'keep', '--json'])).json<Array<{id: string; state: string}>>()
      if (now.length === 1 && now[0]!.state === 'running' && now[0]!.id !== task!.id) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }

    expect(now.map((t) => t.state)).to.deep.equal(['running'])
    expect(now[0]!.id).not.to.equal(task!.id)
  })

  it('a daemon killed with -9 on this machine is noticed at once: schedule and commands take over without waiting for its lease to lapse', async () => {
    const a = startDaemon(cli)
    procs.push(a)
    await a.waitFor(/acting as the controller/)
    a.child.kill('SIGKILL')
    await a.child
    const r = await cli.run(['schedule'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.durationMs).to.be.lessThan(10_000)

    // A command started right after the kill does its own pass.
    const b = startDaemon(cli)
    procs.push(b)
    await b.waitFor(/acting as the controller/)
    b.child.kill('SIGKILL')
    await b.child
    const run = await cli.run(['run', 'late', '--image', getTestbed().image, '--mem', '16Mi', '--json', '--', 'sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'])
    expect(run.exitCode, run.stderr).to.equal(0)
    expect(run.json<{pass: {convergedBy?: unknown; actions: Array<{kind: string}>}}>().pass.actions.map((a) => a.kind)).to.include('start')
    expect(run.durationMs).to.be.lessThan(20_000)
  })
})
