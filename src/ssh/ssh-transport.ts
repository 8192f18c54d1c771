/**
 * SshTransport: one node reached over the shared SshPool. Thin by design: the pool owns
 * connections, limits and host-key policy; this binds an endpoint and the sudo choice.
 */
import {SshPool, type SshEndpoint} from './pool.js'
import type {ExecOptions, ExecResult, HostKeyInfo, Transport} from '../core/transport.js'

export interface SshTransportOptions {
  /** Run every command through `sudo -n` (non-interactive: fails instead of prompting), the runtime's environment carried across (sudo.ts). */
  sudo?: boolean
}

export class SshTransport implements Transport {
  readonly target: string

  constructor(
    private readonly pool: SshPool,
    readonly endpoint: SshEndpoint,
    private readonly options: SshTransportOptions = {},
  ) {
    this.target = SshPool.targetOf(endpoint)
  }

  /**
   * Run argv on the node (quoted by toShellCommand). A non-zero exit resolves normally.
   * A Readable stdin is streamed with backpressure and owned by the call: it is destroyed
   * if the command ends before reading all of it.
   */
  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.pool.exec(this.endpoint, argv, {...options, sudo: this.options.sudo === true})
  }

  /** Connect (or reuse the pooled connection) without running anything; returns the host key. */
  connect(options: {signal?: AbortSignal} = {}): Promise<HostKeyInfo> {
    return this.pool.connect(this.endpoint, options)
  }

  hostKey(): HostKeyInfo | undefined {
    return this.pool.hostKey(this.endpoint)
  }

  /** Connections belong to the pool (shared with other transports to the same endpoint): nothing to do here. */
  async close(): Promise<void> {}
}
