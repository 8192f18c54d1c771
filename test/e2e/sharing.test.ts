/**
 * Sharing a cluster end to end (issue 16): a quota keeps a team's work pending with its
 * reason, and a high-priority task preempts a low-priority one on a real node once the
 * preemption delay has passed (and not before).
 */
import {expect} from 'chai'

import {sshRun, type Testbed} from '../testbed/testbed.js'
import {type CliResult, CliSandbox} from './cli.js'
import {getTestbed} from './fixture.js'
import type {TaskJson} from './http.js'

const said = (r: CliResult): string => `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`

/** Names of this cluster's containers on a host (podman). */
async function containersOn(tb: Testbed, host: string): Promise<string[]> {
  const r = await sshRun(tb, host, `podman ps -a --filter label=io.clusterctl.cluster --format '{{.Names}}'`)
  return r.stdout.split('\n').filter(Boolean).sort()
}

describe('e2e: sharing (team quotas, priorities and preemption)', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let tb: Testbed
  let host: string

  beforeEach(async () => {
    tb = getTestbed()
    cli = new CliSandbox()
    const h = tb.hosts.find((x) => x.runtimes.includes('podman'))!
    host = h.name
    const add = await cli.run(['add-node', `root@${h.ip}`, '--name', 'small', '--key', tb.keyPath, '--runtime', 'podman', '--resources', 'cpus=1,mem=1Gi'])
    expect(add.exitCode, said(add)).to.equal(0)
  })

  afterEach(async () => {
    // Nothing may be left running, whatever the test did.
    const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>()
    for (const j of jobs) await cli.run(['rm', j.name])
    const left = await containersOn(tb, host)
    if (left.length > 0) await sshRun(tb, host, `podman rm -f -t 0 ${left.join(' ')}`)
    cli.cleanup()
    expect(left).to.deep.equal([])
  })

  const tasks = async (job: string): Promise<TaskJson[]> => (await cli.run(['ps', job, '--json'])).json<TaskJson[]>()

  it('a quota is a hard limit: work beyond it stays pending with the reason, and teams shows the use', async () => {
    expect((await cli.run(['team', 'set', 'data', '--quota', 'cpus=0.2'])).exitCode).to.equal(0)
    const run = await cli.run(['run', 'q', '--image', tb.image, '--team', 'data', '--instances', '3', '--cpus', '0.1', '--mem', '32Mi', '--', 'sleep', '3600'])
    expect(run.exitCode, said(run)).to.equal(4)
    const ts = await tasks('q')
    expect(ts.filter((t) => t.state === 'running')).to.have.length(2)
    expect(ts.filter((t) => t.state === 'pending').map((t) => t.reason)).to.deep.equal(['team data over quota: cpus 0.2/0.2'])
    const teams = (await cli.run(['teams', '--json'])).json<Array<{name: string; running: number; pending: number; quotaUse: {cpus?: number}}>>()
    expect(teams.find((t) => t.name === 'data')).to.deep.include({running: 2, pending: 1, quotaUse: {cpus: 1}})
  })

  it('a task pending for the preemption delay stops a lower-priority one and starts in its place; not before the delay', async () => {
    const low = await cli.run(['run', 'low', '--image', tb.image, '--kind', 'batch', '--priority', '20', '--cpus', '1', '--mem', '32Mi', '--', 'sleep', '3600'])
    expect(low.exitCode, said(low)).to.equal(0)
    const lowContainer = (await tasks('low'))[0] as TaskJson & {containerName: string}
    const high = await cli.run(['run', 'high', '--image', tb.image, '--priority', '80', '--cpus', '1', '--mem', '32Mi', '--', 'sleep', '3600'])
    expect(high.exitCode, said(high)).to.equal(4)

    // The default delay (3 min) has not passed: nothing is preempted.
    const early = await cli.run(['schedule', '--json'])
    expect(early.exitCode, said(early)).to.equal(4)
    expect(early.json<{actions: Array<{kind: string}>}>().actions.filter((a) => a.kind === 'preempt')).to.deep.equal([])

    // --dry-run shows the planned preemption and changes nothing.
    const dry = await cli.run(['schedule', '--dry-run', '--preemption-delay', '0s', '--json'])
    expect(dry.json<{actions: Array<{kind: string; job: string; detail: string}>}>().actions.filter((a) => a.kind === 'preempt').map((a) => `${a.job}: ${a.detail}`), said(dry)).to.deep.equal(['low: preempted by high.0 (priority 80)'])
    expect((await tasks('low')).filter((t) => t.state === 'running')).to.have.length(1)

    const pass = await cli.run(['schedule', '--preemption-delay', '0s', '--json'])
    expect(pass.json<{actions: Array<{kind: string; ok: boolean}>}>().actions.filter((a) => a.kind === 'preempt' || a.kind === 'start').map((a) => `${a.kind} ${a.ok}`), said(pass)).to.deep.equal(['preempt true', 'start true'])
    const h = (await tasks('high')).find((t) => t.state === 'running')
    expect(h?.node, said(pass)).to.equal('small')
    // The low task's container is gone from the host; its replacement waits (priority 20 preempts nothing here).
    const names = await containersOn(tb, host)
    expect(names).to.not.include(lowContainer.containerName)
    expect(names).to.have.length(1)
    const events = (await cli.run(['events', '--json'])).json<Array<{type: string; message: string}>>()
    expect(events.find((e) => e.type === 'task.preempts')?.message).to.match(/^high\.0: preempts low\.0 \(priority 20\) on small/)
  })
})
