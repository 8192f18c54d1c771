/** Detail views: a job (spec, instances, pending reasons, recent events), a node, a task's logs. Presentational. */
import {Box, Text} from 'ink'

import {type Deployment, isOpen, type JobDeployments} from '../../../core/model/deployment.js'
import {allocatableOf, type Node} from '../../../core/model/node.js'
import {formatBytes, formatCpu, type Resources} from '../../../core/model/resources.js'
import type {JobRuns, Run} from '../../../core/model/run.js'
import type {Job, Task} from '../../../core/model/task.js'
import {nodeFindings} from '../findings.js'
import {HISTORY_COLUMNS, historyCells, statusLine} from '../../presenters/deployments.js'
import {serviceAt, servicePortText} from '../../presenters/jobs.js'
import type {ServiceAddress} from '../../../core/edge/injected.js'
import {ago, heartbeatText} from '../../presenters/nodes.js'
import {type RunColumn, runCells, scheduleFields} from '../../presenters/runs.js'
import {type ColumnSpec, contentWidth, fit, wrapWords} from '../format.js'
import type {LogEntry} from '../selectors.js'
import {Table, type TableRow} from './table.js'
import {colorOf, nodeStateTone, type Tone, useColor} from './theme.js'
import {Meter, type Size, taskCellColumns, taskCells} from './views.js'

const clock = (at: number): string => new Date(at).toTimeString().slice(0, 8)

function EventLines({entries, height}: {entries: readonly LogEntry[]; height: number}) {
  if (height <= 0) return null
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        Recent events
      </Text>
      {entries.length === 0 ? <Text wrap="truncate">  none</Text> : null}
      {entries.slice(-Math.max(0, height - 1)).map((e) => (
        <Text key={e.key} wrap="truncate">{`  ${clock(e.at)}  ${e.type.padEnd(16)} ${e.subject}  ${e.message}`}</Text>
      ))}
    </Box>
  )
}

const instanceColumns = (tasks: readonly Task[]): ColumnSpec[] => [{header: 'INST', min: 4, align: 'right'}, ...taskCellColumns(tasks), {header: 'REASON', min: 6, grow: 3}]

function instanceRows(tasks: readonly Task[], now: number): TableRow[] {
  return tasks.map((t) => ({
    key: t.id,
    cells: [
      {text: String(t.instance)},
      ...taskCells(t, now),
      {text: t.reason ?? t.healthMessage ?? (t.replaces ? `replaces ${t.replaces.slice(0, 8)}` : '-'), tone: t.state === 'pending' ? 'warn' : 'muted'},
    ],
  }))
}

function resourcesText(r: Resources): string {
  return `cpus ${formatCpu(r.cpuMilli)}, mem ${formatBytes(r.memBytes)}${r.gpus > 0 ? `, gpus ${r.gpus}` : ''}${r.diskBytes > 0 ? `, disk ${formatBytes(r.diskBytes)}` : ''}`
}

/** The spec summary of a job's detail; `address`: where the service is reached (serviceAddresses). */
export function specLines(job: Job, address?: ServiceAddress): string[] {
  const s = job.spec
  const health = s.healthCheck ? `${s.healthCheck.type} ${s.healthCheck.type === 'cmd' ? s.healthCheck.command : `:${s.healthCheck.port}${s.healthCheck.path ?? ''}`}` : 'none'
  const ports = s.ports.map((p) => `${p.containerPort}/${p.protocol}`).join(' ') || 'none'
  const placement = [...s.constraints.map((c) => `${c.field}:${c.operator}${c.value === undefined ? '' : `:${c.value}`}`), ...s.preferences.map((p) => `prefer ${p.field}=${p.value}`)].join(' ')
  return [
    `image ${s.image}${s.command ? `  command ${s.command.join(' ')}` : ''}`,
    `each ${resourcesText(s.resources)}  ports ${ports}  health ${health}  restart ${s.restart.policy}`,
    ...(placement ? [`placement ${placement}`] : []),
    ...(job.servicePort == null ? [] : [`service ${servicePortText(job)} ${serviceAt(address)}${s.uses?.length ? `  uses ${s.uses.join(' ')}` : ''}`]),
    ...(job.servicePort == null && s.uses?.length ? [`uses ${s.uses.join(' ')}`] : []),
  ]
}

