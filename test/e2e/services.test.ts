/**
 * Services end to end, for podman AND containerd: run/apply/ps/scale/stop/rm/
 * schedule through the built CLI against the testbed's real runtimes.
 */
import {expect} from 'chai'
import {execa} from 'execa'
import fs from 'node:fs'
import path from 'node:path'

import type {Testbed} from '../testbed/testbed.js'
import {CliSandbox, PROJECT_ROOT} from './cli.js'
import {clusterContainers, getTestbed} from './fixture.js'
import {httpGet, type TaskJson} from './http.js'

interface PassJson {
  actions: Array<{kind: string; job: string; instance: number | null; node: string | null; ok: boolean}>
  pending: Array<{job: string; instance: number; reason: string; counts: Record<string, number>}>
  unchanged: boolean
}

/** Exits on SIGTERM (PID 1 ignores signals it has no handler for), so stops are quick. */
const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait']

const HTTPD = `mkdir -p /www && echo "instance $CLUSTERCTL_INSTANCE" > /www/index.html && exec httpd -f -p $PORT0 -h /www`

for (const runtime of ['podman', 'containerd'] as const) {
  describe(`e2e: services on ${runtime}`, function () {
    this.timeout(300_000)
    let cli: CliSandbox
    let tb: Testbed

    beforeEach(async () => {
      tb = getTestbed()
      cli = new CliSandbox()
      const full = tb.hosts.filter((h) => h.runtimes.length > 0)
      const add = await cli.run(['add-node', ...full.map((h) => `root@${h.ip}`), '--key', tb.keyPath, '--runtime', runtime, '--resources', 'cpus=2,mem=1Gi'])
      expect(add.exitCode, add.stderr).to.equal(0)
    })

    afterEach(async () => {
      // Nothing may be left running, whatever the test did.
      const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>()
      for (const j of jobs) await cli.run(['rm', j.name])
      expect(await clusterContainers(tb, [runtime])).to.deep.equal([])
      cli.cleanup()
    })

    it('runs a 3-instance HTTP service with hostname:UNIQUE on 3 hosts, answering on every endpoint; schedule again changes nothing', async () => {
      const run = await cli.run(['run', 'web', '--image', tb.image, '--instances', '3', '-p', '0', '--constraint', 'hostname:UNIQUE', '--cpus', '0.2', '--mem', '64Mi', '--json', '--', 'sh', '-c', HTTPD])
      expect(run.exitCode, run.stderr).to.equal(0)
      const tasks = run.json<{tasks: TaskJson[]}>().tasks
      expect(tasks).to.have.length(3)
      expect(new Set(tasks.map((t) => t.node)).size).to.equal(3)
      for (const t of tasks) {
        expect(t.state).to.equal('running')
        expect(t.ports[0]!.hostPort).to.be.within(31000, 32000)
        expect(await httpGet(`http://${t.ports[0]!.endpoint}/`)).to.equal(`instance ${t.instance}\n`)
      }

      const again = await cli.run(['schedule', '--json'])
      expect(again.exitCode, again.stderr).to.equal(0)
      expect(again.json<PassJson>()).to.deep.include({unchanged: true, actions: [], pending: []})
      expect((await clusterContainers(tb, [runtime])).length).to.equal(3)
    })

    if (runtime === 'podman') {
      it('publishes a fixed container port through the bridge (-p 8080 reaches the app on 8080)', async () => {
        const run = await cli.run(['run', 'fixed', '--image', tb.image, '-p', '8080', '--mem', '32Mi', '--json', '--', 'sh', '-c', 'echo fixed > /index.html && exec httpd -f -p 8080 -h /'])
        expect(run.exitCode, run.stderr).to.equal(0)
        const task = run.json<{tasks: TaskJson[]}>().tasks[0]!
        expect(task.ports[0]).to.deep.include({containerPort: 8080, protocol: 'tcp'})
        expect(await httpGet(`http://${task.ports[0]!.endpoint}/`)).to.equal('fixed\n')
      })
    }

    if (runtime === 'podman') {
      it('a cordoned node takes no new work until uncordoned; events record every change and -f follows them', async () => {
        const nodes = (await cli.run(['nodes', '--json'])).json<Array<{name: string}>>().map((n) => n.name)
        const follow = execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'run.js'), 'events', '-f', '--json'], {env: {HOME: cli.home, CLUSTERCTL_DB: cli.db, NO_COLOR: '1'}, reject: false})
        const lines: string[] = []
        follow.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))

        const cordon = await cli.run(['node', 'cordon', nodes[0]!, '--json'])
        expect(cordon.exitCode, cordon.stderr).to.equal(0)
        expect(cordon.json<{node: {state: string}; changed: boolean}>()).to.deep.include({changed: true})
        expect((await cli.run(['node', 'cordon', nodes[0]!, '--json'])).json<{changed: boolean}>().changed).to.equal(false)

        const run = await cli.run(['run', 'uniq', '--image', tb.image, '--instances', '3', '--constraint', 'hostname:UNIQUE', '--mem', '16Mi', '--', ...SLEEPER])
        expect(run.exitCode).to.equal(4)
        expect(run.stdout).to.include('0/3 nodes fit: 2 fail hostname:UNIQUE (their node already runs an instance), 1 cordoned')
        expect((await cli.run(['ps', 'uniq', '--json'])).json<TaskJson[]>().filter((t) => t.node === nodes[0])).to.deep.equal([])

        expect((await cli.run(['node', 'uncordon', nodes[0]!])).exitCode).to.equal(0)
        const again = await cli.run(['schedule'])
        expect(again.exitCode, again.stdout).to.equal(0)
        expect((await cli.run(['ps', 'uniq', '--json'])).json<TaskJson[]>().map((t) => t.state)).to.deep.equal(['running', 'running', 'running'])

        const events = (await cli.run(['events', '--since', '10m', '--json'])).json<Array<{type: string; subject: string; message: string}>>()
        const types = events.map((e) => e.type)
        for (const t of ['node.added', 'node.cordoned', 'job.created', 'task.pending', 'task.unschedulable', 'task.staging', 'task.running', 'node.uncordoned']) expect(types, t).to.include(t)
        expect(events.find((e) => e.type === 'task.unschedulable')!.message).to.include('1 cordoned')
        expect((await cli.run(['events', '--node', nodes[0]!, '--json'])).json<Array<{type: string}>>().map((e) => e.type)).to.deep.equal(['node.added', 'node.cordoned', 'node.uncordoned'])
        expect((await cli.run(['events', '--since', 'yesterday'])).exitCode).to.equal(2)

        // the follower saw the changes made by the other processes, as JSON lines
        for (let i = 0; i < 20 && !lines.some((l) => l.includes('node.uncordoned')); i++) await new Promise((resolve) => setTimeout(resolve, 250))
        follow.kill('SIGTERM')
        await follow
        const followed = lines.map((l) => (JSON.parse(l) as {type: string}).type)
        expect(followed).to.include.members(['node.cordoned', 'task.running', 'node.uncordoned'])
      })
    }

    it('spread spreads; binpack fills a node before the next', async () => {
      const spread = await cli.run(['run', 'spread', '--image', tb.image, '--instances', '3', '--cpus', '0.1', '--mem', '16Mi', '--strategy', 'spread', '--json', '--', ...SLEEPER])
      expect(spread.exitCode, spread.stderr).to.equal(0)
      expect(new Set(spread.json<{tasks: TaskJson[]}>().tasks.map((t) => t.node)).size).to.equal(3)
      const pack = await cli.run(['run', 'packed', '--image', tb.image, '--instances', '3', '--cpus', '0.5', '--mem', '64Mi', '--json', '--', ...SLEEPER])
      expect(pack.exitCode, pack.stderr).to.equal(0)
      expect(new Set(pack.json<{tasks: TaskJson[]}>().tasks.map((t) => t.node)).size).to.equal(1)
      // the next one no longer fits there (3 x 0.5 + 0.1 of 2 cpus): binpack takes the next node
      const more = await cli.run(['run', 'more', '--image', tb.image, '--cpus', '0.5', '--mem', '64Mi', '--json', '--', ...SLEEPER])
      expect(more.exitCode, more.stderr).to.equal(0)
      expect(more.json<{tasks: TaskJson[]}>().tasks[0]!.node).not.to.equal(pack.json<{tasks: TaskJson[]}>().tasks[0]!.node)
    })

    it('restart is a rolling deployment: the first pass starts one extra instance and stops none; rollout status drives it to the end', async () => {
      expect((await cli.run(['run', 'svc', '--image', tb.image, '--instances', '2', '--mem', '32Mi', '--', ...SLEEPER])).exitCode).to.equal(0)
      // version 1 completes first (its instances available for minHealthyTime); a restart before that would record it as superseded
      const created = await cli.run(['rollout', 'status', 'svc'])
      expect(created.exitCode, created.stdout + created.stderr).to.equal(0)
      const before = (await cli.run(['ps', 'svc', '--json'])).json<TaskJson[]>()
      const restart = await cli.run(['restart', 'svc', '--json'])
      expect(restart.exitCode, restart.stderr).to.equal(0)
      const actions = restart.json<{pass: PassJson}>().pass.actions
      // maxSurge 1, maxUnavailable 0 (the defaults): one new container beside the old ones, no old one stopped yet
      expect(actions.filter((a) => a.kind === 'start' && a.ok)).to.have.length(1)
      expect(actions.filter((a) => a.kind === 'stop')).to.deep.equal([])
      const status = await cli.run(['rollout', 'status', 'svc'])
      expect(status.exitCode, status.stdout + status.stderr).to.equal(0)
      expect(status.stdout).to.include('version 2 succeeded')
      const after = (await cli.run(['ps', 'svc', '--json'])).json<TaskJson[]>()
      expect(after.map((t) => [t.instance, t.state])).to.deep.equal([[0, 'running'], [1, 'running']])
      expect(after.map((t) => t.id)).not.to.include.members(before.map((t) => t.id))
      expect((await clusterContainers(tb, [runtime])).length).to.equal(2)
      const history = (await cli.run(['rollout', 'history', 'svc', '--json'])).json<Array<{version: number; cause: string; state: string}>>()
      expect(history.map((d) => `${d.version}:${d.cause}:${d.state}`)).to.deep.equal(['2:restart:succeeded', '1:create:succeeded'])
    })

    it('logs prints a task\'s output; inspect shows the job and its events', async () => {
      const run = await cli.run(['run', 'talker', '--image', tb.image, '--mem', '32Mi', '-e', 'WORD=it works', '--json', '--', 'sh', '-c', 'echo "said: $WORD"; echo to-stderr >&2; trap "exit 0" TERM; sleep 3600 & wait'])
      expect(run.exitCode, run.stderr).to.equal(0)
      const task = run.json<{tasks: TaskJson[]}>().tasks[0]!
      let logs = await cli.run(['logs', task.id.slice(0, 8), '--tail', '10'])
      for (let i = 0; i < 20 && !logs.stdout.includes('said'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        logs = await cli.run(['logs', task.id.slice(0, 8), '--tail', '10'])
      }

      expect(logs.exitCode, logs.stderr).to.equal(0)
      expect(logs.stdout + logs.stderr).to.include('said: it works').and.to.include('to-stderr')
      const inspect = await cli.run(['inspect', 'talker', '--json'])
      expect(inspect.exitCode).to.equal(0)
      const detail = inspect.json<{job: {name: string; running: number; instances: number}; events: Array<{type: string}>}>()
      expect(detail.job).to.deep.include({name: 'talker', running: 1, instances: 1})
      expect(detail.events.map((e) => e.type)).to.include('job.created')
      const byTask = await cli.run(['inspect', task.id.slice(0, 8), '--json'])
      expect(byTask.json<{task: TaskJson}>().task.id).to.equal(task.id)
      expect((await cli.run(['logs', 'nope-nope'])).exitCode).to.equal(3)
    })

    it('a job that uses a service gets its stable address (an edge node and the service port), never an instance\'s; the service cannot be removed under it', async () => {
      const db = await cli.run(['run', 'db', '--image', tb.image, '-p', '0', '--mem', '32Mi', '--json', '--', ...SLEEPER])
      expect(db.exitCode, db.stderr).to.equal(0)
      const servicePort = db.json<{job: {servicePort: number}}>().job.servicePort
      expect(servicePort).to.be.within(10_000, 10_999)
      const nodes = (await cli.run(['nodes', '--json'])).json<Array<{name: string; address: {host: string}}>>()
      const edge = [...nodes].sort((a, b) => (a.name < b.name ? -1 : 1))[0]!
      expect((await cli.run(['node', 'edge', edge.name])).exitCode).to.equal(0)
      const edgeIp = edge.address.host
      const client = await cli.run(['run', 'client', '--image', tb.image, '--uses', 'db', '--mem', '32Mi', '--json', '--', 'sh', '-c', 'echo "db at $DB_SERVICE_HOST:$DB_SERVICE_PORT of $DB_SERVICE_HOSTS"; trap "exit 0" TERM; sleep 3600 & wait'])
      expect(client.exitCode, client.stderr).to.equal(0)
      const task = client.json<{tasks: TaskJson[]}>().tasks[0]!
      let logs = await cli.run(['logs', task.id.slice(0, 8)])
      for (let i = 0; i < 20 && !logs.stdout.includes('db at'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        logs = await cli.run(['logs', task.id.slice(0, 8)])
      }

      expect(logs.stdout).to.include(`db at ${edgeIp}:${servicePort} of ${edgeIp}`)
      // a used service that does not exist is refused at submit; the one in use cannot be removed under it
      const unknown = await cli.run(['run', 'other', '--image', tb.image, '--uses', 'cache', '--', ...SLEEPER])
      expect(unknown.exitCode).to.equal(2)
      expect(unknown.stderr).to.include('other uses cache, which does not exist')
      const rm = await cli.run(['rm', 'db'])
      expect(rm.exitCode).to.equal(2)
      expect(rm.stderr).to.include('db is used by client')
      expect((await cli.run(['rm', 'client', 'db'])).exitCode).to.equal(0)
    })

    it('apply reads several documents from stdin; schedule --dry-run shows the plan and changes nothing', async () => {
      const docs = `name: one\nimage: ${tb.image}\nmem: 16Mi\ncommand: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n---\nname: two\nimage: ${tb.image}\nmem: 16Mi\ninstances: 2\ncommand: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n`
      const recorded = await cli.run(['apply', '-f', '-', '--no-start', '--json'], {input: docs})
      expect(recorded.exitCode, recorded.stderr).to.equal(0)
      expect(recorded.json<{jobs: Array<{name: string; change: string}>}>().jobs.map((j) => [j.name, j.change])).to.deep.equal([['one', 'created'], ['two', 'created']])

      const plan = await cli.run(['schedule', '--dry-run', '--json'])
      expect(plan.exitCode, plan.stderr).to.equal(0)
      const dry = plan.json<PassJson & {dryRun: boolean}>()
      expect(dry.dryRun).to.equal(true)
      expect(dry.actions.filter((a) => a.kind === 'place').map((a) => `${a.job}.${a.instance}`).sort()).to.deep.equal(['one.0', 'two.0', 'two.1'])
      expect((await cli.run(['ps', '--json'])).json<TaskJson[]>()).to.deep.equal([])
      expect(await clusterContainers(tb, [runtime])).to.deep.equal([])

      const real = await cli.run(['schedule', '--json'])
      expect(real.exitCode, real.stderr).to.equal(0)
      expect((await cli.run(['ps', '--json'])).json<TaskJson[]>().map((t) => `${t.job}.${t.instance}:${t.state}`)).to.deep.equal(['one.0:running', 'two.0:running', 'two.1:running'])
    })

    it('keeps an oversized job pending with its reason and exit code 4', async () => {
      const big = await cli.run(['run', 'big', '--image', tb.image, '--mem', '2Gi', '--', ...SLEEPER])
      expect(big.exitCode).to.equal(4)
      expect(big.stdout).to.include('0/3 nodes fit: 3 insufficient mem (need 2Gi, max free 1Gi)')
      const ps = (await cli.run(['ps', 'big', '--json'])).json<TaskJson[]>()
      expect(ps.map((t) => [t.state, t.reason])).to.deep.equal([['pending', '0/3 nodes fit: 3 insufficient mem (need 2Gi, max free 1Gi)']])
      expect((await cli.run(['schedule'])).exitCode).to.equal(4)
      expect(await clusterContainers(tb, [runtime])).to.deep.equal([])
    })

    it('scales up and down; stop leaves no container behind', async () => {
      expect((await cli.run(['run', 'svc', '--image', tb.image, '--instances', '2', '--mem', '32Mi', '--', ...SLEEPER])).exitCode).to.equal(0)
      const up = await cli.run(['scale', 'svc', '5', '--json'])
      expect(up.exitCode, up.stderr).to.equal(0)
      expect((await cli.run(['ps', 'svc', '--json'])).json<TaskJson[]>().filter((t) => t.state === 'running').map((t) => t.instance)).to.deep.equal([0, 1, 2, 3, 4])
      expect((await clusterContainers(tb, [runtime])).length).to.equal(5)

      const down = await cli.run(['scale', 'svc', '1'])
      expect(down.exitCode, down.stderr).to.equal(0)
      expect((await cli.run(['ps', 'svc', '--json'])).json<TaskJson[]>().map((t) => t.instance)).to.deep.equal([0])
      expect((await clusterContainers(tb, [runtime])).length).to.equal(1)

      const stop = await cli.run(['stop', 'svc'])
      expect(stop.exitCode, stop.stderr).to.equal(0)
      expect(await clusterContainers(tb, [runtime])).to.deep.equal([])
      const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string; state: string; running: number}>>()
      expect(jobs.map((j) => [j.name, j.state, j.running])).to.deep.equal([['svc', 'stopped', 0]])
    })

    it('applies a spec file: unchanged changes nothing, a change replaces the containers, an error changes nothing', async () => {
      const file = path.join(cli.home, 'web.yaml')
      const spec = (greeting: string, instances = 2) => `name: web\nimage: ${tb.image}\ninstances: ${instances}\nports: [0]\nmem: 32Mi\nenv: {GREETING: ${greeting}}\ncommand: 'echo $GREETING > /index.html && exec httpd -f -p $PORT0 -h /'\n`
      fs.writeFileSync(file, spec('one'))
      const first = await cli.run(['apply', '-f', file, '--json'])
      expect(first.exitCode, first.stderr).to.equal(0)
      expect(first.json<{jobs: Array<{change: string}>}>().jobs[0]!.change).to.equal('created')
      const before = (await cli.run(['ps', 'web', '--json'])).json<TaskJson[]>()
      expect(await httpGet(`http://${before[0]!.ports[0]!.endpoint}/`)).to.equal('one\n')

      const same = await cli.run(['apply', '-f', file, '--json'])
      expect(same.exitCode).to.equal(0)
      expect(same.json<{jobs: Array<{name: string; change: string; what: string[]}>; pass: PassJson}>().jobs.map(({name, change, what}) => ({name, change, what}))).to.deep.equal([{name: 'web', change: 'unchanged', what: []}])
      expect(same.json<{pass: PassJson}>().pass.unchanged).to.equal(true)

      fs.writeFileSync(file, spec('two'))
      const changed = await cli.run(['apply', '-f', file, '--json'])
      expect(changed.exitCode, changed.stderr).to.equal(0)
      const rolled = await cli.run(['rollout', 'status', 'web'])
      expect(rolled.exitCode, rolled.stdout + rolled.stderr).to.equal(0)
      const after = (await cli.run(['ps', 'web', '--json'])).json<TaskJson[]>()
      expect(after.map((t) => t.instance)).to.deep.equal([0, 1])
      expect(after.map((t) => t.id)).not.to.include.members(before.map((t) => t.id))
      for (const t of after) expect(await httpGet(`http://${t.ports[0]!.endpoint}/`)).to.equal('two\n')
      expect((await clusterContainers(tb, [runtime])).length).to.equal(2)

      fs.writeFileSync(file, spec('three', -1))
      const bad = await cli.run(['apply', '-f', file])
      expect(bad.exitCode).to.equal(2)
      expect(bad.stderr).to.include('instances: must be >= 0, got -1')
      expect((await cli.run(['ps', 'web', '--json'])).json<TaskJson[]>().map((t) => t.id)).to.deep.equal(after.map((t) => t.id))
    })
  })
}
