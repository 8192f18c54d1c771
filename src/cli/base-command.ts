/**
 * The one base class of every command: shared flags, wiring of the store and
 * the SSH pool (one per process, passed down), and the single error handler
 * that turns errors into one clear sentence and an exit code (DESIGN 9).
 */
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {randomUUID} from 'node:crypto'
import fs from 'node:fs'

import {type Clock, systemClock} from '../core/clock.js'
import {BugError, ClusterctlError, ExitCode, RemoteError, UnreachableError} from '../core/errors.js'
import {type Connector, contextOf, type ServiceContext} from '../core/context.js'
import {dbPathOrigin, resolveDbPath} from '../core/state/paths.js'
import {Store} from '../core/state/store.js'
import type * as SshModule from '../ssh/index.js'
import type {SshPool, SshPoolOptions} from '../ssh/index.js'
import {batched, joinLines, jsonPieces} from '../ui/json.js'
import {paint} from '../ui/style.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    db: Flags.string({
      description: 'State file (default: $CLUSTERCTL_DB, else $XDG_DATA_HOME/clusterctl/state.db).',
      helpGroup: 'GLOBAL',
    }),
    debug: Flags.boolean({description: 'Show stack traces and SSH details on errors (or CLUSTERCTL_DEBUG=1).', helpGroup: 'GLOBAL'}),
  }

  /**
   * What a missing state file means to this command: `create` it (only `init` and
   * `add-node`), `empty` (listings show an empty cluster and create nothing), or
   * `refuse` (every other command: a typo'd --db must not become a new cluster).
   */
  static stateFile: 'create' | 'empty' | 'refuse' = 'refuse'

  protected flags!: CommandFlags<T>
  protected args!: CommandArgs<T>
  private store: Store | undefined
  private pool: SshPool | undefined
  private sshModule: typeof SshModule | undefined

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
  }

  protected get clock(): Clock {
    return systemClock
  }

  /** The state store, opened (and migrated) on first use. */
  protected openStore(): Store {
    const missing = (this.constructor as typeof BaseCommand).stateFile
    this.store ??= Store.open(this.stateFilePath, this.clock, {missing, origin: dbPathOrigin(this.flags.db)})
    return this.store
  }

  protected get stateFilePath(): string {
    return resolveDbPath(this.flags.db)
  }

  /**
   * An empty listing says which state file it read, so a typo'd --db shows at once:
   * on stdout with the table; with --json, on stderr, and only when the file is missing.
   */
  protected noteEmptyListing(): void {
    const file = this.stateFilePath
    const missing = !fs.existsSync(file)
    const note = missing ? `No state file at ${file} (from ${dbPathOrigin(this.flags.db)}); \`clusterctl init\` creates it.` : `State file: ${file}`
    if (!this.jsonEnabled()) this.log(note)
    else if (missing) process.stderr.write(`${note}\n`)
  }

  /**
   * The services' context. ssh2 is loaded only by commands that reach nodes
   * (`{ssh: true}`): listing from the state file should start fast. `pool` tunes the
   * SSH pool (the daemon's keepalive).
   */
  protected async services(options: {ssh?: boolean; pool?: SshPoolOptions} = {}): Promise<ServiceContext> {
    const store = this.openStore()
    let connect: Connector = () => {
      throw new BugError('This command was not wired for SSH; call services({ssh: true}).')
    }

    if (options.ssh) {
      this.sshModule ??= await import('../ssh/index.js')
      // CLUSTERCTL_SSH_SESSIONS=0: one exec per command, no long-lived shell sessions (src/ssh/session.ts).
      this.pool ??= new this.sshModule.SshPool({sessions: process.env.CLUSTERCTL_SSH_SESSIONS !== '0', ...options.pool})
      connect = this.sshModule.createConnector(this.pool)
    }

    return contextOf(store, connect, () => randomUUID())
  }

  /** True when stdout is a terminal and --json is off: show colour, tables and progress. */
  protected get interactive(): boolean {
    return Boolean(process.stdout.isTTY) && !this.jsonEnabled()
  }

  protected get debugEnabled(): boolean {
    return Boolean(this.flags?.debug) || process.env.CLUSTERCTL_DEBUG === '1'
  }

  /** `--json`: plain JSON (never colour), written in pieces as it is serialised (src/ui/json.ts). */
  public override logJson(json: unknown): void {
    this.writeOut(jsonPieces(json))
  }

  /** A long listing, written in batches of lines as it renders. */
  protected logLines(lines: Iterable<string>): void {
    if (!this.jsonEnabled()) this.writeOut(joinLines(lines))
  }

  private writeOut(pieces: Iterable<string>): void {
    for (const chunk of batched(pieces)) process.stdout.write(chunk)
    process.stdout.write('\n')
  }

  public override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    const {exit, code, message, hint} = describeError(error)
    if (this.jsonEnabled()) {
      this.logJson({error: {code, message, ...(hint ? {hint} : {}), exitCode: exit}})
      process.exitCode = exit
      return
    }

    const stderr = process.stderr.isTTY === true
    this.logToStderr(`${paint.error('Error:', stderr)} ${message}`)
    if (hint) this.logToStderr(hint)
    if (this.debugEnabled || error instanceof BugError || !(error instanceof ClusterctlError || isParseError(error))) {
      if (error instanceof RemoteError) this.logToStderr(`argv: ${JSON.stringify(error.argv)}\nstderr: ${error.stderrTail}`)
      if (this.debugEnabled) this.logToStderr(error.stack ?? String(error))
    }

    throw new Errors.ExitError(exit)
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    await this.pool?.closeAll()
    this.store?.close()
    return super.finally(error)
  }
}

function isParseError(error: unknown): boolean {
  return error instanceof Errors.CLIError && typeof (error as {parse?: unknown}).parse === 'object'
}

export function describeError(error: Error & {exitCode?: number; oclif?: {exit?: number}}): {exit: number; code: string; message: string; hint?: string} {
  if (error instanceof ClusterctlError) {
    return {exit: error.exitCode, code: error instanceof UnreachableError ? error.code : error.code, message: error.message, hint: error.hint}
  }

  if (isParseError(error)) return {exit: ExitCode.invalid, code: 'usage', message: oneLine(error.message), hint: 'Run the command with --help for its usage.'}
  if (error instanceof Errors.CLIError) return {exit: error.oclif?.exit ?? ExitCode.failed, code: 'failed', message: oneLine(error.message)}
  return {exit: ExitCode.failed, code: 'bug', message: `Unexpected error: ${error.message}`, hint: 'This is a bug in clusterctl; run again with --debug and report the output.'}
}

function oneLine(text: string): string {
  return text
    .replace(/\s*See more help with --help\s*$/, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()
}