/** The runs table of a job's detail: `clusterctl runs`' cells, what matters first (state and exit before the times). */
const RUN_VIEW: ReadonlyArray<{column: RunColumn; min: number; grow?: number; align?: 'right'}> = [
  {column: 'RUN', min: 6},
  {column: 'TRIGGER', min: 8},
  {column: 'STATE', min: 9},
  {column: 'EXIT', min: 4, align: 'right'},
  {column: 'START', min: 20},
  {column: 'END', min: 20},
  {column: 'NODE', min: 6},
  {column: 'REASON', min: 6, grow: 1},
]

function runTone(r: Run): Tone | undefined {
  if (r.state === 'failed') return 'bad'
  if (r.state === 'succeeded') return 'ok'
  if (r.state === 'skipped') return 'muted'
  return 'warn'
}

export function runColumns(runs: readonly Run[]): ColumnSpec[] {
  const cells = runs.map(runCells)
  // As wide as their longest value (a manual run's times carry milliseconds), within bounds.
  const widest = (column: RunColumn, min: number, max: number): number => contentWidth(cells.map((c) => c[column]), min, max)
  return RUN_VIEW.map((c) => ({header: c.column, min: c.column === 'RUN' ? widest('RUN', c.min, 36) : c.column === 'NODE' ? widest('NODE', c.min, 24) : c.column === 'START' || c.column === 'END' ? widest(c.column, c.min, 24) : c.min, ...(c.grow ? {grow: c.grow} : {}), ...(c.align ? {align: c.align} : {})}))
}

export function runTableRows(runs: readonly Run[]): TableRow[] {
  return runs.map((r) => {
    const cells = runCells(r)
    return {key: r.id, cells: RUN_VIEW.map(({column}) => ({text: cells[column], ...(column === 'STATE' ? {tone: runTone(r)} : column === 'EXIT' && r.exitCode !== null && r.exitCode !== 0 ? {tone: 'bad' as const} : {})}))}
  })
}

/** What a scheduled or dependent job's detail adds: schedule, next times (with UTC offsets), parents, children (as `inspect JOB` prints them). */
export function scheduleLines(runs: JobRuns): string[] {
  return scheduleFields(runs.schedule)
    .filter(([label]) => label !== 'Last run')
    .map(([label, value]) => `${label.toLowerCase()} ${value}`)
}

/** The history table of a job's detail: `rollout history`'s cells, what matters first (state and reason before the image). */
const VERSION_VIEW: ReadonlyArray<{column: (typeof HISTORY_COLUMNS)[number]; min: number; grow?: number; align?: 'right'}> = [
  {column: 'VERSION', min: 7, align: 'right'},
  {column: 'CAUSE', min: 8},
  {column: 'STATE', min: 10},
  {column: 'CREATED', min: 24},
  {column: 'REASON', min: 6, grow: 2},
  {column: 'IMAGE', min: 10, grow: 1},
]

function versionTone(d: Deployment): Tone | undefined {
  if (d.state === 'failed') return 'bad'
  if (d.state === 'succeeded') return 'ok'
  if (d.state === 'superseded') return 'muted'
  return 'warn'
}

function versionRows(list: readonly Deployment[]): TableRow[] {
  return list.map((d) => {
    const cells = historyCells(d)
    return {key: d.id, cells: VERSION_VIEW.map(({column}) => ({text: cells[HISTORY_COLUMNS.indexOf(column)]!, ...(column === 'STATE' ? {tone: versionTone(d)} : {})}))}
  })
}

/** The newest version's `rollout status` line, and since when it runs (or when it ended). */
export function rolloutLine(deployments: JobDeployments, now: number): string {
  const d = deployments.status.deployment!
  const since = isOpen(d.state) ? `since ${clock(d.createdAt)} (${ago(d.createdAt, now)})` : `ended ${clock(d.endedAt ?? d.updatedAt)} (${ago(d.endedAt ?? d.updatedAt, now)} ago)`
  return `${statusLine(deployments.status)}; ${since}`
}

export interface JobDetailProps extends Size {
  name: string
  job: Job | undefined
  tasks: readonly Task[]
  /** The job's schedule and runs; null while not read yet, or for a job that is neither scheduled nor dependent. */
  runs: JobRuns | null
  /** The job's newest versions; null while not read yet, or for a job without any. */
  deployments: JobDeployments | null
  /** Where the job's service is reached (undefined: it has none). */
  serviceAddress?: ServiceAddress
  events: readonly LogEntry[]
  selected: number
  now: number
}

