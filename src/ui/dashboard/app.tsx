/**
 * The container: owns the reducer, reads the source on a timer (and when told to),
 * feeds keys to the reducer and runs what it queues (cordon, drain, scale, stop,
 * logs, quit) through the source. Everything it draws is <Dashboard>.
 */
import {useApp, useInput, useStdout} from 'ink'
import {useCallback, useEffect, useReducer, useRef, useState} from 'react'

import {Dashboard} from './components/dashboard.js'
import {type DashboardState, type Effect, initialState, reduce, type Status} from './reducer.js'
import type {DashboardSource} from './types.js'

/** What the facade tells a running dashboard: daemon log lines, "read again now", "the daemon stopped". */
export interface DashboardBus {
  subscribe(listener: (message: BusMessage) => void): () => void
}

export type BusMessage = {kind: 'log'; at: number; line: string} | {kind: 'refresh'} | {kind: 'daemon-stopped'}

export interface AppProps {
  source: DashboardSource
  mode: DashboardState['mode']
  refreshMs: number
  bus: DashboardBus
  /** Called once when the user quits (q, ctrl-c). */
  onQuit: () => void
  /** Lines of the daemon's log to show from the start. */
  initialLog?: Array<{at: number; line: string}>
  /** Tail length of `l` (logs). */
  logTail?: number
}

const CHROME_LINES = 4

function useTerminalSize(): {columns: number; rows: number} {
  const {stdout} = useStdout()
  const read = useCallback(() => ({columns: stdout.columns || 80, rows: stdout.rows || 24}), [stdout])
  const [size, setSize] = useState(read)
  useEffect(() => {
    const onResize = (): void => setSize(read())
    stdout.on('resize', onResize)
    return () => {
      stdout.off('resize', onResize)
    }
  }, [stdout, read])
  return size
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** What the status line says once an action is done. */
async function runEffect(source: DashboardSource, effect: Effect): Promise<Status | null> {
  switch (effect.kind) {
    case 'set-schedulable': {
      const {changed} = source.setSchedulable(effect.node, effect.schedulable)
      const verb = effect.schedulable ? 'uncordoned' : 'cordoned'
      return {text: changed ? `${effect.node} ${verb}: ${effect.schedulable ? 'takes new work again' : 'takes no new work; its tasks stay'}` : `${effect.node} was already ${verb === 'uncordoned' ? 'schedulable' : 'cordoned'}`, tone: 'ok'}
    }

    case 'drain': {
      const {changed} = source.drain(effect.node)
      return {text: changed ? `${effect.node} draining: its tasks move to other nodes, make-before-break` : `${effect.node} was already draining`, tone: 'ok'}
    }

    case 'scale': {
      const out = await source.scale(effect.job, effect.instances)
      const by = out.convergedBy ? ` (by ${out.convergedBy})` : ''
      if (out.failed > 0) return {text: `${effect.job} scaled to ${out.instances}${by}, but ${out.failed} action(s) failed: see the Events view`, tone: 'error'}
      if (out.pending.length > 0) return {text: `${effect.job} scaled to ${out.instances}${by}; ${out.pending.length} pending: ${out.pending[0]}`, tone: 'error'}
      return {text: `${effect.job} scaled to ${out.instances}${by}`, tone: 'ok'}
    }

    case 'stop-task': {
      const {changed} = source.stopTask(effect.taskId)
      return {text: changed ? `stop of ${effect.label} requested: the next pass stops it (a service's instance is replaced)` : `${effect.label} is already stopping`, tone: 'ok'}
    }

    case 'logs':
    case 'refresh':
    case 'quit':
      return null
  }
}

export function App({source, mode, refreshMs, bus, onQuit, initialLog = [], logTail = 200}: AppProps) {
  const [state, dispatch] = useReducer(reduce, mode, (m) => initialLog.reduce((s, l) => reduce(s, {type: 'daemon-log', at: l.at, line: l.line}), initialState(m)))
  const stateRef = useRef(state)
  stateRef.current = state
  const {exit} = useApp()
  const {columns, rows} = useTerminalSize()
  // One line short of the terminal: a frame as tall as the screen makes Ink clear and redraw it all (flicker).
  const height = Math.max(8, rows - 1)

  const refresh = useCallback(() => {
    try {
      const {detail, lastEventId} = stateRef.current
      // An open job detail also reads that job's schedule and runs.
      dispatch({type: 'snapshot', snapshot: source.snapshot(lastEventId, detail?.kind === 'job' ? {job: detail.name} : {})})
    } catch (error) {
      dispatch({type: 'effect-done', status: {text: `cannot read the state file: ${errorText(error)}`, tone: 'error'}})
    }
  }, [source])

  useEffect(() => {
    refresh()
    const timer = setInterval(refresh, refreshMs)
    return () => clearInterval(timer)
  }, [refresh, refreshMs])

  useEffect(
    () =>
      bus.subscribe((m) => {
        if (m.kind === 'log') dispatch({type: 'daemon-log', at: m.at, line: m.line})
        else if (m.kind === 'refresh') refresh()
        else dispatch({type: 'daemon-stopped'})
      }),
    [bus, refresh],
  )

  useEffect(() => {
    dispatch({type: 'viewport', rows: height - CHROME_LINES - 1})
  }, [height])

  useEffect(() => {
    if (state.outbox.length === 0) return
    const effects = state.outbox
    dispatch({type: 'effects-taken', ids: effects.map((e) => e.id)})
    for (const effect of effects) {
      if (effect.kind === 'quit') {
        onQuit()
        if (mode === 'attached') exit()
        continue
      }

      if (effect.kind === 'refresh') {
        refresh()
        continue
      }

      if (effect.kind === 'logs') {
        source.logs(effect.taskId, logTail).then(
          (lines) => dispatch({type: 'logs-loaded', taskId: effect.taskId, lines, error: null}),
          (error: unknown) => dispatch({type: 'logs-loaded', taskId: effect.taskId, lines: null, error: errorText(error)}),
        )
        continue
      }

      // Through the same services as the CLI; a slow one (scale waits for a pass) does not block the screen.
      Promise.resolve()
        .then(() => runEffect(source, effect))
        .then(
          (status) => {
            if (status) dispatch({type: 'effect-done', status})
            refresh()
          },
          (error: unknown) => dispatch({type: 'effect-done', status: {text: errorText(error), tone: 'error'}}),
        )
    }
  }, [state.outbox, source, refresh, onQuit, exit, mode, logTail])

  useInput((input, key) => dispatch({type: 'key', key: {...key, input}}))

  return <Dashboard state={state} label={source.label} width={columns} height={height} />
}
