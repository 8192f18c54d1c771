/**
 * The reconcile pass (src/core/reconcile/pass.ts):
 * - in memory: a converged cluster of 1,000 nodes and 10,000 running tasks in a real
 *   state file, every node answering its observation from canned output; the whole
 *   pass and its parts (store read, observation, diff, move planning) beside a plain
 *   read of the task rows, run in the same process;
 * - on the testbed: one observation pass over its hosts through the SSH pool, cold
 *   (new connections) and warm (pooled), beside OpenSSH's `ssh HOST CMD` (the same
 *   observation command) and `ssh HOST true`, every host in parallel.
 * Medians; ratios against the baselines, because the machine is shared.
 */
import {execa} from 'execa'
import {createHash, randomUUID} from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'

import {systemClock} from '../src/core/clock.js'
import {parseInventory} from '../src/core/inventory/parse.js'
import {containerSpecHash} from '../src/core/model/job.js'
import type {Node} from '../src/core/model/node.js'
import type {Job, Task} from '../src/core/model/task.js'
import {diff, type DiffInput, type NodeObservation} from '../src/core/reconcile/diff.js'
import {isReady} from '../src/core/reconcile/health.js'
import {planMoves} from '../src/core/reconcile/moves.js'
import {MARK, observeArgv} from '../src/core/reconcile/observation.js'
import {observeNode} from '../src/core/reconcile/observe.js'
import {type PassOptions, runPass} from '../src/core/reconcile/pass.js'
import {requestOf, snapshotOf} from '../src/core/reconcile/plan.js'
import type {PassReport} from '../src/core/reconcile/report.js'
import type {ServiceContext} from '../src/core/context.js'
import {addNodes} from '../src/core/services/nodes.js'
import {validateJobSpec} from '../src/core/spec/validate.js'
import {clusterId, insertJob, insertTask, listJobs, listTasksForReconcile} from '../src/core/state/jobs.js'
import {insertNode, listNodes} from '../src/core/state/nodes.js'
import {Store} from '../src/core/state/store.js'
import {clusterSelector, containerName, runtimeFor, taskLabels} from '../src/runtime/index.js'
import {createConnector, SshPool, toShellCommand} from '../src/ssh/index.js'
import {FakeTransport} from '../test/helpers/fake-transport.js'
import {downTestbed, loadTestbed, sshArgs, type Testbed, testbedBaseDir, upTestbed} from '../test/testbed/testbed.js'
import type {BenchSection} from './types.js'

export const name = 'reconcile'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const NODES = 1_000
const JOBS = 100
const INSTANCES = 100
const TASKS = JOBS * INSTANCES
const RUNS = 5
const HOSTS = 4
const GIB = 1024 ** 3
const CAPACITY = {cpuMilli: 16_000, memBytes: 64 * GIB, diskBytes: 500 * GIB, gpus: 0}
const ZERO = {cpuMilli: 0, memBytes: 0, diskBytes: 0, gpus: 0}
const PASS: PassOptions = {seed: 42}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now()
  await fn()
  return performance.now() - t
}

function timedSync(fn: () => unknown): number {
  const t = performance.now()
  fn()
  return performance.now() - t
}

/** A converged pass starts, stops and reports nothing: anything else means the benchmark measures the wrong thing. */
function assertConverged(report: PassReport, where: string): void {
  const problems = [
    ...report.actions.map((a) => `${a.kind} ${a.job}.${a.instance ?? '?'} on ${a.node ?? '?'}: ${a.detail}`),
    ...report.pending.map((p) => `pending ${p.job}.${p.instance}: ${p.reason}`),
    ...report.unobserved.map((u) => `unobserved ${u.node}: ${u.error}`),
    ...report.nodes.map((n) => `node ${n.node} ${n.from} -> ${n.to}`),
  ]
  if (problems.length > 0) throw new Error(`${where}: the pass was expected to change nothing, got ${problems.length}: ${problems.slice(0, 5).join('; ')}`)
}

export async function run(): Promise<BenchSection> {
  await refuseForeignTestbed() // before the in-memory part: fail in a second, not after minutes
  const memory = await inMemory()
  const testbed = await onTestbed()
  return {
    title: 'Reconcile: one pass',
    body: `${memory}\n\n${testbed}`,
  }
}

// ---------------------------------------------------------------------------
// In memory: 1,000 nodes, 10,000 tasks

