/**
 * Placement end to end (issue 18, "First contact"): host ports in make-before-break and
 * on hosts shared by several node names, constraints kept through a restart, and stops
 * that take milliseconds because containers run under an init.
 */
import {expect} from 'chai'

import {sshRun, type Testbed} from '../testbed/testbed.js'
import {type CliResult, CliSandbox} from './cli.js'
import {getTestbed} from './fixture.js'
import {httpGet, type TaskJson} from './http.js'

const HTTPD = `mkdir -p /www && echo "instance $CLUSTERCTL_INSTANCE" > /www/index.html && exec httpd -f -p $PORT0 -h /www`

const said = (r: CliResult): string => `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`

/** Every container of any cluster on the test hosts, whoever owns it (a node removed with --force leaves its containers). */
async function removeAllContainers(tb: Testbed): Promise<void> {
  for (const h of tb.hosts.filter((x) => x.runtimes.length > 0)) {
    await sshRun(tb, h.name, `podman rm -f -t 0 $(podman ps -aq --filter label=io.clusterctl.cluster) >/dev/null 2>&1; for c in $(ctr -n clusterctl c ls -q); do ctr -n clusterctl t kill -s KILL $c >/dev/null 2>&1; sleep 0.2; ctr -n clusterctl t rm -f $c >/dev/null 2>&1; ctr -n clusterctl c rm $c >/dev/null 2>&1; done; true`)
  }
}

