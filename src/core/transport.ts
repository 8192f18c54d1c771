/**
 * The one way clusterctl reaches a node: argv in, {stdout, stderr, code, signal} out.
 * Implementations: SshTransport (ssh2, pooled) and LocalTransport (execa).
 * A transport never prints and never sets exit codes; failures to reach the node
 * reject with UnreachableError, a command that runs and exits non-zero resolves
 * normally with its code (callers decide what a failure means).
 */
import type {Readable} from 'node:stream'

export interface ExecOptions {
  /** Kill the command (and reject with UnreachableError code `timeout`) after this long. */
  timeoutMs?: number
  signal?: AbortSignal
  /** Bytes fed to the command's stdin; stdin is closed after them (or at once when absent). */
  stdin?: string | Buffer | Readable
  /** Streaming consumers; stdout/stderr are still collected into the result unless `collect` is false. */
  onStdout?: (chunk: Buffer) => void
  onStderr?: (chunk: Buffer) => void
  collect?: boolean
  /**
   * Called once, when the command leaves for the node: a connection is up (connecting,
   * with its own timeout and error, is over) and the command's channel is being opened
   * on it, or the command is written to a held session. Latency and the failure
   * detector's deadline are measured from here (docs/decisions/0007).
   */
  onSent?: () => void
}

export interface ExecResult {
  stdout: string
  stderr: string
  /** Exit status, or null when the command was ended by a signal. */
  code: number | null
  signal: string | null
}

export interface HostKeyInfo {
  /** e.g. `ssh-ed25519` */
  algorithm: string
  /** OpenSSH style: `SHA256:` + unpadded base64 of the key blob's sha256. */
  fingerprint: string
  /** base64 of the key blob, as in known_hosts. */
  key: string
}

export interface Transport {
  /** What to call this endpoint in messages, e.g. `root@10.0.0.5:22` or `local`. */
  readonly target: string
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>
  /** The host key seen on the last connection (SSH only). */
  hostKey(): HostKeyInfo | undefined
  close(): Promise<void>
}