/** Answers the observation command with its node's canned output; anything else is an error (and counted). */
export class CannedNode extends FakeTransport {
  unexpected = 0
  constructor(target: string, stdout: string) {
    const chunk = Buffer.from(stdout)
    super(target, (argv, options) => {
      if (argv[0] === 'sh' && argv[2]?.includes(`${MARK} heartbeat`)) {
        options.onStdout?.(chunk)
        return {stdout}
      }

      this.unexpected++
      return {stderr: `bench: ${target} does not run ${argv.slice(0, 3).join(' ')}`, code: 125}
    })
  }
}

const hex = (text: string): string => createHash('sha256').update(text).digest('hex')

/** One `podman ps --all --no-trunc --format json` entry, with the fields podman 4 prints. */
function podmanEntry(name: string, labels: Record<string, string>, image: string, startedAt: number): Record<string, unknown> {
  return {
    AutoRemove: false,
    Command: ['sleep', 'infinity'],
    CreatedAt: new Date(startedAt * 1000).toISOString(),
    Exited: false,
    ExitedAt: -62135596800,
    ExitCode: 0,
    Id: hex(name),
    Image: image,
    ImageID: hex(image),
    IsInfra: false,
    Labels: labels,
    Mounts: [],
    Names: [name],
    Namespaces: {},
    Networks: ['podman'],
    Pid: 4242,
    Pod: '',
    PodName: '',
    Ports: null,
    Restarts: 0,
    Size: null,
    StartedAt: startedAt,
    State: 'running',
    Status: 'Up 2 hours',
    Created: startedAt,
  }
}

export interface Cluster {
  dir: string
  store: Store
  ctx: ServiceContext
  transports: Map<string, CannedNode>
  observed: Map<string, NodeObservation>
}

/** The shape of a built cluster: instance i of job j runs on node (j * instances + i) mod nodes. */
export interface ClusterSize {
  nodes: number
  jobs: number
  instances: number
}

export function buildCluster(size: ClusterSize = {nodes: NODES, jobs: JOBS, instances: INSTANCES}): Cluster {
  const {nodes: NODES, jobs: JOBS, instances: INSTANCES} = size
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clusterctl-bench-reconcile-'))
  const store = Store.open(path.join(dir, 'state.db'), systemClock)
  const cluster = clusterId(store)
  const now = systemClock.now()
  const inventory = parseInventory(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'probe', 'debian12-vm.txt'), 'utf8'), {sentAt: now, receivedAt: now + 10})
  const nodes: Node[] = Array.from({length: NODES}, (_, i) => ({
    id: `node-${String(i).padStart(5, '0')}`,
    name: `n${String(i).padStart(5, '0')}`,
    address: {host: `10.${(i >> 8) & 255}.${i & 255}.10`, port: null, user: 'root'},
    resolvedAddress: `root@10.${(i >> 8) & 255}.${i & 255}.10:22`,
    keyPath: null,
    sudo: false,
    runtime: 'podman',
    hostKey: null,
    state: 'ready',
    adminState: 'ready',
    missedHeartbeats: 0,
    heartbeatError: null,
    stateSince: now,
    usage: null,
    heartbeatLatencies: [],
    labels: {zone: `z${i % 4}`},
    declared: {cpuMilli: CAPACITY.cpuMilli, memBytes: CAPACITY.memBytes},
    capacity: CAPACITY,
    reserved: ZERO,
    inventory,
    inventoriedAt: now,
    createdAt: now,
    lastSeenAt: now,
    conditions: [],
    healthProbedAt: null,
  }))
  const jobs: Job[] = Array.from({length: JOBS}, (_, j) => {
    const spec = validateJobSpec({name: `svc-${String(j).padStart(3, '0')}`, image: 'localhost/app:1', cpus: 0.5, mem: '1Gi', instances: INSTANCES}, 'bench')
    return {id: `job-${String(j).padStart(3, '0')}`, name: spec.name, kind: spec.kind, spec, specHash: containerSpecHash(spec), instances: INSTANCES, generation: 0, state: 'active', createdAt: now, updatedAt: now}
  })
  // Instance i of job j runs on node (j*100 + i) mod 1,000: ten tasks of ten different jobs per node.
  const containers = new Map<string, Array<Record<string, unknown>>>(nodes.map((n) => [n.id, []]))
  const startedAt = Math.floor(now / 1000) - 7200
  store.write(() => {
    for (const n of nodes) insertNode(store, n)
    for (const job of jobs) insertJob(store, job)
    jobs.forEach((job, j) => {
      for (let instance = 0; instance < INSTANCES; instance++) {
        const g = j * INSTANCES + instance
        const node = nodes[g % NODES]!
        const id = `t${String(g).padStart(7, '0')}-bench`
        const identity = {clusterId: cluster, jobName: job.name, instance, taskId: id}
        const name = containerName(identity)
        insertTask(store, {
          id,
          jobId: job.id,
          instance,
          nodeId: node.id,
          state: 'running',
          desired: 'run',
          health: 'unknown',
          healthFailures: 0,
          healthCheckedAt: null,
          healthMessage: null,
          replaces: null,
          containerName: name,
          hostPorts: [],
          specHash: job.specHash,
          reason: null,
          reasonData: null,
          restarts: 0,
          exitCode: null,
          createdAt: now + g,
          updatedAt: now + g,
          startedAt: startedAt * 1000,
          finishedAt: null,
        } satisfies Omit<Task, 'jobName' | 'nodeName'>)
        containers.get(node.id)!.push(podmanEntry(name, {...job.spec.labels, ...taskLabels({...identity, specHash: job.specHash})}, job.spec.image, startedAt))
      }
    })
  })

  const runtime = runtimeFor('podman')
  const transports = new Map<string, CannedNode>()
  const observed = new Map<string, NodeObservation>()
  for (const node of nodes) {
    const listing = JSON.stringify(containers.get(node.id)!, null, 4)
    const stdout = [`${MARK} heartbeat ${BigInt(now) * 1_000_000n}`, `${MARK} usage 0.5 1000000`, `${MARK} list-begin`, listing, `${MARK} list-end 0`, ''].join('\n')
    transports.set(node.name, new CannedNode(`root@${node.address.host}:22`, stdout))
    const list = runtime.parseList(listing)
    observed.set(node.id, {ok: list.complete, complete: list.complete, containers: list.containers})
  }

  let n = 0
  const ctx: ServiceContext = {
    store,
    clock: systemClock,
    newId: () => `bench-new-${++n}`,
    connect: (spec) => {
      const t = transports.get(spec.nodeName)
      if (!t) throw new Error(`bench: no transport for ${spec.nodeName}`)
      return t
    },
  }
  return {dir, store, ctx, transports, observed}
}

