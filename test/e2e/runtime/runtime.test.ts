/**
 * Both drivers against the real podman and containerd of testbed host h1, through a
 * real sshd: HTTP on a scheduler-style host port, cpu and memory limits in the cgroup,
 * env and args byte for byte, adoption, recreation on a new spec hash, exit codes, logs
 * (tail and follow with an abort), graceful and idempotent stop, and nothing left.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import {randomUUID} from 'node:crypto'

import {RuntimeClient, containerName, runtimeFor, specHashOf, taskLabels, type ContainerSpec, type ObservedContainer, type RuntimeName} from '../../../src/runtime/index.js'
import type {SshPool, Transport} from '../../../src/ssh/index.js'
import {getTestbed} from '../fixture.js'
import {httpGet, portAllocator, sh, testPool, transportTo, waitFor} from './helpers.js'

const MiB = 1024 * 1024

/** Reads the memory limit and CFS quota/period of a process's cgroup (v1 hybrid or v2). */
const CGROUP_LIMITS = `pid=$1
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cg=$(sed -n 's/^0:://p' /proc/$pid/cgroup)
  echo "mem $(cat /sys/fs/cgroup$cg/memory.max)"
  echo "cpu $(cat /sys/fs/cgroup$cg/cpu.max)"
else
  mcg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/$pid/cgroup)
  ccg=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ {print $3}' /proc/$pid/cgroup)
  for d in /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct; do if [ -d "$d$ccg" ]; then cdir=$d$ccg; break; fi; done
  echo "mem $(cat /sys/fs/cgroup/memory$mcg/memory.limit_in_bytes)"
  echo "cpu $(cat $cdir/cpu.cfs_quota_us) $(cat $cdir/cpu.cfs_period_us)"
fi`

/** The host pid of a container's main process. */
const MAIN_PID: Record<RuntimeName, string> = {
  podman: `podman inspect --format '{{.State.Pid}}' "$1"`,
  containerd: `ctr -n clusterctl tasks ls | awk -v n="$1" '$1 == n {print $2}'`,
}

/** Prints each argument and $WEIRD between markers no generated value contains. */
const ECHO_SCRIPT = `i=0; for a in "$@"; do printf '@@A%s[%s]@@\\n' "$i" "$a"; i=$((i+1)); done; printf '@@E[%s]@@\\n' "$WEIRD"`

function echoed(logs: string): {args: string[]; env: string | undefined} {
  const args: string[] = []
  for (const m of logs.matchAll(/@@A(\d+)\[([\s\S]*?)\]@@/g)) args[Number(m[1])] = m[2]!
  return {args, env: /@@E\[([\s\S]*?)\]@@/.exec(logs)?.[1]}
}

