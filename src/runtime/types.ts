/**
 * The container runtime contract: plain data in, argv out; stdout in, plain data out.
 *
 * A ContainerRuntime never runs anything. Its builders return argv arrays (often
 * `['sh', '-c', SCRIPT, NAME, ...args]` with every user value a positional argument of
 * a constant script) and its parsers are total functions of a command's stdout. The
 * caller executes the argv through a Transport (see ./client.ts) and decides what a
 * non-zero exit means. See README.md in this folder for the conventions.
 */
import type {RuntimeName} from '../core/model/node.js'

export type {RuntimeName}

export type PortProtocol = 'tcp' | 'udp'

export interface PortMapping {
  /**
   * The port the application listens on inside its network namespace (podman's bridge).
   * 0 means "the same as hostPort" (Marathon's rule): the app binds `$PORTn`. Under
   * containerd (host networking) the app always has to bind `$PORTn`; containerPort
   * only names the `PORT_<containerPort>` variable there.
   */
  containerPort: number
  /** The port on the node, chosen by the scheduler. */
  hostPort: number
  protocol: PortProtocol
}

export interface VolumeMount {
  /** Absolute path on the node (a bind mount). It must exist, unless `create` or `nfs` says how it comes to. */
  source: string
  /** Absolute path inside the container. */
  target: string
  readOnly: boolean
  /** A local volume: the start makes the directory first (`mkdir -p`). */
  create?: boolean
  /**
   * An NFS export. podman mounts it through a volume of its local driver (named
   * `clusterctl-nfs-NAME`, created by the start when absent); containerd mounts it on
   * `source` on the node (unless mounted already) and binds that.
   */
  nfs?: {name: string; server: string; export: string; options: string}
}

export interface ContainerSpec {
  /** Deterministic name (see naming.ts `containerName`). */
  name: string
  image: string
  /** The whole process argv (entrypoint and arguments); absent or empty: the image's default. */
  command?: string[]
  /** Added to the image's environment; `PORT*` variables are added by the driver (ports win). */
  env: Record<string, string>
  /** CPU limit in milli-cores; 0 = no limit. */
  cpuMilli: number
  /** Hard memory limit in bytes; 0 = no limit. */
  memBytes: number
  ports: PortMapping[]
  volumes: VolumeMount[]
  /**
   * The network the container joins (podman only; docs/networks.md), created on the node
   * when missing, with DNS on and the cluster's label, and the extra names it answers to
   * there. Absent: podman's default bridge (containerd: host networking).
   */
  network?: {name: string; aliases: string[]}
  /** Container labels (naming.ts `taskLabels`). `io.clusterctl.spec-hash` is filled in when absent. */
  labels: Record<string, string>
  /** Grace period when a start has to replace a container of another spec. Default 10. */
  stopGraceSeconds?: number
  /**
   * false: the command is the container's PID 1. Default: a static init found on the node
   * (INIT_PATHS) is PID 1 and forwards signals to the command (a PID 1 without a handler
   * ignores SIGTERM, so its stop would wait out the grace period). No init on the node:
   * the container starts without one.
   */
  init?: boolean
}

export type ContainerState = 'created' | 'running' | 'exited' | 'paused' | 'unknown'

export interface ObservedContainer {
  name: string
  /** podman: the container ID; containerd: the container ID, which is its name. */
  id: string
  state: ContainerState
  /** Set when state is `exited` and the runtime knows the status (128+N for signal N). */
  exitCode: number | null
  /** Epoch ms of the last start, when known. */
  startedAt: number | null
  /** Epoch ms of the exit when state is `exited` (containerd: when it was first observed). */
  finishedAt: number | null
  labels: Record<string, string>
  image: string
  /**
   * Host ports the container holds on its node while it runs (podman: its published
   * ports; containerd: the ports its start recorded in a label). Absent: none known.
   */
  hostPorts?: number[]
  /** The networks the container is attached to (podman), when known. */
  networks?: string[]
}

export interface ContainerList {
  containers: ObservedContainer[]
  /**
   * False when the output was cut short or not understood. A caller must then not
   * conclude that a container it does not see is gone.
   */
  complete: boolean
}

export type StartOutcome = 'started' | 'adopted' | 'restarted' | 'recreated'

export interface StartResult {
  outcome: StartOutcome
  /** The runtime's container ID. */
  id: string
}

export interface LogsOptions {
  follow: boolean
  /** Last N lines only; absent: everything. */
  tail?: number
}

export interface ContainerRuntime {
  readonly name: RuntimeName
  /**
   * Idempotent start of `spec.name`: prints one `clusterctl-start OUTCOME ID` line
   * (parseStart). Absent: started. Same spec hash: running or paused is adopted,
   * created or exited is started again (restarted). Other spec hash: stopped
   * gracefully, removed and created anew (recreated). Exit 0 on success.
   */
  startArgv(spec: ContainerSpec): string[]
  parseStart(stdout: string): StartResult | null
  /** Every container carrying all these labels, any state, with exit codes: one command. */
  listArgv(labelSelector: Record<string, string>): string[]
  parseList(stdout: string): ContainerList
  /** Stop signal (the image's, SIGTERM by default), graceSeconds, SIGKILL, remove. A missing container is success. */
  stopArgv(name: string, graceSeconds: number): string[]
  /** Remove at once (SIGKILL if running). A missing container is success. */
  removeArgv(name: string): string[]
  /**
   * Runs argv inside the running container (health checks). `execId` names the exec
   * where the runtime needs one (containerd); it must be unique among concurrent execs.
   */
  execArgv(name: string, argv: readonly string[], execId: string): string[]
  /** The container's output on stdout; with follow, until it exits (or the caller aborts). */
  logsArgv(name: string, options: LogsOptions): string[]
  /** Loads a docker-archive (or OCI archive) fed on stdin; parseLoad names the images. */
  loadImageArgv(): string[]
  parseLoad(stdout: string): string[]
  /** Exit 0: present; exit 1: absent; anything else: the runtime failed. */
  imageExistsArgv(image: string): string[]
  listImagesArgv(): string[]
  parseImages(stdout: string): string[]
  /**
   * Networks carrying all these labels (the ones clusterctl made), one name a line; absent
   * when the runtime has no networks of its own (containerd: host networking).
   */
  listNetworksArgv?(labelSelector: Record<string, string>): string[]
  /** Removes a network unless a container still uses it (then it fails, and the network stays). */
  removeNetworkArgv?(name: string): string[]
}

/** What a node's runtime needs to know about the node. */
export interface RuntimeOptions {
  /** containerd: where task logs go (default /var/log/clusterctl). */
  logDir?: string
  /** containerd: the namespace (default `clusterctl`). */
  namespace?: string
}