async function inMemory(): Promise<string> {
  const t0 = performance.now()
  const c = buildCluster()
  const setupMs = performance.now() - t0
  try {
    return await measureInMemory(c, setupMs)
  } finally {
    c.store.close()
    fs.rmSync(c.dir, {recursive: true, force: true})
  }
}

async function measureInMemory(c: Cluster, setupMs: number): Promise<string> {
  const {store, ctx} = c
  const pass = async (options: PassOptions): Promise<void> => {
    const report = await runPass(ctx, options)
    assertConverged(report, 'in-memory pass')
    const unexpected = [...c.transports.values()].reduce((sum, t) => sum + t.unexpected, 0)
    if (unexpected > 0) throw new Error(`in-memory pass: ${unexpected} commands other than the observation were sent`)
  }

  // Pass, moves on (the default) and off; one warm-up each.
  const whole: number[] = []
  const noMoves: number[] = []
  await pass(PASS)
  await pass({...PASS, moves: false})
  for (let i = 0; i < RUNS; i++) {
    whole.push(await timed(() => pass(PASS)))
    noMoves.push(await timed(() => pass({...PASS, moves: false})))
  }

  // The parts, on the same inputs.
  const read = () => store.read(() => ({nodes: listNodes(store), jobs: listJobs(store), tasks: listTasksForReconcile(store)}))
  const loaded = read()
  if (loaded.tasks.length !== TASKS || loaded.nodes.length !== NODES) throw new Error(`bench: read ${loaded.tasks.length} tasks on ${loaded.nodes.length} nodes`)
  const raw = () => {
    const rows = store.stmt('SELECT * FROM tasks').all() as Array<{host_ports: string}>
    let ports = 0
    for (const r of rows) ports += (JSON.parse(r.host_ports) as unknown[]).length
    return rows.length + ports
  }

  const runtime = runtimeFor('podman')
  const selector = clusterSelector(clusterId(store))
  const observeAll = async () => {
    const byNode = new Map<string, unknown>()
    await Promise.all(loaded.nodes.map(async (n) => byNode.set(n.id, await observeNode(c.transports.get(n.name)!, runtime, selector, []))))
    return byNode
  }

  const diffInput: DiffInput = {
    jobs: loaded.jobs,
    tasks: loaded.tasks,
    observed: c.observed,
    nodes: new Map(loaded.nodes.map((n) => [n.id, {name: n.name, state: n.state, adminState: n.adminState}])),
    recentFailures: new Map(),
    now: systemClock.now(),
  }
  const buckets = diff(diffInput)
  if (buckets.ignore.length !== TASKS || buckets.place.length + buckets.start.length + buckets.stop.length + buckets.orphans.length + buckets.ended.length > 0) throw new Error('bench: diff of the converged cluster is not all ignore')
  // Move planning as a quiet pass does it (pass.ts step 6).
  const jobsById = new Map(loaded.jobs.map((j) => [j.id, j]))
  const moves = () => {
    const candidates = loaded.tasks
      .filter((t) => jobsById.get(t.jobId)?.kind === 'service' && isReady(t, jobsById.get(t.jobId)!.spec.healthCheck) && t.nodeId)
      .map((t) => ({request: requestOf(t, jobsById.get(t.jobId)!), nodeId: t.nodeId!, hostPorts: t.hostPorts.map((h) => h.hostPort), label: `${t.jobName}.${t.instance}`}))
    return planMoves(snapshotOf(loaded.nodes, loaded.tasks, jobsById), candidates, {seed: 42})
  }

  if (moves().length !== 0) throw new Error('bench: moves planned on a balanced cluster')
  await observeAll()
  const parts = {read: [] as number[], raw: [] as number[], observe: [] as number[], diff: [] as number[], moves: [] as number[]}
  for (let i = 0; i < RUNS; i++) {
    parts.raw.push(timedSync(raw))
    parts.read.push(timedSync(read))
    parts.observe.push(await timed(observeAll))
    parts.diff.push(timedSync(() => diff(diffInput)))
    parts.moves.push(timedSync(moves))
  }

  const base = median(parts.raw)
  const f = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 10 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`)
  const per = (v: number) => f(v / (TASKS / 1000))
  const r = (v: number) => `${(v / base).toFixed(1)}x`
  const row = (what: string, values: number[]) => `| ${what} | ${f(median(values))} | ${per(median(values))} | ${r(median(values))} |`
  return [
    `**In memory.** A converged cluster in a real state file (on disk, WAL, synchronous=FULL): ${NODES.toLocaleString('en-US')} podman nodes`,
    `(16 cpus, 64Gi), ${JOBS} service jobs x ${INSTANCES} instances = ${TASKS.toLocaleString('en-US')} tasks recorded running, 10 per node. Every node`,
    'answers the observation command from an in-memory transport with canned output (heartbeat, usage, the `podman ps` JSON of its',
    '10 containers), built before timing; any other command is an error. Every timed pass is checked to start, stop, place and report',
    `nothing. \`runPass\` medians of ${RUNS} after one warm-up (default options: concurrency 32, moves on); the parts are timed alone on the`,
    `same inputs. Baseline: \`SELECT * FROM tasks\` and \`JSON.parse\` of every row's \`host_ports\`. (Building the file: ${f(setupMs)}.)`,
    '',
    '| what | median | per 1,000 tasks | vs baseline |',
    '|---|---|---|---|',
    row('`runPass`: whole pass (observe, heartbeats, diff, move planning, writes)', whole),
    row('`runPass` with `moves: false`', noMoves),
    row('store read: `listNodes` + `listJobs` + `listTasksForReconcile`', parts.read),
    row(`observation of ${NODES.toLocaleString('en-US')} nodes (\`observeNode\`: script, in-memory round trip, parse)`, parts.observe),
    row('`diff()` alone', parts.diff),
    row('move planning alone (`planMoves` over every running task, as a quiet pass does)', parts.moves),
    row('baseline: `SELECT * FROM tasks` + `JSON.parse(host_ports)`', parts.raw),
  ].join('\n')
}

