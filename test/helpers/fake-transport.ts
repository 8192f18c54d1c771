/**
 * The one fake Transport of the tests (and the bench): argv in, a scripted answer out,
 * every call recorded. FakePodmanNode builds on it: a node whose podman holds
 * containers in memory and answers the observation, start, stop and remove argv the
 * runtime driver sends, so the reconcile pass runs in a unit test without SSH.
 */
import {UnreachableError} from '../../src/core/errors.js'
import type {ExecOptions, ExecResult, HostKeyInfo, Transport} from '../../src/core/transport.js'
import {MARK} from '../../src/core/reconcile/observation.js'

export type Answer = (argv: readonly string[], options: ExecOptions) => Partial<ExecResult> | Promise<Partial<ExecResult>>

export class FakeTransport implements Transport {
  readonly calls: Array<{argv: string[]; options: ExecOptions}> = []
  constructor(
    readonly target: string,
    private readonly answer: Answer,
    private readonly key?: HostKeyInfo,
  ) {}

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({argv: [...argv], options})
    return {stdout: '', stderr: '', code: 0, signal: null, ...(await this.answer(argv, options))}
  }

  hostKey(): HostKeyInfo | undefined {
    return this.key
  }

  async close(): Promise<void> {}
}

export interface FakeContainer {
  name: string
  state: 'running' | 'exited' | 'created'
  exitCode: number | null
  labels: Record<string, string>
  image: string
  /** The argv of `podman run` that made it (after `run`). */
  runArgs: string[]
  /** The network it joined (`--network`), if any. */
  network?: string
}

/** A podman node in memory. `down` makes every call fail as an unreachable node does. */
export class FakePodmanNode {
  readonly containers = new Map<string, FakeContainer>()
  down = false
  /** A start of a container by this name fails (the image is missing...). */
  failStarts = new Set<string>()
  /** What the node's health probe prints (core/health/probe.ts), when an observation carries it. */
  healthProbe = ''
  /** Observations that carried the health probe. */
  probed = 0
  /** podman networks on the node (name -> its labels), made by starts that asked for one. */
  readonly networks = new Map<string, Record<string, string>>()
  readonly transport: FakeTransport

  constructor(target: string) {
    this.transport = new FakeTransport(target, (argv) => this.answer(argv))
  }

  /** The argv of every command run, without the observations. */
  actions(): string[][] {
    return this.transport.calls.map((c) => c.argv).filter((argv) => !isObservation(argv))
  }

  private answer(argv: readonly string[]): Partial<ExecResult> {
    if (this.down) throw new UnreachableError(this.transport.target, `${this.transport.target} did not answer within 10s`, {code: 'timeout'})
    if (isObservation(argv)) {
      const listing = JSON.stringify([...this.containers.values()].map(psEntry))
      const probe = argv[2]!.includes(`${MARK} probe-begin`) ? [`${MARK} probe-begin`, this.healthProbe, `${MARK} probe-end`] : []
      if (probe.length > 0) this.probed++
      const networks = argv[2]!.includes(`${MARK} networks-begin`) ? [`${MARK} networks-begin`, ...this.networks.keys(), `${MARK} networks-end 0`] : []
      return {stdout: [`${MARK} heartbeat 1`, `${MARK} usage 0.5 1000000`, ...probe, ...networks, `${MARK} list-begin`, listing, `${MARK} list-end 0`, ''].join('\n')}
    }

    // A start after its volume preparations (runtime/spec.ts withVolumePrep): the preparations succeed, then the start.
    if (argv[0] === 'sh' && argv[3] === 'clusterctl-volumes') {
      let i = 5
      for (let n = Number(argv[4]); n > 0; n--) i += ({dir: 2, 'nfs-mount': 4, 'podman-nfs': 5} as Record<string, number>)[argv[i]!] ?? 1
      return this.answer(argv.slice(i))
    }

    if (argv[0] === 'sh' && argv[3] === 'clusterctl-start') {
      const name = argv[4]!
      if (this.failStarts.has(name)) return {code: 125, stderr: 'Error: localhost/app:1: image not known\n'}
      // sh -c SCRIPT clusterctl-start NAME HASH GRACE IMAGE INIT NETWORK CLUSTER, then the `podman run` arguments
      const network = argv[9] || undefined
      if (network && !this.networks.has(network)) this.networks.set(network, {'io.clusterctl.cluster': argv[10]!})
      const runArgs = argv.slice(11)
      const labels: Record<string, string> = {}
      runArgs.forEach((a, i) => {
        if (a === '--label') {
          const [k, ...v] = runArgs[i + 1]!.split('=')
          labels[k!] = v.join('=')
        }
      })
      const existing = this.containers.get(name)
      this.containers.set(name, {name, state: 'running', exitCode: null, labels, image: imageOf(runArgs), runArgs, ...(network ? {network} : {})})
      return {stdout: `clusterctl-start ${existing?.state === 'running' ? 'adopted' : 'started'} ${name}\n`}
    }

    if (argv[0] === 'podman' && argv[1] === 'rm') {
      this.containers.delete(argv[argv.length - 1]!)
      return {}
    }

    if (argv[0] === 'podman' && argv[1] === 'network' && argv[2] === 'rm') {
      const name = argv[3]!
      if ([...this.containers.values()].some((c) => c.network === name)) return {code: 2, stderr: `Error: "${name}" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used\n`}
      this.networks.delete(name)
      return {}
    }

    return {code: 125, stderr: `fake podman node: unexpected ${argv.slice(0, 3).join(' ')}\n`}
  }
}

export function isObservation(argv: readonly string[]): boolean {
  return argv[0] === 'sh' && argv[2]?.includes(`${MARK} heartbeat`) === true
}

/** The image: the first argument of `podman run` that is not an option or an option's value. */
function imageOf(runArgs: readonly string[]): string {
  const withValue = new Set(['--name', '--log-driver', '--label', '--env', '--cpus', '--memory', '--memory-swap', '--publish', '--volume', '--entrypoint', '--network', '--network-alias'])
  for (let i = 0; i < runArgs.length; i++) {
    if (withValue.has(runArgs[i]!)) i++
    else if (!runArgs[i]!.startsWith('--')) return runArgs[i]!
  }

  return ''
}

function psEntry(c: FakeContainer): Record<string, unknown> {
  return {Id: `id-${c.name}`, Names: [c.name], State: c.state, ExitCode: c.exitCode ?? 0, Labels: c.labels, Image: c.image, StartedAt: 1_750_000_000, ExitedAt: c.state === 'exited' ? 1_750_000_100 : -62135596800, Networks: [c.network ?? 'podman']}
}
