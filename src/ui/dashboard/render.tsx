/**
 * The one facade (DESIGN 11): renders the dashboard on the streams it is given
 * and hands back a handle to feed it daemon lines, ask for a refresh, and wait
 * for the user to quit. Commands call this and nothing else of src/ui/dashboard.
 */
import {render} from 'ink'

import {App, type BusMessage, type DashboardBus} from './app.js'
import {ColorContext} from './components/theme.js'
import type {DashboardSource} from './types.js'

export interface RenderDashboardOptions {
  source: DashboardSource
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WriteStream
  stderr?: NodeJS.WriteStream
  /** `daemon`: quitting stops the daemon of this process (`onQuit`). Default `attached`. */
  mode?: 'attached' | 'daemon'
  /** How often the state file is read again. Default 1000 ms. */
  refreshMs?: number
  /** Called once when the user quits. */
  onQuit?: () => void
  /** The environment NO_COLOR is read from. Default process.env. */
  env?: NodeJS.ProcessEnv
  /** Draw on the terminal's alternate screen (restored on exit, like less or k9s). Default: when stdout is a TTY. */
  alternateScreen?: boolean
  /** Lines for the event log from before the dashboard started. */
  initialLog?: Array<{at: number; line: string}>
}

export interface DashboardHandle {
  /** A daemon log line for the event log. */
  log(line: string, at?: number): void
  /** Read the state file again now (e.g. after a daemon pass). */
  refresh(): void
  /** Tell the dashboard the daemon has stopped. */
  daemonStopped(): void
  /** Resolves when the dashboard has been unmounted (the user quit in attached mode, or `unmount`). */
  waitUntilExit(): Promise<void>
  unmount(): void
}

const ENTER_ALT = '\u001B[?1049h'
const LEAVE_ALT = '\u001B[?1049l'

export function colorEnabled(stdout: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stdout.isTTY) && !env.NO_COLOR
}

export function renderDashboard(options: RenderDashboardOptions): DashboardHandle {
  const listeners = new Set<(m: BusMessage) => void>()
  const bus: DashboardBus = {
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  // Lines that arrive before the app subscribed (its first effect) are kept for it.
  const early: BusMessage[] = []
  const send = (m: BusMessage): void => {
    if (listeners.size === 0) early.push(m)
    for (const l of listeners) l(m)
  }

  const alternate = options.alternateScreen ?? Boolean(options.stdout.isTTY)
  if (alternate) options.stdout.write(ENTER_ALT)
  let quitCalled = false
  const onQuit = (): void => {
    if (quitCalled) return
    quitCalled = true
    options.onQuit?.()
  }

  const instance = render(
    <ColorContext.Provider value={colorEnabled(options.stdout, options.env ?? process.env)}>
      <App
        source={options.source}
        mode={options.mode ?? 'attached'}
        refreshMs={options.refreshMs ?? 1000}
        bus={{
          subscribe(listener) {
            const off = bus.subscribe(listener)
            for (const m of early.splice(0)) listener(m)
            return off
          },
        }}
        onQuit={onQuit}
        initialLog={options.initialLog ?? []}
      />
    </ColorContext.Provider>,
    {stdin: options.stdin, stdout: options.stdout, stderr: options.stderr ?? process.stderr, exitOnCtrlC: false},
  )
  let left = false
  const leave = (): void => {
    if (left) return
    left = true
    if (alternate) options.stdout.write(LEAVE_ALT)
  }

  const exited = instance.waitUntilExit().then(
    () => leave(),
    () => leave(),
  )
  return {
    log: (line, at = Date.now()) => send({kind: 'log', at, line}),
    refresh: () => send({kind: 'refresh'}),
    daemonStopped: () => send({kind: 'daemon-stopped'}),
    waitUntilExit: () => exited,
    unmount() {
      instance.unmount()
    },
  }
}
