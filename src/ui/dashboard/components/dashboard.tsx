/** The whole screen for one state: header, the current view (or a detail, or help), status line, key hints. */
import {Box} from 'ink'

import {serviceAddresses} from '../../../core/edge/injected.js'
import {ZERO_RESOURCES} from '../../../core/model/resources.js'
import {type DashboardState, selectedIndex} from '../reducer.js'
import {allocationByNode, clusterSummary, findJobByName, findNodeByName, jobRows, type LogEntry, logRows, nodeRows, taskRows} from '../selectors.js'
import {Header, Help, KeyHints, StatusLine} from './chrome.js'
import {JobDetail, LogsView, NodeDetail} from './details.js'
import {EventsView, JobsView, NodesView, SummaryView, TasksView} from './views.js'

export interface DashboardProps {
  state: DashboardState
  /** Where the state lives (the state file's path). */
  label: string
  width: number
  height: number
}

/** Events of a job: its own, and its tasks' (which name the job in their data). */
function jobEvents(log: readonly LogEntry[], job: string): LogEntry[] {
  return log.filter((e) => e.event !== null && ((e.event.subjectKind === 'job' && e.event.subject === job) || (e.event.subjectKind === 'task' && e.event.data.job === job)))
}

function nodeEvents(log: readonly LogEntry[], node: string): LogEntry[] {
  return log.filter((e) => e.event !== null && ((e.event.subjectKind === 'node' && e.event.subject === node) || e.event.data.node === node))
}

export function Dashboard({state, label, width, height}: DashboardProps) {
  const bodyHeight = Math.max(1, height - 4)
  const now = state.snapshot?.at ?? 0
  const body = { width, height: bodyHeight }
  const selected = selectedIndex(state)
  const filter = state.filters[state.view]
  const daemon = state.mode === 'daemon'
  let view
  const d = state.detail
  if (state.help) view = <Help daemon={daemon} {...body} />
  else if (d?.kind === 'job') view = <JobDetail name={d.name} job={findJobByName(state.snapshot, d.name)} tasks={taskRows(state.snapshot, '', {job: d.name})} runs={state.snapshot?.jobRuns ?? null} deployments={state.snapshot?.jobDeployments ?? null} serviceAddress={state.snapshot ? serviceAddresses(state.snapshot.jobs, state.snapshot.nodes).get(d.name) : undefined} events={jobEvents(state.log, d.name)} selected={selected} now={now} {...body} />
  else if (d?.kind === 'node') {
    view = (
      <NodeDetail
        name={d.name}
        node={findNodeByName(state.snapshot, d.name)}
        allocated={state.snapshot ? allocationByNode(state.snapshot).get(d.name)?.allocated ?? ZERO_RESOURCES : ZERO_RESOURCES}
        tasks={taskRows(state.snapshot, '', {node: d.name})}
        events={nodeEvents(state.log, d.name)}
        selected={selected}
        now={now}
        {...body}
      />
    )
  } else if (d?.kind === 'logs') view = <LogsView label={d.label} lines={d.lines} error={d.error} {...body} />
  else {
    switch (state.view) {
      case 'summary':
        view = <SummaryView summary={clusterSummary(state.snapshot)} log={state.log} {...body} />
        break
      case 'nodes':
        view = <NodesView rows={nodeRows(state.snapshot, filter)} now={now} selected={selected} filter={filter} {...body} />
        break
      case 'jobs':
        view = <JobsView rows={jobRows(state.snapshot, filter)} selected={selected} filter={filter} {...body} />
        break
      case 'tasks':
        view = <TasksView tasks={taskRows(state.snapshot, filter)} now={now} selected={selected} filter={filter} {...body} />
        break
      case 'events':
        view = <EventsView entries={logRows(state.log, filter)} selected={selected} filter={filter} {...body} />
        break
    }
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Header title={daemon ? 'clusterctl daemon' : 'clusterctl dashboard'} label={label} at={state.snapshot?.at ?? null} view={state.view} filter={d ? '' : filter} width={width} />
      <Box height={bodyHeight} width={width} flexDirection="column" overflow="hidden">
        {view}
      </Box>
      <StatusLine prompt={state.prompt} confirm={state.confirm} status={state.status} width={width} />
      <KeyHints context={d ? d.kind : state.view} daemon={daemon} width={width} />
    </Box>
  )
}
