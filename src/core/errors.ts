/**
 * One error taxonomy for the whole program (DESIGN principle 9).
 *
 * Services and transports throw these; only the command layer turns them into
 * exit codes and output. Every message is one sentence naming the thing and the
 * fix; `hint` carries the exact next command where there is one.
 */

export const ExitCode = {
  ok: 0,
  failed: 1,
  invalid: 2,
  notFound: 3,
  unsatisfied: 4,
  unreachable: 5,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface ErrorDetails {
  /** A stable, machine-readable code for `--json` consumers, e.g. `auth`, `host-key-changed`. */
  code?: string
  /** The exact next thing to run or do. */
  hint?: string
  cause?: unknown
}

export abstract class ClusterctlError extends Error {
  abstract readonly exitCode: ExitCodeValue
  readonly code: string
  readonly hint: string | undefined

  constructor(message: string, details: ErrorDetails = {}, defaultCode = 'error') {
    super(message, details.cause === undefined ? undefined : {cause: details.cause})
    this.name = new.target.name
    this.code = details.code ?? defaultCode
    this.hint = details.hint
  }
}

/** Invalid input: bad flags, bad spec, bad argument. Exit 2. */
export class UserError extends ClusterctlError {
  readonly exitCode: ExitCodeValue = ExitCode.invalid
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'invalid')
  }
}

/** The named thing does not exist. Exit 3. */
export class NotFoundError extends ClusterctlError {
  readonly exitCode: ExitCodeValue = ExitCode.notFound
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'not-found')
  }
}

/** A precondition or operation failed for a reason the user can act on. Exit 1. */
export class FailedError extends ClusterctlError {
  readonly exitCode: ExitCodeValue = ExitCode.failed
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'failed')
  }
}

/**
 * No usable session on a node: network unreachable, connection refused or timed
 * out, authentication refused, or a host key that does not match. Exit 5.
 * `code` says which: `timeout`, `refused`, `unreachable`, `dns`, `auth`,
 * `host-key-changed`, `host-key-mismatch`, `closed`.
 */
export class UnreachableError extends ClusterctlError {
  readonly exitCode: ExitCodeValue = ExitCode.unreachable
  readonly host: string
  constructor(host: string, message: string, details: ErrorDetails = {}) {
    super(message, details, 'unreachable')
    this.host = host
  }
}

/** A remote command ran and failed. Exit 1. */
export class RemoteError extends ClusterctlError {
  readonly exitCode: ExitCodeValue = ExitCode.failed
  readonly host: string
  readonly argv: readonly string[]
  readonly exitStatus: number | null
  readonly stderrTail: string

  constructor(
    host: string,
    argv: readonly string[],
    result: {code: number | null; signal?: string | null; stderr: string},
    message?: string,
  ) {
    const tail = stderrTail(result.stderr)
    const what = result.code === null ? `was killed by ${result.signal ?? 'a signal'}` : `exited ${result.code}`
    super(message ?? `\`${argv.slice(0, 3).join(' ')}\` on ${host} ${what}${tail ? `: ${tail}` : ''}`, {}, 'remote')
    this.host = host
    this.argv = argv
    this.exitStatus = result.code
    this.stderrTail = tail
  }
}

/** Something that should never happen. Exit 1, always with a stack under --debug. */
export class BugError extends ClusterctlError {
  readonly exitCode: ExitCodeValue = ExitCode.failed
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'bug')
  }
}

/** The end of a command's stderr for messages: its last `lines` lines, at most `max` characters, joined by `separator`. */
export function stderrTail(text: string, {lines = 5, max = 600, separator = '\n'}: {lines?: number; max?: number; separator?: string} = {}): string {
  const lastLines = text.trim().split('\n').slice(-lines).join(separator)
  return lastLines.length > max ? `…${lastLines.slice(-max)}` : lastLines
}
