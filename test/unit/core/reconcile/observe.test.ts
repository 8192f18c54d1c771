import {expect} from 'chai'

import {UnreachableError} from '../../../../src/core/errors.js'
import {MARK} from '../../../../src/core/reconcile/observation.js'
import {observeNode} from '../../../../src/core/reconcile/observe.js'
import {runtimeFor} from '../../../../src/runtime/index.js'
import type {ExecOptions, ExecResult, Transport} from '../../../../src/core/transport.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A node: connecting takes `connectMs`, then its shell answers the heartbeat after `heartbeatMs` (Infinity: never). */
function node(connectMs: number, heartbeatMs: number): Transport {
  return {
    target: 'fake',
    hostKey: () => undefined,
    close: async () => {},
    async exec(_argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
      const aborted = new Promise<never>((_, reject) => options.signal?.addEventListener('abort', () => reject(options.signal!.reason), {once: true}))
      aborted.catch(() => {})
      await Promise.race([sleep(connectMs), aborted])
      options.onSent?.()
      if (!Number.isFinite(heartbeatMs)) return aborted
      await Promise.race([sleep(heartbeatMs), aborted])
      const stdout = `${MARK} heartbeat 1\n${MARK} usage 0.1 1000\n${MARK} list-begin\n[]\n${MARK} list-end 0\n`
      options.onStdout?.(Buffer.from(stdout))
      return {stdout, stderr: '', code: 0, signal: null}
    },
  }
}

const observe = (t: Transport, options: Parameters<typeof observeNode>[4]) => observeNode(t, runtimeFor('podman'), {}, [], {stallToleranceMs: 10_000, ...options})

describe('core/reconcile/observe: the heartbeat deadline', () => {
  it('runs from when the command was sent: a slow connect does not eat into it, and the latency excludes it', async () => {
    const r = await observe(node(400, 50), {heartbeatTimeoutMs: 200, connectTimeoutMs: 2_000})
    expect(r.outcome.kind).to.equal('answered')
    const latency = (r.outcome as {latencyMs: number}).latencyMs
    expect(latency).to.be.within(40, 200)
  })

  it('a heartbeat later than the deadline is a miss that says how the deadline was reached', async () => {
    const r = await observe(node(0, 500), {heartbeatTimeoutMs: 150, deadlineBasis: 'its usual 0.05s +- 0.01s over 5 heartbeats'})
    expect(r.outcome).to.deep.equal({kind: 'missed', refused: false, error: 'no heartbeat within 0.15s of sending (its usual 0.05s +- 0.01s over 5 heartbeats)'})
  })

  it('connecting has its own timeout and its own error', async () => {
    const r = await observe(node(1_000, 10), {heartbeatTimeoutMs: 5_000, connectTimeoutMs: 150})
    expect(r.outcome).to.deep.include({kind: 'missed', error: 'could not connect within 0.15s'})
  })

  it('patient (one-shot commands on a cold pool): a node that answers at all is alive, however slow', async () => {
    const r = await observe(node(300, 600), {patient: true, heartbeatTimeoutMs: 100, connectTimeoutMs: 100, timeoutMs: 5_000})
    expect(r.outcome.kind).to.equal('answered')
    expect(r.observation.ok).to.equal(true)
  })

  it('a connection lost after the heartbeat is a miss (the host went silent mid-observation); a listing that only times out still counts the heartbeat', async () => {
    /** Answers the heartbeat at once, then fails the command with `error` after 20 ms. */
    const halfway = (error: Error): Transport => ({
      target: 'fake',
      hostKey: () => undefined,
      close: async () => {},
      async exec(_argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
        options.onSent?.()
        options.onStdout?.(Buffer.from(`${MARK} heartbeat 1\n${MARK} usage 0.1 1000\n`))
        await sleep(20)
        throw error
      },
    })
    const lost = await observe(halfway(new UnreachableError('fake', 'the connection was lost (Keepalive timeout)', {code: 'closed'})), {heartbeatTimeoutMs: 1_000})
    expect(lost.outcome).to.deep.include({kind: 'missed', refused: false})
    expect((lost.outcome as {error: string}).error).to.match(/^answered its heartbeat, then the connection was lost .*Keepalive timeout/)
    expect(lost.observation.ok).to.equal(false)
    const slow = await observe(halfway(new UnreachableError('fake', '`podman ps` did not finish within 10s', {code: 'timeout'})), {heartbeatTimeoutMs: 1_000})
    expect(slow.outcome.kind).to.equal('answered')
    expect(slow.observation.error).to.match(/^answered its heartbeat, but the observation failed/)
  })
})