describe('e2e: placement (ports on shared hosts and in make-before-break, constraints through restarts, stop grace)', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let tb: Testbed

  beforeEach(() => {
    tb = getTestbed()
    cli = new CliSandbox()
  })

  afterEach(async () => {
    const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>()
    for (const j of jobs) await cli.run(['rm', j.name])
    await removeAllContainers(tb)
    cli.cleanup()
  })

  const running = async (job: string): Promise<TaskJson[]> => (await cli.run(['ps', job, '--json'])).json<TaskJson[]>().filter((t) => t.state === 'running')

  it('three names for one host (the lab set-up) share its ports: hostname:GROUP_BY with -p 0 runs one per name, and a restart keeps it so', async () => {
    const h = tb.hosts[0]!
    const names = ['lab-a', 'lab-b', 'lab-c']
    for (const name of names) {
      const add = await cli.run(['add-node', `root@${h.ip}`, '--name', name, '--key', tb.keyPath, '--runtime', 'podman', '--resources', 'cpus=2,mem=1Gi'])
      expect(add.exitCode, said(add)).to.equal(0)
    }

    const run = await cli.run(['run', 'g', '--image', tb.image, '--instances', '3', '-p', '0', '--constraint', 'hostname:GROUP_BY', '--cpus', '0.1', '--mem', '32Mi', '--json', '--', 'sh', '-c', HTTPD])
    expect(run.exitCode, said(run)).to.equal(0)
    for (let round = 0; round <= 2; round++) {
      if (round > 0) {
        const restart = await cli.run(['restart', 'g', '--json'])
        expect(restart.exitCode, `restart ${round}: ${said(restart)}`).to.equal(0)
        const rolled = await cli.run(['rollout', 'status', 'g'])
        expect(rolled.exitCode, `rollout ${round}: ${said(rolled)}`).to.equal(0)
      }

      const tasks = await running('g')
      expect(tasks.map((t) => t.node).sort(), `round ${round}`).to.deep.equal(names)
      expect(new Set(tasks.map((t) => t.ports[0]!.hostPort)).size, `round ${round}: distinct host ports`).to.equal(3)
      for (const t of tasks) expect(await httpGet(`http://${t.ports[0]!.endpoint}/`)).to.equal(`instance ${t.instance}\n`)
    }

    // a pass later, no name takes another's container for an orphan, and nothing changes
    const again = await cli.run(['schedule', '--json'])
    expect(again.exitCode, said(again)).to.equal(0)
    expect(again.json<{unchanged: boolean}>().unchanged, said(again)).to.equal(true)
  })

  it('a port held by a container still alive after `node rm --force` is not handed out again on that host', async () => {
    const h = tb.hosts[0]!
    expect((await cli.run(['add-node', `root@${h.ip}`, '--name', 'old', '--key', tb.keyPath, '--runtime', 'podman'])).exitCode).to.equal(0)
    const run = await cli.run(['run', 'web', '--image', tb.image, '-p', '0', '--mem', '32Mi', '--json', '--', 'sh', '-c', HTTPD])
    expect(run.exitCode, said(run)).to.equal(0)
    const first = run.json<{tasks: TaskJson[]}>().tasks[0]!
    expect((await cli.run(['node', 'rm', 'old', '--force'])).exitCode).to.equal(0)
    expect((await cli.run(['add-node', `root@${h.ip}`, '--name', 'new', '--key', tb.keyPath, '--runtime', 'podman'])).exitCode).to.equal(0)
    const pass = await cli.run(['schedule', '--json'])
    expect(pass.exitCode, said(pass)).to.equal(0)
    const now = await running('web')
    expect(now.map((t) => t.node)).to.deep.equal(['new'])
    expect(now[0]!.ports[0]!.hostPort).not.to.equal(first.ports[0]!.hostPort)
    expect(await httpGet(`http://${now[0]!.ports[0]!.endpoint}/`)).to.equal('instance 0\n')
  })

  it('restart of a hostname:UNIQUE job on exactly as many nodes completes (the old tasks do not block their replacements)', async () => {
    const full = tb.hosts.filter((x) => x.runtimes.length > 0)
    const add = await cli.run(['add-node', ...full.map((x) => `root@${x.ip}`), '--key', tb.keyPath, '--runtime', 'podman', '--resources', 'cpus=2,mem=1Gi'])
    expect(add.exitCode, said(add)).to.equal(0)
    const run = await cli.run(['run', 'u', '--image', tb.image, '--instances', '3', '-p', '0', '--constraint', 'hostname:UNIQUE', '--mem', '32Mi', '--', 'sh', '-c', HTTPD])
    expect(run.exitCode, said(run)).to.equal(0)
    const before = await running('u')
    const restart = await cli.run(['restart', 'u'])
    expect(restart.exitCode, said(restart)).to.equal(0)
    const rolled = await cli.run(['rollout', 'status', 'u'])
    expect(rolled.exitCode, said(rolled)).to.equal(0)
    const after = await running('u')
    expect(after.map((t) => t.node).sort()).to.deep.equal(full.map((x) => x.ip).sort())
    expect(after.map((t) => t.id)).not.to.include.members(before.map((t) => t.id))
  })

  /** How long the runtime itself takes to stop the job's container on SIGTERM (no SSH or CLI time in it), in ms. */
  async function runtimeStopMs(runtime: 'podman' | 'containerd', host: string, job: string): Promise<number> {
    const script =
      runtime === 'podman'
        ? `n=$(podman ps -q --filter label=io.clusterctl.job=${job}); s=$(date +%s%N); podman stop -t 10 $n >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000))`
        : `n=$(ctr -n clusterctl c ls -q | grep '^cctl-${job}-'); s=$(date +%s%N); ctr -n clusterctl t kill $n; while ctr -n clusterctl t ls | grep -q "^$n .*RUNNING" && [ $((($(date +%s%N) - s) / 1000000)) -lt 10000 ]; do sleep 0.05; done; [ $((($(date +%s%N) - s) / 1000000)) -lt 10000 ] || ctr -n clusterctl t kill -s KILL $n; e=$(date +%s%N); echo $(((e - s) / 1000000))`
    const r = await sshRun(tb, host, script, {timeoutMs: 60_000})
    expect(r.code, r.stderr).to.equal(0)
    return Number(r.stdout.trim())
  }

  for (const runtime of ['podman', 'containerd'] as const) {
    it(`busybox sleep and httpd as the command stop on SIGTERM in milliseconds under the node's init; with --no-init they wait out the grace (${runtime})`, async () => {
      const h = tb.hosts[0]!
      expect((await cli.run(['add-node', `root@${h.ip}`, '--key', tb.keyPath, '--runtime', runtime])).exitCode).to.equal(0)
      const jobs: Array<[string, string[]]> = [
        ['sleeper', ['--', 'sleep', '3600']],
        ['web', ['-p', '0', '--', 'httpd', '-f', '-p', '8080']],
        ['bare', ['--no-init', '--', 'sleep', '3600']],
      ]
      for (const [job, args] of jobs) {
        const run = await cli.run(['run', job, '--image', tb.image, '--mem', '32Mi', ...args])
        expect(run.exitCode, said(run)).to.equal(0)
      }

      const ms = Object.fromEntries(await Promise.all(jobs.map(async ([job]) => [job, await runtimeStopMs(runtime, h.name, job)] as const)))
      console.log(`      SIGTERM to stopped on ${runtime}: ${JSON.stringify(ms)} ms`)
      expect(ms.sleeper, 'sleep under the init').to.be.below(3000)
      expect(ms.web, 'httpd under the init').to.be.below(3000)
      expect(ms.bare, 'sleep as PID 1 ignores SIGTERM').to.be.at.least(9000)
      for (const [job] of jobs) {
        const stop = await cli.run(['stop', job])
        expect(stop.exitCode, said(stop)).to.equal(0)
      }
    })
  }
})
