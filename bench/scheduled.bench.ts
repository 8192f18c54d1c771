/**
 * Scheduled and dependent jobs (issue 11):
 * - deciding what is due: the runs step of the reconcile pass (reconcile/runs.ts:
 *   read cursors, open runs and counters from a real state file, planRuns, record)
 *   with 10,000 scheduled jobs, in steady state (nothing due) and with 1% due, beside
 *   the same pass with no scheduled job (the ratio the issue asks for), and the pure
 *   planRuns alone;
 * - the dependency graph of 1,000 dependent jobs: checkGraph (cycles, unknown
 *   parents) and graphOf (the whole graph, and one job's connected part).
 * Medians of several runs.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'

import {ManualClock} from '../src/core/clock.js'
import {containerSpecHash} from '../src/core/model/job.js'
import type {Job} from '../src/core/model/task.js'
import {fireRuns} from '../src/core/reconcile/runs.js'
import {checkGraph, type GraphJob, graphOf} from '../src/core/schedule/graph.js'
import {planRuns} from '../src/core/schedule/runs.js'
import {validateJobSpec} from '../src/core/spec/validate.js'
import {clusterId, insertJob, listJobs} from '../src/core/state/jobs.js'
import {listCursors, listOpenRuns, listParentSuccesses} from '../src/core/state/runs.js'
import {Store} from '../src/core/state/store.js'
import type {BenchSection} from './types.js'

export const name = 'scheduled'

const T0 = Date.parse('2026-12-02T17:00:00Z')

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function time(fn: () => void, runs = 7): number {
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    fn()
    out.push(performance.now() - t)
  }

  return median(out)
}

function store(jobs: number, clock: ManualClock): {store: Store; dir: string} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cctl-bench-sched-'))
  const s = Store.open(path.join(dir, 'state.db'), clock)
  s.write(() => {
    for (let i = 0; i < jobs; i++) {
      // Minutes spread over the hour: about 1 in 60 is due in any one minute.
      const spec = validateJobSpec({name: `job-${i}`, image: 'localhost/x:1', schedule: `${i % 60} * * * *`, mem: '16Mi'}, 'bench')
      const job: Job = {id: `j${i}`, name: spec.name, kind: spec.kind, spec, specHash: containerSpecHash(spec), instances: 1, generation: 0, state: 'active', createdAt: T0, updatedAt: T0}
      insertJob(s, job)
    }
  })
  return {store: s, dir}
}

export async function run(): Promise<BenchSection> {
  const N = 10_000
  const clock = new ManualClock(T0)
  const empty = store(0, clock)
  const full = store(N, clock)
  let ids = 0
  // The pass has read the job rows already (timed apart below): the step gets them.
  const loaded = new Map([empty, full].map((s) => [s.store, s.store.read(() => listJobs(s.store))]))
  const step = (s: Store, now: number) => {
    clock.advance(now - clock.now())
    return fireRuns({store: s, jobs: loaded.get(s)!, cluster: clusterId(s), now, newId: () => `t${++ids}`, dryRun: false})
  }

  // The first pass creates the cursors; then steady state: nothing due between minutes.
  step(full.store, T0 + 1000)
  const jobsRead = time(() => full.store.read(() => listJobs(full.store)))
  const none = time(() => step(empty.store, T0 + 2000))
  const steady = time(() => step(full.store, T0 + 2000))
  // 1% due: the pass right after minute 1 (jobs with minute 1: 10,000 / 60, about 167).
  const dueRuns: number[] = []
  let dueMs = 0
  {
    const t = performance.now()
    const events = step(full.store, T0 + 61_000)
    dueMs = performance.now() - t
    dueRuns.push(events.filter((e) => e.type === 'run.starting').length)
  }

  const jobs = full.store.read(() => listJobs(full.store))
  const input = full.store.read(() => ({open: listOpenRuns(full.store), cursors: listCursors(full.store), successes: listParentSuccesses(full.store)}))
  const pure = time(() => planRuns({now: T0 + 62_000, jobs: jobs.map((j) => ({id: j.id, name: j.name, state: j.state, updatedAt: j.updatedAt, spec: j.spec})), ...input}))

  // The graph of 1,000 dependent jobs: 100 chains of 10, each step also after a job of the previous chain.
  const graphJobs: GraphJob[] = []
  for (let c = 0; c < 100; c++) for (let d = 0; d < 10; d++) graphJobs.push({name: `c${c}-${d}`, after: d === 0 ? [] : [`c${c}-${d - 1}`, ...(c > 0 ? [`c${c - 1}-${d - 1}`] : [])], schedule: d === 0 ? '@hourly' : null})
  const check = time(() => checkGraph(graphJobs))
  const whole = time(() => graphOf(graphJobs))
  const part = time(() => graphOf(graphJobs, 'c50-5'))
  const chain = Array.from({length: 1000}, (_, i) => ({name: `s${i}`, after: i ? [`s${i - 1}`] : [], schedule: null}))
  const deep = time(() => checkGraph(chain))

  for (const s of [empty, full]) {
    s.store.close()
    fs.rmSync(s.dir, {recursive: true, force: true})
  }

  const f = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`
  return {
    title: 'Scheduled and dependent jobs: deciding what is due, and the dependency graph',
    body: `The runs step of each reconcile pass (reconcile/runs.ts) over a real state file: read cursors, open runs and parent counters, decide (the pure planRuns), record.

| | time per pass | vs reading the job rows |
|---|---:|---:|
| a pass with no scheduled job (the step returns at once) | ${f(none)} | ${(none / jobsRead).toFixed(4)} |
| 10,000 scheduled jobs, nothing due (steady state) | ${f(steady)} | ${(steady / jobsRead).toFixed(2)} |
| 10,000 scheduled jobs, ${dueRuns[0]} due (one pass, runs and tasks written) | ${f(dueMs)} | ${(dueMs / jobsRead).toFixed(2)} |
| planRuns alone, 10,000 jobs, nothing due | ${f(pure)} | ${(pure / jobsRead).toFixed(2)} |
| reading the 10,000 job rows, which every pass does (baseline, not in the rows above) | ${f(jobsRead)} | 1 |

Each job's cursor keeps its next time, so a pass computes \`next()\` only for jobs that are due.

The dependency graph of 1,000 dependent jobs (100 chains of 10, each step also after a step of the previous chain; 1,890 edges):

| | time |
|---|---:|
| checkGraph (unknown parents, cycles) | ${f(check)} |
| graphOf, whole graph (depth order) | ${f(whole)} |
| graphOf, one job's ancestors and descendants | ${f(part)} |
| checkGraph, one chain 1,000 deep (iterative, no recursion) | ${f(deep)} |
`,
  }
}
