import {expect} from 'chai'
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import {freshProbes, type NfsProbeAnswer, NFS_PROBE_FAILED_TTL_MS, NFS_PROBE_OK_TTL_MS, nfsPlacement, nfsProbeArgv, parseNfsProbe, probeKey, probesWanted, storedProbes} from '../../../../src/core/reconcile/nfs-probe.js'
import {pendingTask, planPlacements} from '../../../../src/core/reconcile/plan.js'
import {volumePlacement} from '../../../../src/core/reconcile/volumes.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {toShellCommand} from '../../../../src/ssh/quote.js'
import {aNode, NOW} from '../../ui/dashboard/fixtures.js'

const nfs = {server: '10.0.0.5', export: '/srv/data', options: 'rw,nfsvers=4'}

function shared(volumes: unknown[] = [{name: 'shared', mount: '/shared', source: {nfs}}], instances = 1): Job {
  const spec = validateJobSpec({name: 'web', image: 'i', instances, volumes}, 'test')
  return {id: 'job-web', name: 'web', kind: 'service', spec, specHash: containerSpecHash(spec), instances, generation: 0, state: 'active', servicePort: null, createdAt: 0, updatedAt: 0}
}

const pending = (job: Job, instance: number): Task => pendingTask(job, instance, 0, null, {id: `t${instance}`, cluster: 'c', now: NOW})
const failed = (error: string): NfsProbeAnswer => ({ok: false, error, at: NOW})

/** A directory with stand-ins for mount and umount that record their argv (and mount fails, hangs or succeeds as asked). */
function fakeMount(behaviour: string): {dir: string; env: NodeJS.ProcessEnv; calls: () => string[]} {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-nfs-probe-'))
  const log = join(dir, 'calls')
  writeFileSync(log, '')
  for (const [name, body] of [['mount', behaviour], ['umount', 'exit 0']] as const) {
    writeFileSync(join(dir, name), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "${name}:$a" >> '${log}'; done\n${body}\n`)
    chmodSync(join(dir, name), 0o755)
  }
  return {dir, env: {...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`}, calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean)}
}

