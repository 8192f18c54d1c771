/**
 * Scheduler benchmark: placement rate of the indexed search against the naive full scan
 * (same filters, same scorers, same driver; only node selection differs), and packing
 * quality against a lower bound and first-fit-decreasing.
 */
import {performance} from 'node:perf_hooks'

import {runSchedule} from '../src/core/scheduler/engine.js'
import type {SearchMode} from '../src/core/scheduler/engine.js'
import type {ScheduleOptions, Snapshot, TaskRequest} from '../src/core/scheduler/types.js'
import {emptyCluster, mixedCluster, mixedWork, PACKING_NODE, PACKING_WORKLOADS, packingWork} from './scheduler-workloads.js'
import {firstFitDecreasing} from './packing.js'
import type {BenchSection} from './types.js'

export const name = 'scheduler'

const NODES = 10_000
const TASKS = 100_000
/** The naive scan does NODES checks per task: it runs on this many tasks and its rate is extrapolated. */
const NAIVE_TASKS = 5_000
const RUNS = 3
const PACKING_TASKS = 10_000
const SEED = 42

interface Timing {
  best: number
  median: number
  placed: number
  pending: number
  examinedPerTask: number
}

function time(snapshot: Snapshot, work: readonly TaskRequest[], mode: SearchMode, runs: number, options: Omit<ScheduleOptions, 'seed'> = {}): Timing {
  const times: number[] = []
  let placed = 0
  let pending = 0
  let examined = 0
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now()
    const out = runSchedule(snapshot, work, {seed: SEED, ...options}, mode)
    times.push(performance.now() - t0)
    placed = out.plan.placements.length
    pending = out.plan.pending.length
    examined = out.examined
  }
  times.sort((a, b) => a - b)
  return {
    best: times[0]!,
    median: times[Math.floor(times.length / 2)]!,
    placed,
    pending,
    examinedPerTask: mode === 'naive' ? snapshot.nodes.length : examined / work.length,
  }
}

const int = (v: number) => Math.round(v).toLocaleString('en-US')
const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`)
const rate = (tasks: number, t: number) => int((tasks / t) * 1000)

function throughput(): string {
  const snapshot = mixedCluster(NODES, 1)
  const work = mixedWork(TASKS, 2)
  const subset = work.slice(0, NAIVE_TASKS)
  const full = time(snapshot, work, 'indexed', RUNS)
  const greedy = time(snapshot, work, 'indexed', RUNS, {improve: false})
  const small = time(snapshot, subset, 'indexed', RUNS)
  const naive = time(snapshot, subset, 'naive', 2)
  const naiveRate = NAIVE_TASKS / naive.best
  const extrapolated = TASKS / naiveRate
  const rows = [
    ['indexed', int(TASKS), ms(full.best), ms(full.median), rate(TASKS, full.best), full.examinedPerTask.toFixed(0), `${int(full.placed)} / ${int(full.pending)}`],
    ['indexed, greedy only (old placement: `improve: false`)', int(TASKS), ms(greedy.best), ms(greedy.median), rate(TASKS, greedy.best), greedy.examinedPerTask.toFixed(0), `${int(greedy.placed)} / ${int(greedy.pending)}`],
    ['indexed', `${int(NAIVE_TASKS)} (first ${int(NAIVE_TASKS)})`, ms(small.best), ms(small.median), rate(NAIVE_TASKS, small.best), small.examinedPerTask.toFixed(0), `${int(small.placed)} / ${int(small.pending)}`],
    ['naive full scan', `${int(NAIVE_TASKS)} (first ${int(NAIVE_TASKS)})`, ms(naive.best), ms(naive.median), rate(NAIVE_TASKS, naive.best), int(naive.examinedPerTask), `${int(naive.placed)} / ${int(naive.pending)}`],
    ['naive full scan, extrapolated', int(TASKS), `~${ms(extrapolated)}`, '', rate(1, 1 / naiveRate), int(naive.examinedPerTask), ''],
  ]
  return [
    `${int(TASKS)} tasks (jobs of 1-300 instances in four size classes, a third with host ports, a quarter with`,
    'Marathon constraints, a tenth with preferences, a tenth spread) onto a production-like cluster of',
    `${int(NODES)} nodes (four machine types, 3 % not ready, 40 % already 10-50 % busy, 500 jobs already running).`,
    `The whole \`schedule()\` call is timed: snapshot to typed arrays, indexes, placement, pending summaries. Best and median of ${RUNS} runs (naive: 2).`,
    `The naive scan checks all ${int(NODES)} nodes per task, so it runs on the first ${int(NAIVE_TASKS)} tasks only and its 100,000-task time is extrapolated from its rate.`,
    '',
    '| search | tasks | best | median | placements/s | nodes examined per task | placed / pending |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `**Ratio**: the indexed search handles ${(TASKS / full.best / naiveRate).toFixed(0)}x as many tasks per second as the naive scan`,
    `(all ${int(TASKS)} tasks against the naive rate on the first ${int(NAIVE_TASKS)}), ${(NAIVE_TASKS / small.best / naiveRate).toFixed(0)}x on the same ${int(NAIVE_TASKS)} tasks.`,
    `Target: under 2 s for ${int(TASKS)} tasks on one core; best run ${ms(full.best)}. The local improvement step costs`,
    `${((full.best / greedy.best - 1) * 100).toFixed(0)} % over the greedy step alone (best runs, same process: placement rate ${(greedy.best / full.best).toFixed(2)}x the old one).`,
    '',
    worstCase(),
  ].join('\n')
}