// ---------------------------------------------------------------------------
// Testbed: an observation pass through the SSH pool vs OpenSSH

/** One testbed per machine: one that is up belongs to someone else (an e2e run) and is never torn down here. */
async function refuseForeignTestbed(): Promise<void> {
  const existing = await loadTestbed()
  if (existing) {
    throw new Error(
      `a testbed is already up in ${testbedBaseDir()} (hosts ${existing.hosts.map((h) => h.name).join(', ')}): it is someone else's (an e2e run?) and is left alone. ` +
        'Run the benchmark under `flock /tmp/cctl-e2e.lock npm run bench -- reconcile` so it waits for the e2e run; if the testbed is a leftover of yours, `npm run testbed -- down` first.',
    )
  }
}

async function onTestbed(): Promise<string> {
  await refuseForeignTestbed()
  const tb = await upTestbed({hosts: HOSTS})
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'clusterctl-bench-reconcile-'))
  try {
    return await measureTestbed(tb, home)
  } finally {
    fs.rmSync(home, {recursive: true, force: true})
    await downTestbed()
  }
}

async function measureTestbed(tb: Testbed, home: string): Promise<string> {
  const store = Store.open(path.join(home, 'state.db'), systemClock)
  const newPool = () => new SshPool({homeDir: home, agentSocket: null, knownHostsFiles: []})
  const ctxOf = (pool: SshPool): ServiceContext => ({store, clock: systemClock, newId: () => randomUUID(), connect: createConnector(pool, {homeDir: home})})
  const pools: SshPool[] = []
  try {
    const first = newPool()
    pools.push(first)
    const added = await addNodes(
      tb.hosts.map((h) => ({target: `root@${h.ip}`, name: h.name, keyPath: tb.keyPath, runtime: 'podman' as const, resources: {cpuMilli: CAPACITY.cpuMilli, memBytes: CAPACITY.memBytes}})),
      ctxOf(first),
    )
    if (added.failed.length > 0) throw new Error(`add-node failed: ${added.failed.map((f) => `${f.target}: ${(f.error as Error).message}`).join('; ')}`)
    await first.closeAll()

    // The observation command exactly as the pass sends it (no jobs: no health probes), as one ssh command line.
    const command = toShellCommand(observeArgv(runtimeFor('podman').listArgv(clusterSelector(clusterId(store))), []))
    const ssh = (command: string) => Promise.all(tb.hosts.map((h) => execa('ssh', [...sshArgs(tb, h), command], {env: {SSH_AUTH_SOCK: ''}})))
    const check = (results: Awaited<ReturnType<typeof ssh>>) => {
      for (const r of results) if (!r.stdout.includes(`${MARK} list-end 0`)) throw new Error(`ssh observation: unexpected output ${r.stdout.slice(0, 200)}`)
    }

    check(await ssh(command))
    const cold: number[] = []
    const warm: number[] = []
    const sshCmd: number[] = []
    const sshTrue: number[] = []
    for (let i = 0; i < RUNS; i++) {
      sshTrue.push(await timed(() => ssh('true')))
      sshCmd.push(await timed(async () => check(await ssh(command))))
      const pool = newPool()
      pools.push(pool)
      const ctx = ctxOf(pool)
      const pass = async () => assertConverged(await runPass(ctx, PASS), 'testbed pass')
      cold.push(await timed(pass))
      await pass() // settles the pool (channels opened once)
      for (let k = 0; k < 2; k++) warm.push(await timed(pass))
      await pool.closeAll()
    }

    const f = (v: number) => `${Math.round(v)} ms`
    const r = (a: number, b: number) => `${(a / b).toFixed(1)}x`
    const [c, w, sc, st] = [median(cold), median(warm), median(sshCmd), median(sshTrue)]
    return [
      `**On the testbed.** ${HOSTS} hosts (network namespaces on this machine, each with its own sshd and podman), added with \`addNodes\``,
      'to a fresh state file; no jobs, so a pass is one observation round trip per host (heartbeat, usage, `podman ps`) plus the',
      'heartbeat writes. Cold: a new SSH pool, so the pass connects, exchanges keys and authenticates first; warm: the same pool\'s',
      `open connections (the daemon's case). Baselines: OpenSSH \`ssh HOST CMD\` with the same observation command, and \`ssh HOST true\`,`,
      `every host in parallel. Medians of ${RUNS} (warm: ${RUNS * 2}).`,
      '',
      `| what | clusterctl | \`ssh HOST CMD\` x ${HOSTS} | ratio | \`ssh HOST true\` x ${HOSTS} | ratio |`,
      '|---|---|---|---|---|---|',
      `| observation pass, cold (new connections) | ${f(c)} | ${f(sc)} | ${r(c, sc)} | ${f(st)} | ${r(c, st)} |`,
      `| observation pass, warm (pooled connections) | ${f(w)} | ${f(sc)} | ${r(w, sc)} | ${f(st)} | ${r(w, st)} |`,
    ].join('\n')
  } finally {
    await Promise.all(pools.map((p) => p.closeAll().catch(() => {})))
    store.close()
  }
}