describe('core/reconcile nfs-probe (NFS exports checked at placement)', () => {
  it('the probe mounts read-only with short timeouts in a temporary directory, and removes it; server, export and options reach mount as they are', () => {
    const f = fakeMount('exit 0')
    try {
      // An export with a space, quotes and a command substitution: one argument each, run through the SSH transport's quoting.
      const odd = {server: 'nfs-1', export: "/srv/a b'$(touch pwned)\"", options: 'rw'}
      const argv = nfsProbeArgv(odd)
      expect(argv.slice(3)).to.deep.equal(['clusterctl-nfs-probe', "nfs-1:/srv/a b'$(touch pwned)\"", 'rw', '5'])
      const r = spawnSync('sh', ['-c', toShellCommand(argv)], {cwd: f.dir, env: f.env, encoding: 'utf8'})
      expect(parseNfsProbe({stdout: r.stdout, stderr: r.stderr, code: r.status, signal: null}, NOW)).to.deep.equal({ok: true, error: null, at: NOW})
      const calls = f.calls()
      const dir = calls.find((c) => c.startsWith('mount:/tmp/'))!.slice('mount:'.length)
      expect(calls.slice(0, 5)).to.deep.equal(['mount:-t', 'mount:nfs', 'mount:-o', 'mount:rw,ro,soft,timeo=20,retrans=1', "mount:nfs-1:/srv/a b'$(touch pwned)\""])
      expect(dir).to.match(/^\/tmp\/clusterctl-nfs-probe\./)
      expect(calls).to.include(`umount:${dir}`)
      expect(existsSync(dir), 'the temporary directory is removed').to.equal(false)
      expect(existsSync(join(f.dir, 'pwned'))).to.equal(false)
    } finally {
      rmSync(f.dir, {recursive: true, force: true})
    }
  })

  it('a failed mount gives its first line, and leaves no directory; a mount that hangs is cut at its bound', () => {
    const f = fakeMount(`echo '' >&2; echo "mount: $6: unknown filesystem type 'nfs'." >&2; echo 'dmesg(1) may have more information' >&2; exit 32`)
    try {
      const r = spawnSync('sh', ['-c', toShellCommand(nfsProbeArgv(nfs))], {env: f.env, encoding: 'utf8'})
      expect(r.status).to.equal(1)
      expect(parseNfsProbe({stdout: r.stdout, stderr: r.stderr, code: r.status, signal: null}, NOW)).to.deep.equal(failed("mount: unknown filesystem type 'nfs'."))
      const dir = f.calls().find((c) => c.startsWith('mount:/tmp/'))!.slice('mount:'.length)
      expect(existsSync(dir)).to.equal(false)
    } finally {
      rmSync(f.dir, {recursive: true, force: true})
    }

    const h = fakeMount('sleep 30')
    try {
      const argv = nfsProbeArgv(nfs)
      argv[argv.length - 1] = '1'
      const started = Date.now()
      const r = spawnSync('sh', ['-c', toShellCommand(argv)], {env: h.env, encoding: 'utf8'})
      expect(Date.now() - started).to.be.below(10_000)
      expect(r.stderr.trim()).to.equal('mount did not finish within 1s')
    } finally {
      rmSync(h.dir, {recursive: true, force: true})
    }

    expect(parseNfsProbe({stdout: '', stderr: '', code: null, signal: 'SIGKILL'}, NOW).error).to.equal('mount ended by SIGKILL')
    expect(execFileSync('sh', ['-n', '-c', nfsProbeArgv(nfs)[2]!]).toString()).to.equal('')
  })

  it('answers are kept for a while: a mountable export for 10 minutes, a failed one for 30 s; garbage is no answer', () => {
    const stored = storedProbes(new Map([[probeKey('n1', nfs), {ok: true, error: null, at: NOW}], [probeKey('n2', nfs), failed('no')]]))
    expect([...freshProbes(stored, NOW + NFS_PROBE_FAILED_TTL_MS - 1).keys()]).to.deep.equal(['n1 10.0.0.5:/srv/data', 'n2 10.0.0.5:/srv/data'])
    expect([...freshProbes(stored, NOW + NFS_PROBE_FAILED_TTL_MS).keys()]).to.deep.equal(['n1 10.0.0.5:/srv/data'])
    expect([...freshProbes(stored, NOW + NFS_PROBE_OK_TTL_MS).keys()]).to.deep.equal([])
    expect(freshProbes('{nope', NOW).size).to.equal(0)
    expect(freshProbes(undefined, NOW).size).to.equal(0)
  })

  it('a pass probes each ready node a pending task may go to once per export and machine, and nothing it has a fresh answer for', () => {
    const job = shared([{name: 'a', mount: '/a', source: {nfs}}, {name: 'b', mount: '/b', source: {nfs}}], 2)
    const nodes = [aNode('n1'), aNode('n2'), aNode('n2b', {resolvedAddress: 'root@n2'}), aNode('n3', {state: 'down'})]
    const tasks = [pending(job, 0), pending(job, 1)]
    const vp = volumePlacement(tasks, new Map([[job.id, job]]), new Map(), new Map(nodes.map((n) => [n.id, n])), NOW)
    const byAddress = (n: {resolvedAddress: string}): string => n.resolvedAddress
    const nodesWithAddress = nodes.map((n) => (n.name === 'n2' ? {...n, resolvedAddress: 'root@n2'} : n))
    const wanted = probesWanted(tasks, new Map([[job.id, job]]), nodesWithAddress, vp, new Map(), byAddress)
    expect(wanted.map((w) => [w.node.name, w.alsoFor])).to.deep.equal([['n1', []], ['n2', ['node-n2b']]])
    expect(probesWanted(tasks, new Map([[job.id, job]]), nodesWithAddress, vp, new Map([[probeKey('node-n1', nfs), failed('x')]]), byAddress).map((w) => w.node.name)).to.deep.equal(['n2'])
  })

  it('a node whose probe failed is kept out for that task with the reason; when every node failed, the task waits with it', () => {
    const job = shared()
    const jobs = new Map([[job.id, job]])
    const nodes = [aNode('n1'), aNode('n2')]
    const task = pending(job, 0)
    const vp = volumePlacement([task], jobs, new Map(), new Map(nodes.map((n) => [n.id, n])), NOW)
    const err = "mount: /tmp/x: unknown filesystem type 'nfs'."
    // n1 cannot mount it: the task goes to n2, whatever the seed
    const one = nfsPlacement([task], jobs, nodes, vp, new Map([[probeKey('node-n1', nfs), failed(err)], [probeKey('node-n2', nfs), {ok: true, error: null, at: NOW}]]))
    expect(one.avoid?.get(task.id)).to.deep.equal(['n1'])
    for (let seed = 0; seed < 10; seed++) {
      const {placed} = planPlacements({pending: [task], pins: new Map(), schedulable: nodes, holding: [], jobsById: jobs, recentFailures: new Map(), seed, volumes: one})
      expect(placed.map((p) => p.node), `seed ${seed}`).to.deep.equal(['node-n2'])
    }

    // n2 has no room either: the scheduler's reason says so, and the export's too
    const full = [nodes[0]!, aNode('n2', {capacity: {cpuMilli: 1, memBytes: 1, diskBytes: 1, gpus: 0}})]
    const {plan: fullPlan} = planPlacements({pending: [task], pins: new Map(), schedulable: full, holding: [], jobsById: jobs, recentFailures: new Map(), seed: 1, volumes: one})
    expect(fullPlan.pending[0]!.reason).to.match(/; nfs export 10\.0\.0\.5:\/srv\/data cannot be mounted on n1: mount: \/tmp\/x: unknown filesystem type 'nfs'\.$/)

    // every node failed: not offered, pending with the reason
    const all = nfsPlacement([task], jobs, nodes, vp, new Map([[probeKey('node-n1', nfs), failed(err)], [probeKey('node-n2', nfs), failed(err)]]))
    const {plan, placed} = planPlacements({pending: [task], pins: new Map(), schedulable: nodes, holding: [], jobsById: jobs, recentFailures: new Map(), seed: 1, volumes: all})
    expect(placed).to.deep.equal([])
    expect(plan.pending.map((p) => p.reason)).to.deep.equal([`nfs export 10.0.0.5:/srv/data cannot be mounted on n1, n2: ${err}`])

    // no answer (a dry run does not probe): nothing is kept off
    expect(nfsPlacement([task], jobs, nodes, vp, new Map()).blocked.size).to.equal(0)
  })
})
