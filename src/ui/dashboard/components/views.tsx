/** The list views: cluster summary, nodes, jobs, tasks and the event log. Presentational: props in, text out. */
import {Box, Text} from 'ink'

import {type RolloutStatus, waitsForPromote} from '../../../core/model/deployment.js'
import type {UpgradePolicy} from '../../../core/model/job.js'
import {formatBytes, formatCpu} from '../../../core/model/resources.js'
import type {Task} from '../../../core/model/task.js'
import {nodeFindings} from '../findings.js'
import {rolloutBrief} from '../../presenters/deployments.js'
import {ago, latencyText} from '../../presenters/nodes.js'
import {bar, type ColumnSpec, contentWidth, fit, portsText} from '../format.js'
import type {ClusterSummary, JobRow, LogEntry, NodeRow} from '../selectors.js'
import {type Cell, Table, type TableRow} from './table.js'
import {colorOf, healthTone, nodeStateTone, taskStateTone, type Tone, usageTone, useColor} from './theme.js'

export interface Size {
  width: number
  height: number
}

const clock = (at: number): string => new Date(at).toTimeString().slice(0, 8)

export function filterNote(filter: string, what: string): string {
  return filter ? `no ${what} match "${filter}" (esc clears the filter)` : `no ${what} yet`
}

// ---- summary ------------------------------------------------------------------

export function Meter({label, used, total, text, width}: {label: string; used: number; total: number; text: string; width: number}) {
  const color = useColor()
  // The same width for every meter of a screen, so they line up.
  const barWidth = Math.max(12, Math.min(50, width - 10 - 2 - 30))
  return (
    <Text wrap="truncate">
      {fit(label, 10)}
      {total > 0 ? <Text color={colorOf(usageTone(used, total), color)}>{`${bar(used, total, barWidth)}  `}</Text> : null}
      {text}
    </Text>
  )
}

export function SummaryView({summary, log, width, height}: {summary: ClusterSummary; log: readonly LogEntry[]} & Size) {
  const color = useColor()
  const {allocated: a, allocatable: t} = summary
  const tasks = summary.tasksByState.map(([s, n]) => `${s} ${n}`).join(', ') || 'none'
  const pendingShown = summary.pending.slice(0, Math.max(0, Math.min(summary.pending.length, Math.floor((height - 8) / 2))))
  const eventsRoom = Math.max(0, height - 7 - (pendingShown.length > 0 ? pendingShown.length + 2 : 0) - 1)
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text wrap="truncate">
        {fit('Nodes', 10)}
        {`${summary.nodes}  `}
        {summary.byState.map(([state, n]) => (
          <Text key={state}>
            <Text color={colorOf(nodeStateTone(state), color)}>{state}</Text>
            {` ${n}  `}
          </Text>
        ))}
      </Text>
      <Meter label="CPU" used={a.cpuMilli} total={t.cpuMilli} text={`${formatCpu(a.cpuMilli)} / ${formatCpu(t.cpuMilli)} cores allocated`} width={width} />
      <Meter label="Memory" used={a.memBytes} total={t.memBytes} text={`${formatBytes(a.memBytes)} / ${formatBytes(t.memBytes)} allocated`} width={width} />
      <Meter label="GPU" used={a.gpus} total={t.gpus} text={t.gpus === 0 ? 'no GPUs' : `${a.gpus} / ${t.gpus} allocated`} width={width} />
      <Text wrap="truncate">
        {fit('Tasks', 10)}
        {tasks}
        {summary.unhealthy > 0 ? <Text color={colorOf('bad', color)}>{`  unhealthy ${summary.unhealthy}`}</Text> : '  unhealthy 0'}
      </Text>
      <Text wrap="truncate">{`${fit('Jobs', 10)}${summary.jobs}`}</Text>
      {pendingShown.length > 0 ? (
        <Box flexDirection="column">
          <Text> </Text>
          <Text bold color={colorOf('warn', color)} wrap="truncate">{`Pending (${summary.pending.length})`}</Text>
          {pendingShown.map((p) => (
            <Text key={p} wrap="truncate">{`  ${p}`}</Text>
          ))}
        </Box>
      ) : null}
      <Text> </Text>
      <Text bold wrap="truncate">
        Recent events
      </Text>
      {log.slice(-eventsRoom).map((e) => (
        <Text key={e.key} wrap="truncate">{`  ${clock(e.at)}  ${e.source === 'daemon' ? 'daemon: ' : `${e.subject}  `}${e.message}`}</Text>
      ))}
    </Box>
  )
}