/** Every request different and the cluster twice too small: each failing request needs its own summary. */
function worstCase(): string {
  const work = packingWork(PACKING_WORKLOADS[0]!, TASKS, 3)
  const snapshot = emptyCluster(6_000, PACKING_NODE)
  const t = time(snapshot, work, 'indexed', 2)
  return [
    `Worst case seen: ${int(TASKS)} single-task jobs, every request different (uniform random), onto 6,000 empty nodes`,
    `(about half the capacity needed): ${int(t.placed)} placed, ${int(t.pending)} pending, each pending request with its own`,
    `summary over all nodes. Best ${ms(t.best)}, median ${ms(t.median)}, ${t.examinedPerTask.toFixed(0)} nodes examined per task.`,
  ].join('\n')
}

function packing(): string {
  const rows: string[] = []
  for (const w of PACKING_WORKLOADS) {
    const work = packingWork(w, PACKING_TASKS, 7)
    let cpu = 0
    let mem = 0
    for (const t of work) {
      cpu += t.resources.cpuMilli
      mem += t.resources.memBytes
    }
    const lower = Math.max(Math.ceil(cpu / PACKING_NODE.cpuMilli), Math.ceil(mem / PACKING_NODE.memBytes))
    const snapshot = emptyCluster(Math.ceil(lower * 1.3), PACKING_NODE)
    const cell = (mode: SearchMode) => {
      const t0 = performance.now()
      const out = runSchedule(snapshot, work, {seed: SEED}, mode)
      const t = performance.now() - t0
      const used = new Set(out.plan.placements.map((p) => p.nodeId)).size
      const pending = out.plan.pending.length > 0 ? `, ${out.plan.pending.length} pending` : ''
      return {text: `${int(used)} (+${((used / lower - 1) * 100).toFixed(1)} %${pending})`, t}
    }
    const indexed = cell('indexed')
    const naive = cell('naive')
    const ffd = firstFitDecreasing(work.map((t) => t.resources), PACKING_NODE)
    rows.push(`| ${w.name} | ${w.describe} | ${int(lower)} | ${indexed.text} | ${naive.text} | ${int(ffd)} (+${((ffd / lower - 1) * 100).toFixed(1)} %) | ${ms(indexed.t)} / ${ms(naive.t)} |`)
  }
  return [
    `${int(PACKING_TASKS)} tasks, binpack, onto identical empty nodes of 16 cpus and 64Gi (1.3 times the lower bound of them).`,
    'Nodes used against the lower bound max(total cpu / node cpu, total mem / node mem), rounded up;',
    'first-fit-decreasing (same size order, no scoring) for comparison.',
    '',
    '| workload | requests | lower bound | indexed | naive full scan | first-fit-decreasing | time indexed / naive |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'The lower bound ignores that tasks are indivisible. On the cpu-heavy + mem-heavy mix a node is full',
    'only with both kinds in the right proportion, in whole tasks of a fifth of a node each; the three',
    'methods land within a few nodes of each other there, which suggests the bound is loose rather than',
    'the packing poor, but the optimum was not computed.',
  ].join('\n')
}

export async function run(): Promise<BenchSection> {
  const body = ['### Placement rate', '', throughput(), '', '### Packing quality', '', packing()].join('\n')
  return {title: 'Scheduler: 100,000 tasks onto 10,000 nodes', body}
}
