/** Runs, schedules and the dependency graph as JSON and as text. */
import type {Run} from '../../core/model/run.js'
import type {JobGraph} from '../../core/schedule/graph.js'
import type {ScheduleView} from '../../core/services/runs.js'
import {renderTable} from '../table.js'

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

export interface RunJson {
  id: string
  job: string
  trigger: string
  scheduledAt: string
  attempt: number
  state: string
  node: string | null
  exitCode: number | null
  reason: string | null
  startedAt: string | null
  endedAt: string | null
  retryAt: string | null
  taskId: string | null
}

export function runToJson(r: Run): RunJson {
  return {id: r.id, job: r.jobName, trigger: r.trigger, scheduledAt: iso(r.scheduledAt)!, attempt: r.attempt, state: r.state, node: r.node, exitCode: r.exitCode, reason: r.reason, startedAt: iso(r.startedAt), endedAt: iso(r.endedAt), retryAt: iso(r.retryAt), taskId: r.taskId}
}

export interface ScheduleJson extends Omit<ScheduleView, 'lastRun'> {
  lastRun: RunJson | null
}

export function scheduleToJson(v: ScheduleView): ScheduleJson {
  return {...v, lastRun: v.lastRun ? runToJson(v.lastRun) : null}
}

/** The columns of a run, as `runs` prints them (the dashboard's job view picks its own order of the same). */
export const RUN_COLUMNS = ['RUN', 'TRIGGER', 'SCHEDULED', 'START', 'END', 'NODE', 'EXIT', 'STATE', 'ATTEMPT', 'REASON'] as const
export type RunColumn = (typeof RUN_COLUMNS)[number]

const runTime = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z'))

/** One run as text, column by column (times in UTC, ISO 8601). */
export function runCells(r: Run): Record<RunColumn, string> {
  return {
    RUN: r.id,
    TRIGGER: r.trigger,
    SCHEDULED: runTime(r.scheduledAt),
    START: runTime(r.startedAt),
    END: runTime(r.endedAt),
    NODE: r.node ?? '-',
    EXIT: r.exitCode === null ? '-' : String(r.exitCode),
    STATE: r.state,
    ATTEMPT: String(r.attempt),
    REASON: r.reason ?? (r.retryAt ? `retry at ${runTime(r.retryAt)}` : ''),
  }
}

export function renderRunsTable(runs: readonly Run[]): string {
  if (runs.length === 0) return 'No runs yet.'
  return renderTable(
    [...RUN_COLUMNS],
    runs.map((r) => {
      const cells = runCells(r)
      return RUN_COLUMNS.map((c) => cells[c])
    }),
  )
}

/** The lines jobs/inspect add for a scheduled or dependent job. */
export function scheduleFields(v: ScheduleView): Array<[string, string]> {
  const last = v.lastRun
  return [
    ['Schedule', v.schedule ? `${v.schedule} (${v.timezone})${v.suspended ? ' - suspended' : ''}` : v.suspended ? '- (suspended)' : '-'],
    ['Next runs', v.next.join(', ') || '-'],
    ['Parents', v.parents.join(', ') || '-'],
    ['Children', v.children.join(', ') || '-'],
    ['Last run', last ? `${last.id} ${last.state}${last.exitCode === null ? '' : ` (exit ${last.exitCode})`}${last.node ? ` on ${last.node}` : ''}` : '-'],
  ]
}

/** A readable tree: each root, its children indented under it; a job with several parents appears under each (marked after the first). */
export function renderGraphText(graph: JobGraph): string {
  if (graph.nodes.length === 0) return 'No scheduled or dependent jobs.'
  const byName = new Map(graph.nodes.map((n) => [n.name, n]))
  const lines: string[] = []
  const shown = new Set<string>()
  const label = (name: string): string => {
    const n = byName.get(name)!
    return `${name}${n.schedule ? `  [${n.schedule}]` : ''}${n.after.length > 1 ? `  (after ${n.after.join(', ')})` : ''}`
  }

  const walk = (name: string, prefix: string, last: boolean, root: boolean): void => {
    const again = shown.has(name)
    lines.push(`${prefix}${root ? '' : last ? '└── ' : '├── '}${label(name)}${again ? '  (see above)' : ''}`)
    if (again) return
    shown.add(name)
    const kids = byName.get(name)!.children
    kids.forEach((k, i) => walk(k, root ? '' : `${prefix}${last ? '    ' : '│   '}`, i === kids.length - 1, false))
  }

  for (const n of graph.nodes.filter((x) => x.after.every((p) => !byName.has(p)))) walk(n.name, '', true, true)
  return lines.join('\n')
}

/** Graphviz DOT: `clusterctl jobs graph --format dot | dot -Tsvg > jobs.svg`. */
export function renderGraphDot(graph: JobGraph): string {
  const q = (s: string): string => JSON.stringify(s)
  return [
    'digraph jobs {',
    '  rankdir=LR;',
    '  node [shape=box, fontname="Helvetica"];',
    ...graph.nodes.map((n) => `  ${q(n.name)}${n.schedule ? ` [label=${q(`${n.name}\n${n.schedule}`)}]` : ''};`),
    ...graph.edges.map((e) => `  ${q(e.parent)} -> ${q(e.child)};`),
    '}',
  ].join('\n')
}
