/**
 * Bounded history (docs/history.md):
 * - the reconcile pass over a converged cluster (1,000 nodes, 10,000 running tasks, the
 *   reconcile bench's cluster) without history, then with 200,000 ended tasks and 500,000
 *   events behind it, then after `collectGarbage`; the store read alone, and the read as it
 *   was before migration 0010 (a correlated scan of every ended task) on the same file;
 * - a simulated busy week (10 batch tasks ending a minute, 5 events each) with the
 *   daemon's hourly collection, against the same week without it: the state file's size.
 * Medians; ratios against the run without history, because the machine is shared.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'

import {ManualClock, systemClock} from '../src/core/clock.js'
import {containerSpecHash} from '../src/core/model/job.js'
import type {Job} from '../src/core/model/task.js'
import {runPass} from '../src/core/reconcile/pass.js'
import {validateJobSpec} from '../src/core/spec/validate.js'
import {collectGarbage, DEFAULT_RETENTION} from '../src/core/state/history.js'
import {insertJob, listJobs, listTasksForReconcile, recentFailures} from '../src/core/state/jobs.js'
import {listNodes} from '../src/core/state/nodes.js'
import {Store} from '../src/core/state/store.js'
import {buildCluster} from './reconcile.bench.js'
import type {BenchSection} from './types.js'

export const name = 'history'

const RUNS = 7
const PER_INSTANCE = 20
const EVENTS = 500_000
const DAY = 86_400_000

/** The reconcile read as it was before migration 0010 (the baseline). */
const OLD_READ = `SELECT t.*, j.name AS job_name, n.name AS node_name FROM tasks t JOIN jobs j ON j.id = t.job_id LEFT JOIN nodes n ON n.id = t.node_id
  WHERE t.state IN ('pending', 'staging', 'starting', 'running', 'unreachable')
     OR (t.state IN ('finished', 'failed', 'lost') AND t.created_at = (
           SELECT max(u.created_at) FROM tasks u WHERE u.job_id = t.job_id AND u.instance = t.instance AND u.state IN ('finished', 'failed', 'lost')))
  ORDER BY t.created_at`

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const f = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 10 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`)
const mib = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`

export async function run(): Promise<BenchSection> {
  return {title: 'Bounded history', body: `${await passWithHistory()}\n\n${week()}`}
}

/** CPU time of the process (user + system), ms: what the work costs, whatever else the shared machine runs. */
function cpu<T>(fn: () => T): [T, number] {
  const t = process.cpuUsage()
  const out = fn()
  const d = process.cpuUsage(t)
  return [out, (d.user + d.system) / 1000]
}

async function cpuAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = process.cpuUsage()
  await fn()
  const d = process.cpuUsage(t)
  return (d.user + d.system) / 1000
}

/** PER_INSTANCE ended tasks behind every instance (2 to 3 days old), and EVENTS events. */
function addHistory(store: Store, now: number): number {
  const live = store.db.prepare(`SELECT * FROM tasks`).all() as Array<Record<string, unknown>>
  const insert = store.db.prepare(`INSERT INTO tasks (id, job_id, instance, node_id, state, desired, health, health_failures, host_ports, spec_hash, restarts, container_name, created_at, updated_at, started_at, finished_at)
    VALUES (?, ?, ?, ?, ?, 'stop', 'unknown', 0, '[]', ?, ?, ?, ?, ?, ?, ?)`)
  const event = store.db.prepare(`INSERT INTO events (at, type, subject_kind, subject, message, data) VALUES (?, 'task.killed', 'task', ?, ?, '{"job":"svc"}')`)
  store.write(() => {
    let k = 0
    for (const t of live) {
      for (let h = 0; h < PER_INSTANCE; h++) {
        const at = now - 3 * DAY + (k++ % DAY)
        insert.run(`h${k}-${t.id as string}`, t.job_id, t.instance, t.node_id, h % 4 === 0 ? 'failed' : 'killed', t.spec_hash, h, `old-${k}`, at, at, at, at + 1000)
      }
    }

    for (let e = 0; e < EVENTS; e++) event.run(now - 3 * DAY + e, `h${e}`, `svc.${e % 100}: stopped: replaced by a new spec`)
  })
  return live.length
}

