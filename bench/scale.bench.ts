/**
 * 5,000 nodes on one controller (issue 16): the reconcile pass over converged clusters of
 * 500 to 5,000 nodes with 10 running tasks each (the reconcile bench's cluster, scaled:
 * podman nodes answering their observation from canned output through the in-memory
 * transport). CPU time of the process (one core does the work: the pass is one thread)
 * beside wall-clock; how it grows against the 500-node cluster, and the observation
 * concurrency at 5,000 nodes.
 */
import fs from 'node:fs'
import {performance} from 'node:perf_hooks'

import {type PassOptions, runPass} from '../src/core/reconcile/pass.js'
import {listJobs, listTasksForReconcile} from '../src/core/state/jobs.js'
import {listNodes} from '../src/core/state/nodes.js'
import {buildCluster, type Cluster} from './reconcile.bench.js'
import type {BenchSection} from './types.js'

export const name = 'scale'

const SIZES = [500, 1000, 2000, 5000]
const TASKS_PER_NODE = 10
const INSTANCES = 100
const RUNS = 3

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const f = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`)

interface Timing {
  cpu: number
  wall: number
}

async function timedPass(c: Cluster, options: PassOptions): Promise<Timing> {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const report = await runPass(c.ctx, options)
  const wall = performance.now() - t0
  const d = process.cpuUsage(cpu0)
  const busy = report.actions.length + report.pending.length + report.unobserved.length + report.nodes.length
  if (busy > 0) throw new Error(`scale bench: the pass over a converged cluster did something (${busy} actions, pending, unobserved or node changes)`)
  return {cpu: (d.user + d.system) / 1000, wall}
}

async function measure(c: Cluster, options: PassOptions): Promise<Timing> {
  await timedPass(c, options)
  const runs: Timing[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await timedPass(c, options))
  return {cpu: median(runs.map((r) => r.cpu)), wall: median(runs.map((r) => r.wall))}
}

function readCpu(c: Cluster): number {
  const cpu0 = process.cpuUsage()
  c.store.read(() => ({nodes: listNodes(c.store), jobs: listJobs(c.store), tasks: listTasksForReconcile(c.store)}))
  const d = process.cpuUsage(cpu0)
  return (d.user + d.system) / 1000
}

export async function run(): Promise<BenchSection> {
  const rows: string[] = []
  let base: Timing | undefined
  let concurrency = ''
  for (const nodes of SIZES) {
    const tasks = nodes * TASKS_PER_NODE
    const c = buildCluster({nodes, jobs: tasks / INSTANCES, instances: INSTANCES})
    try {
      const pass = await measure(c, {seed: 42})
      const noMoves = await measure(c, {seed: 42, moves: false})
      const read = median([readCpu(c), readCpu(c), readCpu(c)])
      base ??= pass
      rows.push(`| ${nodes.toLocaleString('en-US')} | ${tasks.toLocaleString('en-US')} | ${f(pass.cpu)} | ${(pass.cpu / base.cpu).toFixed(1)}x | ${f(pass.wall)} | ${f(noMoves.cpu)} | ${f(read)} | ${((pass.cpu / tasks) * 1000).toFixed(0)} ms |`)
      if (nodes === SIZES.at(-1)) {
        const lines: string[] = []
        for (const k of [8, 32, 128, 512]) {
          const t = await measure(c, {seed: 42, moves: false, concurrency: k})
          lines.push(`| ${k} | ${f(t.cpu)} | ${f(t.wall)} |`)
        }

        concurrency = lines.join('\n')
      }
    } finally {
      c.store.close()
      fs.rmSync(c.dir, {recursive: true, force: true})
    }
  }

  return {
    title: 'Scale: one pass over 500 to 5,000 nodes',
    body: [
      `Converged clusters of N podman nodes (16 cpus, 64Gi) with ${TASKS_PER_NODE} running tasks each (services of ${INSTANCES} instances), in a real state file;`,
      'every node answers its observation (heartbeat, usage, the `podman ps` JSON of its containers) from canned output through the',
      `in-memory transport. \`runPass\` with default options (concurrency 32, moves on), checked to change nothing; medians of ${RUNS} after`,
      'one warm-up. CPU time of the process (the pass runs on one thread: this is its cost on one core) and wall-clock.',
      '',
      '| nodes | tasks | pass, CPU | vs 500 nodes | pass, wall | `moves: false`, CPU | store read, CPU | CPU per 1,000 tasks |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Observation concurrency at ${SIZES.at(-1)!.toLocaleString('en-US')} nodes (\`moves: false\`; in memory, so it measures the controller's own cost of`,
      'concurrent observations, not the network):',
      '',
      '| concurrency | pass, CPU | pass, wall |',
      '|---|---|---|',
      concurrency,
    ].join('\n'),
  }
}