export function JobDetail({name, job, tasks, runs, deployments, serviceAddress, events, selected, now, width, height}: JobDetailProps) {
  const color = useColor()
  if (!job) return <Text>{`Job ${name} is gone (removed). esc goes back.`}</Text>
  const running = tasks.filter((t) => t.state === 'running').length
  const pending = tasks.filter((t) => t.state === 'pending')
  const runDriven = job.spec.runPolicy !== undefined
  const mine = runs !== null && runs.job === job.name ? runs : null
  const spec = [...specLines(job, serviceAddress), ...(mine ? scheduleLines(mine) : runDriven ? ['schedule reading...'] : [])]
  const top = 1 + spec.length + 1
  // At least the header and one line (an instance, or the note that there is none).
  const tableHeight = Math.min(Math.max(1, tasks.length) + 1, Math.max(runDriven ? 2 : 3, Math.floor((height - top) / (runDriven ? 3 : 2))))
  const runsHeight = runDriven ? Math.min(Math.max(1, mine?.runs.length ?? 0) + 2, Math.max(3, Math.floor((height - top - tableHeight) / 2))) : 0
  const versions = deployments !== null && deployments.job === job.name && deployments.status.deployment !== null ? deployments : null
  // The status line wraps (it is long, and all of it matters); the versions table gets what is left, up to three fifths of the room.
  const status = versions ? wrapWords(`Rollout  ${rolloutLine(versions, now)}`, width) : []
  const room = height - top - tableHeight - runsHeight
  const versionsHeight = !versions || room < 1 + status.length ? 0 : room < 3 + status.length ? 1 + status.length : Math.min(versions.history.length + 2 + status.length, Math.max(3 + status.length, Math.floor((room * 3) / 5)))
  const historyHeight = versionsHeight - 1 - status.length
  const pendingShown = pending.slice(0, Math.max(0, Math.min(3, height - top - tableHeight - runsHeight - versionsHeight - 3)))
  const pendingHeight = pendingShown.length > 0 ? pendingShown.length + 2 : 0
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>{`Job ${job.name}`}</Text>
        {`  ${job.kind}, ${job.state}  ${job.state === 'active' ? job.instances : 0} wanted: `}
        <Text color={colorOf(running < job.instances && job.state === 'active' ? 'warn' : 'ok', color)}>{`${running} running`}</Text>
        {pending.length > 0 ? <Text color={colorOf('warn', color)}>{`, ${pending.length} pending`}</Text> : null}
      </Text>
      {spec.map((line) => (
        <Text key={line} wrap="truncate">{`  ${line}`}</Text>
      ))}
      <Text> </Text>
      <Table columns={instanceColumns(tasks)} rows={instanceRows(tasks, now)} width={width} height={tableHeight} selected={selected} empty="no live instances" />
      {runDriven ? (
        <Box flexDirection="column" height={runsHeight}>
          <Text bold wrap="truncate">{`Runs${mine && mine.runs.length > 0 ? ` (newest ${Math.min(mine.runs.length, runsHeight - 2)}; clusterctl runs ${job.name} for all)` : ''}`}</Text>
          <Table columns={runColumns(mine?.runs ?? [])} rows={runTableRows(mine?.runs ?? [])} width={width} height={runsHeight - 1} selected={-1} empty={mine ? 'no runs yet' : 'reading...'} />
        </Box>
      ) : null}
      {versions ? (
        <Box flexDirection="column" height={versionsHeight}>
          <Text> </Text>
          {status.map((line, i) =>
            i === 0 ? (
              <Text key={i} wrap="truncate">
                <Text bold>Rollout</Text>
                {line.slice('Rollout'.length)}
              </Text>
            ) : (
              <Text key={i} wrap="truncate">
                {line}
              </Text>
            ),
          )}
          {historyHeight >= 2 ? <Table columns={VERSION_VIEW.map(({column, min, grow, align}) => ({header: column, min, ...(grow ? {grow} : {}), ...(align ? {align} : {})}))} rows={versionRows(versions.history)} width={width} height={historyHeight} selected={-1} empty="no versions" /> : null}
        </Box>
      ) : null}
      {pendingShown.length > 0 ? (
        <Box flexDirection="column">
          <Text> </Text>
          <Text bold color={colorOf('warn', color)} wrap="truncate">{`Pending (${pending.length})`}</Text>
          {pendingShown.map((t) => (
            <Text key={t.id} wrap="truncate">{`  ${job.name}.${t.instance}: ${t.reason ?? 'waiting to be placed'}`}</Text>
          ))}
        </Box>
      ) : null}
      <Text> </Text>
      <EventLines entries={events} height={height - top - tableHeight - runsHeight - versionsHeight - pendingHeight - 1} />
    </Box>
  )
}