async function passWithHistory(): Promise<string> {
  // Two files side by side, measured alternately: the same cluster, one with history behind it.
  const clean = buildCluster()
  const heavy = buildCluster()
  try {
    const now = systemClock.now()
    const tasks = addHistory(heavy.store, now)
    const measure = async (c: typeof clean) => {
      const {store, ctx} = c
      const [, read] = cpu(() => store.read(() => ({nodes: listNodes(store), jobs: listJobs(store), tasks: listTasksForReconcile(store), failures: recentFailures(store, now - 600_000)})))
      const [, old] = cpu(() => store.read(() => store.db.prepare(OLD_READ).all()))
      const pass = await cpuAsync(() => runPass(ctx, {seed: 42, moves: false}))
      return {pass, read, old}
    }

    const series = async () => {
      const a: Array<{pass: number; read: number; old: number}> = []
      const b: typeof a = []
      await measure(clean)
      await measure(heavy)
      for (let i = 0; i < RUNS; i++) {
        a.push(await measure(clean))
        b.push(await measure(heavy))
      }

      const med = (xs: typeof a) => ({pass: median(xs.map((x) => x.pass)), read: median(xs.map((x) => x.read)), old: median(xs.map((x) => x.old))})
      return {clean: med(a), heavy: med(b), bytes: fs.statSync(heavy.store.file).size}
    }

    const before = await series()
    const t0 = performance.now()
    const gone = collectGarbage(heavy.store, now, DEFAULT_RETENTION)
    const gcMs = performance.now() - t0
    const after = await series()

    const r = (v: number, base: number) => `${(v / base).toFixed(2)}x`
    const row = (what: string, m: {pass: number; read: number; old: number}, base: {pass: number; read: number; old: number}) => `| ${what} | ${f(m.pass)} (${r(m.pass, base.pass)}) | ${f(m.read)} (${r(m.read, base.read)}) | ${f(m.old)} (${r(m.old, base.old)}) |`
    return [
      `**The pass with history behind it.** Two copies of the reconcile bench's converged cluster (${listNodes(clean.store).length.toLocaleString('en-US')} nodes, ${tasks.toLocaleString('en-US')} running tasks),`,
      `one with ${(tasks * PER_INSTANCE).toLocaleString('en-US')} ended tasks (${PER_INSTANCE} per instance, 2-3 days old) and ${EVENTS.toLocaleString('en-US')} events behind it, measured alternately;`,
      `then the same after \`collectGarbage\` with the default retention on the second (it deleted ${gone.tasks.toLocaleString('en-US')} tasks and ${gone.events.toLocaleString('en-US')} events in ${f(gcMs)}).`,
      'CPU time (the machine is shared). `runPass` with `moves: false`; the store read: `listNodes` + `listJobs` + `listTasksForReconcile` +',
      '`recentFailures`; "read before 0010": the reconcile read as it was (a correlated scan of every ended task), on the same files.',
      `Medians of ${RUNS}; in brackets, against the file without history.`,
      '',
      '| state file | `runPass` | store read | read before 0010 |',
      '|---|---|---|---|',
      row('no history', before.clean, before.clean),
      row(`with history (${mib(before.bytes)})`, before.heavy, before.clean),
      row('no history (second series)', after.clean, after.clean),
      row(`after gc (${mib(after.bytes)}: freed pages are reused, not returned)`, after.heavy, after.clean),
    ].join('\n')
  } finally {
    for (const c of [clean, heavy]) {
      c.store.close()
      fs.rmSync(c.dir, {recursive: true, force: true})
    }
  }
}

/** A week of 10 batch tasks a minute, 5 events each; the daemon collects hourly (or never). */
function week(): string {
  const simulate = (gc: boolean): {daily: number[]; rows: {tasks: number; events: number}} => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clusterctl-bench-history-'))
    const start = Date.UTC(2026, 0, 5)
    const clock = new ManualClock(start)
    const store = Store.open(path.join(dir, 'state.db'), clock)
    try {
      const spec = validateJobSpec({name: 'etl', image: 'localhost/etl:1', kind: 'batch', instances: 10}, 'bench')
      const job: Job = {id: 'job-etl', name: 'etl', kind: 'batch', spec, specHash: containerSpecHash(spec), instances: 10, generation: 0, state: 'active', createdAt: start, updatedAt: start}
      store.write(() => insertJob(store, job))
      const insert = store.db.prepare(`INSERT INTO tasks (id, job_id, instance, state, desired, health, health_failures, host_ports, spec_hash, restarts, container_name, created_at, updated_at, started_at, finished_at, exit_code, reason)
        VALUES (?, 'job-etl', ?, 'finished', 'run', 'unknown', 0, '[]', ?, 0, ?, ?, ?, ?, ?, 0, 'container exited with code 0')`)
      const event = store.db.prepare(`INSERT INTO events (at, type, subject_kind, subject, message, data) VALUES (?, ?, 'task', ?, ?, ?)`)
      const daily: number[] = []
      let k = 0
      for (let hour = 0; hour < 7 * 24; hour++) {
        store.write(() => {
          for (let minute = 0; minute < 60; minute++) {
            const at = start + hour * 3_600_000 + minute * 60_000
            for (let i = 0; i < 10; i++) {
              const id = `run-${++k}`
              insert.run(id, i, job.specHash, `etl-${id}`, at, at + 50_000, at + 1000, at + 50_000)
              for (const type of ['task.pending', 'task.staging', 'task.running', 'task.finished', 'run.succeeded']) event.run(at, type, id, `etl.${i}: ${type} on n${k % 50}`, JSON.stringify({job: 'etl', instance: i}))
            }
          }
        })
        clock.advance(3_600_000)
        if (gc) collectGarbage(store, clock.now(), DEFAULT_RETENTION)
        if ((hour + 1) % 24 === 0) daily.push(fs.statSync(store.file).size + (fs.existsSync(`${store.file}-wal`) ? fs.statSync(`${store.file}-wal`).size : 0))
      }

      const count = (table: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as {n: number}).n
      return {daily, rows: {tasks: count('tasks'), events: count('events')}}
    } finally {
      store.close()
      fs.rmSync(dir, {recursive: true, force: true})
    }
  }

  const kept = simulate(false)
  const collected = simulate(true)
  return [
    '**A busy week.** 10 batch tasks end every minute (100,800 in the week), 5 events each (504,000), written an hour at a time;',
    'with the daemon\'s hourly `collectGarbage` (default retention: ended tasks 1 day or 20,000, events 7 days or 200,000) and without.',
    'State file (with its WAL) at the end of each day:',
    '',
    `| | ${kept.daily.map((_, i) => `day ${i + 1}`).join(' | ')} | rows at the end |`,
    `|---|${kept.daily.map(() => '---|').join('')}---|`,
    `| no collection | ${kept.daily.map(mib).join(' | ')} | ${kept.rows.tasks.toLocaleString('en-US')} tasks, ${kept.rows.events.toLocaleString('en-US')} events |`,
    `| hourly collection | ${collected.daily.map(mib).join(' | ')} | ${collected.rows.tasks.toLocaleString('en-US')} tasks, ${collected.rows.events.toLocaleString('en-US')} events |`,
  ].join('\n')
}