// ---- nodes --------------------------------------------------------------------

const nodeColumns = (names: readonly string[]): ColumnSpec[] => [
  {header: 'NAME', min: contentWidth(names, 8, 28), grow: 1},
  {header: 'STATE', min: 11},
  {header: 'CPU', min: 11, grow: 1},
  {header: 'MEM', min: 11, grow: 1},
  {header: 'TASKS', min: 5, align: 'right'},
  {header: 'SEEN', min: 5, align: 'right'},
  {header: 'LATENCY', min: 7, align: 'right'},
  {header: 'FINDINGS', min: 8, grow: 3},
]

export function nodeTableRows(rows: readonly NodeRow[], now: number): TableRow[] {
  return rows.map(({node, allocated, allocatable, tasks}) => {
    const findings = nodeFindings(node)
    return {
      key: node.name,
      cells: [
        {text: node.name},
        {text: node.state, tone: nodeStateTone(node.state)},
        {text: (w) => bar(allocated.cpuMilli, allocatable.cpuMilli, w), tone: usageTone(allocated.cpuMilli, allocatable.cpuMilli)},
        {text: (w) => bar(allocated.memBytes, allocatable.memBytes, w), tone: usageTone(allocated.memBytes, allocatable.memBytes)},
        {text: String(tasks)},
        {text: ago(node.lastSeenAt, now)},
        {text: latencyText(node)},
        {text: findings.map((f) => f.text).join('; ') || '-', tone: findings.some((f) => f.severity === 'error') ? 'bad' : findings.length > 0 ? 'warn' : 'muted'},
      ],
    }
  })
}

export function NodesView({rows, now, selected, filter, width, height}: {rows: readonly NodeRow[]; now: number; selected: number; filter: string} & Size) {
  return <Table columns={nodeColumns(rows.map((r) => r.node.name))} rows={nodeTableRows(rows, now)} width={width} height={height} selected={selected} empty={filterNote(filter, 'nodes')} />
}

// ---- jobs ---------------------------------------------------------------------

const jobColumns = (names: readonly string[], rollouts: readonly string[]): ColumnSpec[] => [
  {header: 'NAME', min: contentWidth(names, 8, 30), grow: 2},
  {header: 'KIND', min: 7},
  {header: 'STATE', min: 7},
  {header: 'WANT', min: 4, align: 'right'},
  {header: 'RUN', min: 4, align: 'right'},
  {header: 'PEND', min: 4, align: 'right'},
  {header: 'ROLLOUT', min: contentWidth(rollouts, 7, 26)},
  {header: 'CPUS', min: 5, align: 'right'},
  {header: 'MEM', min: 6, align: 'right'},
  {header: 'IMAGE', min: 10, grow: 3},
]

/** An open rollout's tone: a rollback is bad news, a pause or a wait for promote needs the operator. */
function rolloutTone(r: RolloutStatus, upgrade: UpgradePolicy): Tone {
  const d = r.deployment
  if (!d || d.cause === 'rollback') return 'bad'
  return d.state === 'paused' || waitsForPromote({...r, deployment: d}, upgrade) ? 'warn' : 'ok'
}

