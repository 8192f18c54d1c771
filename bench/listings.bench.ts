/**
 * Listings from the state file (`clusterctl jobs`, `jobs --json`, `ps --json`) through the
 * built CLI, at 1,000 and 10,000 jobs (one running task each), beside the same command
 * on an empty state file run in the same process (the CLI's start-up: the baseline).
 * A linear listing costs about 10x more at 10x the jobs once the start-up is taken off;
 * the quadratic one it replaced cost 100x. Medians of several runs; no testbed needed.
 * Also the CPU time (user + sys, from /usr/bin/time) of each run: on a shared machine the
 * wall-clock time is mostly waiting for a core, the CPU time is what the listing costs.
 */
import {execa} from 'execa'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {systemClock} from '../src/core/clock.js'
import {containerSpecHash} from '../src/core/model/job.js'
import type {Job, Task} from '../src/core/model/task.js'
import {validateJobSpec} from '../src/core/spec/validate.js'
import {insertJob, insertTask} from '../src/core/state/jobs.js'
import {Store} from '../src/core/state/store.js'
import type {BenchSection} from './types.js'

export const name = 'listings'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'run.js')
const SIZES = [0, 1000, 10_000]
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
/** GNU time: the child's CPU time. */
const TIME = '/usr/bin/time'

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** A state file with `jobs` services of one running task each (written directly, no nodes needed). */
export function seedJobs(file: string, jobs: number): void {
  const store = Store.open(file, systemClock)
  try {
    const now = Date.now()
    store.write(() => {
      for (let i = 0; i < jobs; i++) {
        const spec = validateJobSpec({name: `job-${String(i).padStart(5, '0')}`, image: 'localhost/app:1', cpus: '0.1', mem: '64Mi', labels: {tier: i % 2 ? 'web' : 'batch'}}, 'bench')
        const job: Job = {id: `j${i}`, name: spec.name, kind: spec.kind, spec, specHash: containerSpecHash(spec), instances: 1, generation: 0, state: 'active', createdAt: now, updatedAt: now}
        insertJob(store, job)
        const task: Omit<Task, 'jobName' | 'nodeName'> = {
          id: `t${i}`, jobId: job.id, instance: 0, nodeId: null, state: 'running', desired: 'run', health: 'unknown', healthFailures: 0, healthCheckedAt: null, healthMessage: null,
          replaces: null, containerName: `c-${i}`, hostPorts: [], specHash: job.specHash, reason: null, reasonData: null, restarts: 0, exitCode: null, createdAt: now, updatedAt: now, startedAt: now, finishedAt: null,
        }
        insertTask(store, task)
      }
    })
  } finally {
    store.close()
  }
}

export async function run(): Promise<BenchSection> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'commands'))) throw new Error('build first: npm run build')
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'clusterctl-bench-'))
  try {
    const files = new Map<number, string>()
    for (const n of SIZES) {
      const file = path.join(home, `state-${n}.db`)
      seedJobs(file, n)
      files.set(n, file)
    }

    const commands: Array<{label: string; args: string[]}> = [
      {label: '`jobs`', args: ['jobs']},
      {label: '`jobs --json`', args: ['jobs', '--json']},
      {label: '`ps --json`', args: ['ps', '--json']},
    ]
    const rows: string[] = []
    for (const c of commands) {
      const times = new Map<number, number[]>(SIZES.map((n) => [n, []]))
      const cpu = new Map<number, number[]>(SIZES.map((n) => [n, []]))
      const bytes = new Map<number, number>()
      for (let r = 0; r < RUNS; r++) {
        for (const n of SIZES) {
          const t = process.hrtime.bigint()
          const out = await execa(TIME, ['-f', '@cpu %U %S', process.execPath, BIN, ...c.args], {env: {HOME: home, CLUSTERCTL_DB: files.get(n)!, NO_COLOR: '1'}})
          times.get(n)!.push(Number(process.hrtime.bigint() - t) / 1e6)
          const [user, sys] = /@cpu (\S+) (\S+)/.exec(out.stderr)!.slice(1).map(Number)
          cpu.get(n)!.push((user! + sys!) * 1000)
          bytes.set(n, out.stdout.length)
        }
      }

      const base = median(times.get(0)!)
      const m1k = median(times.get(1000)!)
      const m10k = median(times.get(10_000)!)
      const growth = (m10k - base) / Math.max(1, m1k - base)
      const [c0, c1k, c10k] = SIZES.map((n) => median(cpu.get(n)!))
      const cpuGrowth = (c10k! - c0!) / Math.max(1, c1k! - c0!)
      console.log(`${c.label}: empty ${base.toFixed(0)} ms, 1,000 ${m1k.toFixed(0)} ms, 10,000 ${m10k.toFixed(0)} ms; growth x${growth.toFixed(1)}; CPU ${c0!.toFixed(0)} / ${c1k!.toFixed(0)} / ${c10k!.toFixed(0)} ms`)
      rows.push(`| ${c.label} | ${base.toFixed(0)} | ${m1k.toFixed(0)} (${(m1k / base).toFixed(1)}x) | ${m10k.toFixed(0)} (${(m10k / base).toFixed(1)}x) | ${growth.toFixed(1)} | ${c0!.toFixed(0)} / ${c1k!.toFixed(0)} / ${c10k!.toFixed(0)} (${(c10k! / c0!).toFixed(1)}x, growth ${cpuGrowth.toFixed(1)}) | ${(bytes.get(10_000)! / 1e6).toFixed(1)} MB |`)
    }

    return {
      title: 'Listings: jobs and ps over 10,000 jobs',
      body: [
        `Median of ${RUNS} runs of the built CLI per cell, in ms; in brackets, the ratio to the same command on an empty state file (the CLI's start-up, measured in the same run).`,
        '"Growth" is (10,000 - empty) / (1,000 - empty): about 10 for a linear listing, about 100 for a quadratic one.',
        'CPU is user + sys time of the process (empty / 1,000 / 10,000 jobs), what the listing costs whatever the load; the wall-clock columns also hold the wait for a core.',
        '',
        '| command | empty | 1,000 jobs | 10,000 jobs | growth 1k -> 10k | CPU ms (ratio 10,000 / empty) | output at 10,000 |',
        '|---|---|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
    }
  } finally {
    fs.rmSync(home, {recursive: true, force: true})
  }
}
