/**
 * Runs the real, built CLI (bin/run.js) as a subprocess, the way a user or a
 * script does: its own HOME (so ~/.ssh/config and known_hosts are the test's),
 * its own state file, no TTY.
 */
import {execa} from 'execa'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const BIN = path.join(PROJECT_ROOT, 'bin', 'run.js')

export interface CliResult {
  stdout: string
  stderr: string
  exitCode: number
  durationMs: number
  json<T = unknown>(): T
}

function cliResult(result: {stdout: string; stderr: string; exitCode?: number}, started: number): CliResult {
  return {
    stdout: result.stdout,
    stderr: result.stderr,
    exitCode: result.exitCode ?? -1,
    durationMs: Date.now() - started,
    json<T>() {
      try {
        return JSON.parse(result.stdout) as T
      } catch {
        throw new Error(`stdout is not JSON (exit ${result.exitCode}):\n${result.stdout}\nstderr:\n${result.stderr}`)
      }
    },
  }
}

export class CliSandbox {
  readonly home: string
  readonly db: string

  constructor(prefix = 'clusterctl-e2e-') {
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
    fs.mkdirSync(path.join(this.home, '.ssh'), {mode: 0o700})
    this.db = path.join(this.home, 'state', 'state.db')
  }

  async run(args: string[], options: {env?: Record<string, string>; timeoutMs?: number; input?: string} = {}): Promise<CliResult> {
    const started = Date.now()
    const result = await execa(process.execPath, [BIN, ...args], {
      reject: false,
      timeout: options.timeoutMs ?? 120_000,
      input: options.input,
      env: {HOME: this.home, CLUSTERCTL_DB: this.db, NO_COLOR: '1', SSH_AUTH_SOCK: '', ...options.env},
      extendEnv: true,
    })
    return cliResult(result, started)
  }

  /**
   * Runs a bash script the way a user's shell does (pipes, redirections), with
   * `$CLUSTERCTL` standing for the built CLI.
   */
  async shell(script: string, options: {env?: Record<string, string>; timeoutMs?: number} = {}): Promise<CliResult> {
    const started = Date.now()
    const result = await execa('bash', ['-c', script], {
      reject: false,
      timeout: options.timeoutMs ?? 120_000,
      env: {HOME: this.home, CLUSTERCTL_DB: this.db, NO_COLOR: '1', SSH_AUTH_SOCK: '', CLUSTERCTL: `${process.execPath} ${BIN}`, ...options.env},
      extendEnv: true,
      cwd: this.home,
    })
    return cliResult(result, started)
  }

  writeSshFile(name: string, text: string): string {
    const file = path.join(this.home, '.ssh', name)
    fs.writeFileSync(file, text, {mode: 0o600})
    return file
  }

  cleanup(): void {
    fs.rmSync(this.home, {recursive: true, force: true})
  }

  /** Removes every job (retrying for up to 20 s: a lease a stopped daemon left lapses first). Tests' after hooks. */
  async removeAllJobs(): Promise<void> {
    for (let i = 0; i < 40; i++) {
      const jobs = (await this.run(['jobs', '--json'])).json<Array<{name: string}>>()
      const results = await Promise.all(jobs.map((j) => this.run(['rm', j.name])))
      if (results.every((r) => r.exitCode === 0)) return
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}
