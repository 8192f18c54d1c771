/** Long-running CLI subprocesses of a CLI sandbox (a daemon, a waiting drain), with their output lines (e2e). */
import {execa, type ResultPromise} from 'execa'
import path from 'node:path'

import {type CliSandbox, PROJECT_ROOT} from './cli.js'

export interface Proc {
  child: ResultPromise
  lines: string[]
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>
}

export function startDaemon(cli: CliSandbox): Proc {
  return startCli(cli, ['daemon', '--interval', '500ms'])
}

/** A long-running CLI command whose output lines are collected as they come. */
export function startCli(cli: CliSandbox, args: string[]): Proc {
  const child = execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'run.js'), ...args], {
    env: {HOME: cli.home, CLUSTERCTL_DB: cli.db, NO_COLOR: '1', SSH_AUTH_SOCK: ''},
    reject: false,
  })
  const lines: string[] = []
  child.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  child.stderr!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean).map((l) => `stderr: ${l}`)))
  return {
    child,
    lines,
    async waitFor(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const hit = lines.find((l) => pattern.test(l))
        if (hit) return hit
        if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms; got:\n${lines.join('\n')}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
  }
}

/** Stops each process (SIGTERM, SIGKILL after 10 s) and empties the list. */
export async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs.splice(0)) {
    p.child.kill('SIGTERM')
    const t = setTimeout(() => {
      console.warn(`      (a daemon did not stop within 10 s of SIGTERM: killed)`)
      p.child.kill('SIGKILL')
    }, 10_000)
    await p.child
    clearTimeout(t)
  }
}