export interface NodeDetailProps extends Size {
  name: string
  node: Node | undefined
  allocated: Resources
  tasks: readonly Task[]
  events: readonly LogEntry[]
  selected: number
  now: number
}

export function NodeDetail({name, node, allocated, tasks, events, selected, now, width, height}: NodeDetailProps) {
  const color = useColor()
  if (!node) return <Text>{`Node ${name} is gone (removed). esc goes back.`}</Text>
  const total = allocatableOf(node)
  const findings = nodeFindings(node)
  const usage = node.usage
  const shownFindings = findings.slice(0, 3)
  const top = 6 + Math.max(1, shownFindings.length) + 1
  const tableHeight = Math.min(tasks.length + 1, Math.max(3, Math.floor((height - top) / 2)))
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>{`Node ${node.name}`}</Text>
        {'  '}
        <Text color={colorOf(nodeStateTone(node.state), color)}>{node.state}</Text>
        {`${node.state !== node.adminState ? ` (asked: ${node.adminState})` : ''}${node.stateSince === null ? '' : ` for ${ago(node.stateSince, now)}`}  ${node.resolvedAddress}  ${node.runtime}`}
      </Text>
      <Text wrap="truncate">{`  last heartbeat ${node.lastSeenAt === null ? 'never' : `${ago(node.lastSeenAt, now)} ago`} (${heartbeatText(node)})  load ${usage?.load1 ?? '-'}  mem available ${usage?.memAvailableBytes == null ? '-' : formatBytes(usage.memAvailableBytes)}  labels ${Object.entries(node.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-'}`}</Text>
      <Meter label="  CPU" used={allocated.cpuMilli} total={total.cpuMilli} text={`${formatCpu(allocated.cpuMilli)} / ${formatCpu(total.cpuMilli)} cores`} width={width} />
      <Meter label="  Memory" used={allocated.memBytes} total={total.memBytes} text={`${formatBytes(allocated.memBytes)} / ${formatBytes(total.memBytes)}`} width={width} />
      <Meter label="  GPU" used={allocated.gpus} total={total.gpus} text={total.gpus === 0 ? 'no GPUs' : `${allocated.gpus} / ${total.gpus}`} width={width} />
      <Text bold wrap="truncate">
        Findings
      </Text>
      {shownFindings.length === 0 ? <Text wrap="truncate">  none</Text> : null}
      {shownFindings.map((f) => (
        <Text key={f.text} wrap="truncate" color={colorOf(f.severity === 'error' ? 'bad' : 'warn', color)}>{`  ${f.text}`}</Text>
      ))}
      <Text> </Text>
      <Table
        columns={instanceColumns(tasks).map((c) => (c.header === 'INST' ? {header: 'TASK', min: contentWidth(tasks.map((t) => `${t.jobName}.${t.instance}`), 6, 28), grow: 1} : c)).filter((c) => c.header !== 'NODE')}
        rows={instanceRows(tasks, now).map((r) => {
          const t = tasks.find((x) => x.id === r.key)!
          return {key: r.key, cells: [{text: `${t.jobName}.${t.instance}`}, ...r.cells.slice(2)]}
        })}
        width={width}
        height={tableHeight}
        selected={selected}
        empty="no tasks on this node"
      />
      <Text> </Text>
      <EventLines entries={events} height={height - top - tableHeight - 1} />
    </Box>
  )
}

export function LogsView({label, lines, error, width, height}: {label: string; lines: readonly string[] | null; error: string | null} & Size) {
  const color = useColor()
  const room = Math.max(0, height - 1)
  // The app reads the last 200 lines (docs/dashboard.md); the screen shows the newest that fit.
  const read = lines === null ? '' : lines.length > room ? `newest ${room} of the ${lines.length} lines read; ` : `${lines.length} line${lines.length === 1 ? '' : 's'} read; `
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">{`Logs of ${label}  (${read}r reloads, esc goes back)`}</Text>
      {error !== null ? <Text color={colorOf('bad', color)} wrap="truncate">{error}</Text> : null}
      {error === null && lines === null ? <Text wrap="truncate">loading...</Text> : null}
      {error === null && lines !== null && lines.length === 0 ? <Text wrap="truncate">(no output)</Text> : null}
      {(lines ?? []).slice(-room).map((line, i) => (
        <Text key={i} wrap="truncate">
          {fit(line, width).trimEnd() || ' '}
        </Text>
      ))}
    </Box>
  )
}