export function JobsView({rows, selected, filter, width, height}: {rows: readonly JobRow[]; selected: number; filter: string} & Size) {
  const briefs = rows.map(({job, rollout}) => (rollout ? rolloutBrief(rollout, job.spec.upgrade) : ''))
  const tableRows: TableRow[] = rows.map(({job, running, pending, rollout}, i) => ({
    key: job.name,
    cells: [
      {text: job.name},
      {text: job.kind},
      {text: job.state, tone: job.state === 'active' ? undefined : 'muted'},
      {text: String(job.state === 'active' ? job.instances : 0)},
      {text: String(running), tone: job.state === 'active' && running < job.instances ? 'warn' : 'ok'},
      {text: String(pending), tone: pending > 0 ? 'warn' : undefined},
      rollout && briefs[i] ? {text: briefs[i]!, tone: rolloutTone(rollout, job.spec.upgrade)} : {text: '-', tone: 'muted'},
      {text: formatCpu(job.spec.resources.cpuMilli)},
      {text: formatBytes(job.spec.resources.memBytes)},
      {text: job.spec.image},
    ],
  }))
  return <Table columns={jobColumns(rows.map((r) => r.job.name), briefs)} rows={tableRows} width={width} height={height} selected={selected} empty={filterNote(filter, 'jobs')} />
}

// ---- tasks --------------------------------------------------------------------

/** The columns of `taskCells`. */
export function taskCellColumns(tasks: readonly Task[]): ColumnSpec[] {
  return [
    {header: 'NODE', min: contentWidth(tasks.map((t) => t.nodeName ?? '-'), 6, 24), grow: 2},
    {header: 'STATE', min: 9},
    {header: 'HEALTH', min: 9},
    {header: 'PORTS', min: 11, grow: 2},
    {header: 'AGE', min: 4, align: 'right'},
    {header: 'RST', min: 3, align: 'right'},
  ]
}

const taskColumns = (tasks: readonly Task[]): ColumnSpec[] => [
  {header: 'JOB', min: contentWidth(tasks.map((t) => t.jobName), 6, 24), grow: 2},
  {header: 'INST', min: 4, align: 'right'},
  ...taskCellColumns(tasks),
]

/** What every task table shows of a task: node, state (`*`: a stop was requested), health, ports, age, restarts. */
export function taskCells(t: Task, now: number): Cell[] {
  return [
    {text: t.nodeName ?? '-', tone: t.nodeName ? undefined : 'muted'},
    {text: t.desired === 'stop' && t.state !== 'pending' ? `${t.state}*` : t.state, tone: taskStateTone(t.state)},
    {text: t.health, tone: healthTone(t.health)},
    {text: portsText(t.hostPorts)},
    {text: ago(t.startedAt ?? t.createdAt, now)},
    {text: String(t.restarts), tone: t.restarts > 0 ? 'warn' : undefined},
  ]
}

export function taskTableRows(tasks: readonly Task[], now: number): TableRow[] {
  return tasks.map((t) => ({key: t.id, cells: [{text: t.jobName}, {text: String(t.instance)}, ...taskCells(t, now)]}))
}

export function TasksView({tasks, now, selected, filter, width, height}: {tasks: readonly Task[]; now: number; selected: number; filter: string} & Size) {
  return <Table columns={taskColumns(tasks)} rows={taskTableRows(tasks, now)} width={width} height={height} selected={selected} empty={filterNote(filter, 'tasks')} />
}

// ---- events -------------------------------------------------------------------

/** The type column is as wide as the longest type shown (`deployment.rolled-back`), within bounds. */
const eventColumns = (types: readonly string[]): ColumnSpec[] => [
  {header: 'TIME', min: 8},
  {header: 'TYPE', min: contentWidth(types, 16, 24)},
  {header: 'SUBJECT', min: 12, grow: 1},
  {header: 'MESSAGE', min: 20, grow: 4},
]

export function eventTableRows(entries: readonly LogEntry[]): TableRow[] {
  return entries.map((e) => ({
    key: e.key,
    cells: [
      {text: clock(e.at), tone: 'muted'},
      {text: e.type, tone: e.source === 'daemon' ? 'accent' : /failed|lost|down|unreachable|unhealthy/.test(e.type) ? 'bad' : /suspect|cordon|drain|stop|rolled-back|superseded|paused/.test(e.type) ? 'warn' : undefined},
      {text: e.subject || '-'},
      {text: e.message},
    ],
  }))
}

export function EventsView({entries, selected, filter, width, height}: {entries: readonly LogEntry[]; selected: number; filter: string} & Size) {
  return <Table columns={eventColumns(entries.map((e) => e.type))} rows={eventTableRows(entries)} width={width} height={height} selected={selected} empty={filterNote(filter, 'events')} />
}