describe('e2e: container runtimes on a testbed host', function () {
  this.timeout(300_000)
  let pool: SshPool
  let transport: Transport
  let ip: string
  let image: string
  const cluster = `e2e-${randomUUID().slice(0, 8)}`
  const nextPort = portAllocator()

  before(() => {
    const tb = getTestbed()
    image = tb.image
    pool = testPool()
    ;({transport, ip} = transportTo(tb, pool, 'h1'))
  })
  after(async () => {
    await pool?.closeAll()
  })

  for (const runtimeName of ['podman', 'containerd'] as const) {
    describe(runtimeName, () => {
      let client: RuntimeClient
      const selector = {'io.clusterctl.cluster': cluster, 'io.clusterctl.job': `${runtimeName}-job`}

      function spec(overrides: Partial<ContainerSpec> & {instance?: number; taskId?: string} = {}): ContainerSpec {
        const taskId = overrides.taskId ?? randomUUID()
        const instance = overrides.instance ?? 0
        const jobName = `${runtimeName}-job`
        const base: Omit<ContainerSpec, 'labels'> = {
          name: containerName({clusterId: cluster, jobName, instance, taskId}),
          image,
          env: {},
          cpuMilli: 0,
          memBytes: 0,
          ports: [],
          volumes: [],
          ...overrides,
        }
        return {...base, labels: taskLabels({clusterId: cluster, jobName, instance, taskId, specHash: specHashOf(base)})}
      }

      async function observe(name: string): Promise<ObservedContainer | undefined> {
        return (await client.list(selector)).find((c) => c.name === name)
      }

      before(() => {
        client = new RuntimeClient(runtimeFor(runtimeName), transport)
      })

      after(async () => {
        for (const c of await client.list({'io.clusterctl.cluster': cluster}).catch(() => [])) await client.remove(c.name).catch(() => {})
      })

      it('serves HTTP on its host port with cpu/mem limits, env and args intact; a second start adopts it; a new spec recreates it', async () => {
        const port = nextPort()
        const weird = `tab\there "dq" 'sq' $HOME \`id\` \\ back\nnew line é 日本 🙂 *?[x]`
        const args = ['plain', 'two words', "it's", '$(reboot)', '', 'multi\nline', '--env', '-d']
        const web = spec({
          command: ['sh', '-c', `${ECHO_SCRIPT}; mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p "$PORT0" -h /www`, 'sh', ...args],
          env: {WEIRD: weird},
          cpuMilli: 500,
          memBytes: 64 * MiB,
          ports: [{containerPort: 0, hostPort: port, protocol: 'tcp'}],
        })

        expect((await client.start(web)).outcome).to.equal('started')
        const res = await waitFor(`http://${ip}:${port}/`, async () => httpGet(`http://${ip}:${port}/`))
        expect(res).to.deep.equal({status: 200, body: 'hi\n'})

        // Limits, read from the cgroup of the container's main process.
        const pid = (await sh(transport, MAIN_PID[runtimeName], web.name)).trim()
        expect(pid).to.match(/^\d+$/)
        const limits = await sh(transport, CGROUP_LIMITS, pid)
        expect(limits).to.match(new RegExp(`^mem ${64 * MiB}$`, 'm'))
        expect(limits).to.match(/^cpu 50000 100000$/m)

        // Env and args, byte for byte, from the logs (tail).
        const logs = await waitFor('the echo in the logs', async () => {
          const out = (await client.logs(web.name, {follow: false, tail: 100})).stdout
          return out.includes('@@E[') ? out : undefined
        })
        expect(echoed(logs)).to.deep.equal({args, env: weird})
        expect((await client.logs(web.name, {follow: false, tail: 1})).stdout.trim().split('\n')).to.have.length(1)

        // Observed with its labels; a second start adopts it.
        const seen = await observe(web.name)
        expect(seen).to.deep.include({state: 'running', exitCode: null, finishedAt: null, image})
        expect(seen!.labels).to.deep.include(web.labels)
        expect(seen!.startedAt).to.be.within(Date.now() - 120_000, Date.now() + 5_000)
        const again = await client.start(web)
        expect(again.outcome).to.equal('adopted')
        expect((await client.list(selector)).filter((c) => c.name === web.name)).to.have.length(1)

        // Another spec under the same name: replaced, still one container, new hash.
        const changed = {...web, env: {WEIRD: 'changed'}, labels: {...web.labels, 'io.clusterctl.spec-hash': 'v2'}, stopGraceSeconds: 1}
        expect((await client.start(changed)).outcome).to.equal('recreated')
        const after = (await client.list(selector)).filter((c) => c.name === web.name)
        expect(after).to.have.length(1)
        expect(after[0]!.labels['io.clusterctl.spec-hash']).to.equal('v2')
        expect(await waitFor('the new container to serve', async () => httpGet(`http://${ip}:${port}/`))).to.deep.include({status: 200})
        await client.stop(web.name, 1)
        expect(await observe(web.name)).to.equal(undefined)
      })

      it('follows logs until aborted, and the remote reader does not outlive the abort', async () => {
        const ticker = spec({command: ['sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done']})
        await client.start(ticker)
        const follower = `ps -eo pid,args | grep -F -- "$1" | grep -E 'logs|tail' | grep -v grep || true`
        const controller = new AbortController()
        let seen = ''
        const following = client
          .logs(ticker.name, {follow: true, tail: 1, signal: controller.signal, onStdout: (chunk) => (seen += chunk.toString('utf8'))})
          .then(
            () => 'resolved',
            (error: Error) => error.message,
          )
        await waitFor('five ticks', async () => (seen.match(/tick \d+/g) ?? []).length >= 5)
        // The positive control for the check below: the follower runs on the node now.
        expect((await sh(transport, follower, ticker.name)).trim()).to.not.equal('')
        controller.abort(new Error('enough'))
        expect(await following).to.equal('enough')
        const ticks = (seen.match(/tick (\d+)/g) ?? []).map((t) => Number(t.slice(5)))
        expect(ticks.every((t, i) => i === 0 || t === ticks[i - 1]! + 1), seen).to.equal(true)
        // A follower left behind would hold a session and the log open until the container ends.
        await waitFor('the remote log follower to end', async () => (await sh(transport, follower, ticker.name)).trim() === '', 10_000)
        await client.stop(ticker.name, 0)
      })

      it('reports an exited container with its exit code, and starts it again', async () => {
        const batch = spec({command: ['sh', '-c', 'echo ran; exit 7']})
        expect((await client.start(batch)).outcome).to.equal('started')
        const exited = await waitFor('exit code 7', async () => {
          const c = await observe(batch.name)
          return c?.state === 'exited' ? c : undefined
        })
        expect(exited).to.deep.include({exitCode: 7})
        expect(exited.finishedAt).to.be.within(Date.now() - 60_000, Date.now() + 5_000)
        // Observing again (containerd: the task was reaped) gives the same answer.
        expect(await observe(batch.name)).to.deep.include({state: 'exited', exitCode: 7})
        expect((await client.start(batch)).outcome).to.equal('restarted')
        await waitFor('it to run again and exit', async () => ((await client.logs(batch.name, {follow: false})).stdout.match(/ran/g) ?? []).length === 2)
        await client.remove(batch.name)
        expect(await observe(batch.name)).to.equal(undefined)
      })

      it('stops gracefully (the TERM handler runs), kills what ignores TERM, and a second stop is a no-op', async () => {
        const dir = (await sh(transport, 'd=$(mktemp -d "/tmp/cctl e2e vol.XXXXXX") && echo "data in a dir with spaces" > "$d/in.txt" && printf %s "$d"')).trim()
        try {
          const graceful = spec({
            command: ['sh', '-c', 'trap "echo got-term > /out/term; exit 0" TERM; cat /ro/in.txt; touch /ro/x 2>/dev/null && echo ro-writable || echo ro-refused; while true; do sleep 0.2; done'],
            volumes: [
              {source: dir, target: '/out', readOnly: false},
              {source: dir, target: '/ro', readOnly: true},
            ],
          })
          await client.start(graceful)
          await waitFor('the container to start', async () => (await client.logs(graceful.name, {follow: false})).stdout.includes('ro-'))
          const logs = (await client.logs(graceful.name, {follow: false})).stdout
          expect(logs).to.include('data in a dir with spaces')
          expect(logs).to.include('ro-refused')
          const t0 = Date.now()
          await client.stop(graceful.name, 20)
          expect(Date.now() - t0, 'it stopped on TERM, without waiting for the grace period').to.be.below(10_000)
          expect((await sh(transport, 'cat "$1/term"', dir)).trim()).to.equal('got-term')
          expect(await observe(graceful.name)).to.equal(undefined)
          await client.stop(graceful.name, 20)

          const stubborn = spec({command: ['sh', '-c', 'trap "" TERM; echo up; while true; do sleep 0.2; done']})
          await client.start(stubborn)
          await waitFor('it to run', async () => (await observe(stubborn.name))?.state === 'running')
          const t1 = Date.now()
          await client.stop(stubborn.name, 2)
          expect(Date.now() - t1).to.be.within(1_500, 15_000)
          expect(await observe(stubborn.name)).to.equal(undefined)
          await client.remove(stubborn.name)
        } finally {
          await sh(transport, 'rm -rf "$1"', dir)
        }
      })

      it('user values reach the container unchanged (property)', async () => {
        const chars = [...'abcXYZ019 \t\n\'"$`\\!*?;&|(){}[]~#%^=+,.:/-_', 'é', '日', '🙂']
        const value = fc.string({unit: fc.constantFrom(...chars), maxLength: 24})
        await fc.assert(
          fc.asyncProperty(fc.array(value, {maxLength: 5}), value, async (args, weird) => {
            const one = spec({command: ['sh', '-c', ECHO_SCRIPT, 'sh', ...args], env: {WEIRD: weird}})
            await client.start(one)
            try {
              await waitFor('it to exit', async () => (await observe(one.name))?.state === 'exited')
              const logs = (await client.logs(one.name, {follow: false})).stdout
              expect(echoed(logs)).to.deep.equal({args, env: weird})
            } finally {
              await client.remove(one.name)
            }
          }),
          {numRuns: 8},
        )
      })

      it('leaves nothing behind', async () => {
        expect(await client.list({'io.clusterctl.cluster': cluster})).to.deep.equal([])
        if (runtimeName === 'containerd') expect((await sh(transport, 'ls /var/log/clusterctl 2>/dev/null | grep -F -- "$1" || true', `cctl-${runtimeName}-job-`)).trim()).to.equal('')
      })
    })
  }

  it('podman publishes a container port to a different host port (bridge networking)', async () => {
    const client = new RuntimeClient(runtimeFor('podman'), transport)
    const port = nextPort()
    const taskId = randomUUID()
    const base = {
      name: containerName({clusterId: cluster, jobName: 'bridge', instance: 0, taskId}),
      image,
      command: ['sh', '-c', 'mkdir -p /www && echo "port $PORT0 $PORT_8080" > /www/index.html && exec httpd -f -p 8080 -h /www'],
      env: {},
      cpuMilli: 0,
      memBytes: 0,
      ports: [{containerPort: 8080, hostPort: port, protocol: 'tcp' as const}],
      volumes: [],
    }
    const web: ContainerSpec = {...base, labels: taskLabels({clusterId: cluster, jobName: 'bridge', instance: 0, taskId, specHash: specHashOf(base)})}
    await client.start(web)
    try {
      const res = await waitFor('the bridged port', async () => httpGet(`http://${ip}:${port}/`))
      expect(res.body).to.equal(`port ${port} ${port}\n`)
    } finally {
      await client.stop(web.name, 0)
    }
  })
})
