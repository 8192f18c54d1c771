/**
 * Issue 15 item 9: what the health probe costs a node, beside the heartbeat, and what
 * `what-if --n-1` costs the controller at 1,000 nodes and 10,000 tasks.
 *
 * The probe: the scripts as built (the observation's heartbeat and usage lines with the
 * listing replaced by `true`; the same observation with the health probe due, as a pass
 * sends it; the probe alone with the runtime check, as `node doctor` sends it) run here
 * through `sh`, interleaved, wall-clock and the CPU time of the script and its children
 * (the shell's `times`); medians, and ratios against the heartbeat measured in the same
 * runs. This machine stands in for a node (no SSH: the login shell is the same on both).
 *
 * what-if --n-1: `whatIfEachNode` on the reconcile bench's converged clusters (a real
 * state file) of 100 and 1,000 nodes with 10 tasks each, CPU and wall, against the
 * 100-node cluster, beside one node's what-if in the same cluster.
 */
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import {performance} from 'node:perf_hooks'

import {healthProbeArgv, healthProbeScript} from '../src/core/health/probe.js'
import {observeArgv} from '../src/core/reconcile/observation.js'
import {whatIfDown, whatIfEachNode} from '../src/core/services/what-if.js'
import {buildCluster} from './reconcile.bench.js'
import type {BenchSection} from './types.js'

export const name = 'health'

const RUNS = 7
const PATHS = ['/', '/var/lib/containers/storage']
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const f = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`)

interface Timing {
  wall: number
  cpu: number
}

/** Runs argv through sh; the shell's `times` gives its children's user and system CPU. */
function timed(argv: readonly string[]): Timing {
  const t0 = performance.now()
  const r = spawnSync('sh', ['-c', '"$@" >/dev/null 2>&1; times', 'bench', ...argv], {encoding: 'utf8'})
  const wall = performance.now() - t0
  const children = r.stdout.trim().split('\n').at(-1) ?? ''
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]))
  if (r.status !== 0 || seconds.length < 2) throw new Error(`health bench: ${argv[0]} failed: ${r.stderr || r.stdout}`)
  return {wall, cpu: (seconds[0]! + seconds[1]!) * 1000}
}

function probeCost(): string[] {
  const pass = healthProbeScript({paths: PATHS, runtime: null})
  const scripts: Array<[string, string[]]> = [
    ['heartbeat and usage (the observation, listing `true`)', observeArgv(['true'], [])],
    ['the same observation with the health probe due (as a pass sends it: no runtime call)', observeArgv(['true'], [], {script: pass.script, args: pass.args, timeoutMs: 60_000})],
    ['the health probe alone with `podman version` (as `node doctor` sends it)', healthProbeArgv({paths: PATHS, runtime: 'podman'})],
  ]
  const runs: Timing[][] = scripts.map(() => [])
  for (const [, argv] of scripts) timed(argv) // warm-up (page cache, SMART cache)
  for (let i = 0; i < RUNS; i++) scripts.forEach(([, argv], k) => runs[k]!.push(timed(argv)))
  const med = runs.map((r) => ({wall: median(r.map((x) => x.wall)), cpu: median(r.map((x) => x.cpu))}))
  return scripts.map(([what], k) => `| ${what} | ${f(med[k]!.wall)} | ${(med[k]!.wall / med[0]!.wall).toFixed(1)}x | ${f(med[k]!.cpu)} | ${(med[k]!.cpu / Math.max(1, med[0]!.cpu)).toFixed(1)}x |`)
}

function nMinus1(): string[] {
  const rows: string[] = []
  let base: Timing | undefined
  for (const nodes of [100, 1000]) {
    const c = buildCluster({nodes, jobs: nodes / 10, instances: 100})
    try {
      const ctx = {store: c.store}
      const one = (): Timing => {
        const cpu0 = process.cpuUsage()
        const t0 = performance.now()
        whatIfDown(ctx, ['n00000'])
        const d = process.cpuUsage(cpu0)
        return {wall: performance.now() - t0, cpu: (d.user + d.system) / 1000}
      }

      one()
      const single = median([one(), one(), one()].map((t) => t.cpu))
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      const results = whatIfEachNode(ctx)
      const wall = performance.now() - t0
      const d = process.cpuUsage(cpu0)
      const t = {wall, cpu: (d.user + d.system) / 1000}
      if (results.length !== nodes || results.some((r) => !r.fits)) throw new Error('health bench: the what-if of a cluster with room said something would not fit')
      base ??= t
      rows.push(`| ${nodes.toLocaleString('en-US')} | ${(nodes * 10).toLocaleString('en-US')} | ${f(t.cpu)} | ${(t.cpu / base.cpu).toFixed(1)}x | ${f(t.wall)} | ${f(single)} | ${(t.cpu / nodes).toFixed(1)} ms |`)
    } finally {
      c.store.close()
      fs.rmSync(c.dir, {recursive: true, force: true})
    }
  }

  return rows
}

export async function run(): Promise<BenchSection> {
  const probe = probeCost()
  const whatIf = nMinus1()
  return {
    title: 'Health: the probe on a node, and what-if --n-1',
    body: [
      `The scripts as built, run on this machine through \`sh\` (it stands in for a node; over SSH the login shell adds the same to each), interleaved, medians of ${RUNS}:`,
      'wall-clock and CPU time of the script and its children (the shell\'s `times`), and each against the heartbeat measured in the same runs.',
      `Watched paths: ${PATHS.join(', ')}. The probe runs every 30 s per node, not every pass.`,
      '',
      '| script | wall | vs heartbeat | CPU | vs heartbeat |',
      '|---|---|---|---|---|',
      ...probe,
      '',
      '`what-if --n-1` (`whatIfEachNode`: one what-if per node, the real scheduler on the state without it) on converged clusters in a real state file,',
      'services of 100 instances, 10 tasks per node, 16 cpus and 64Gi per node (every loss fits, checked). Against the 100-node cluster, and',
      'beside one node\'s what-if (`what-if --down`, which reads the state itself; --n-1 reads it once for all nodes) in the same cluster.',
      '',
      '| nodes | tasks | --n-1, CPU | vs 100 nodes | --n-1, wall | one node\'s what-if, CPU | --n-1, CPU per node |',
      '|---|---|---|---|---|---|---|',
      ...whatIf,
    ].join('\n'),
  }
}
