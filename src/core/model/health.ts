/** What the health probe reads on a node (one sample) and the conditions judged from it. Plain data. */

export interface FilesystemSample {
  /** The watched path (/, the runtime's store, a volume root). */
  path: string
  mount: string | null
  fsType: string | null
  sizeBytes: number | null
  freeBytes: number | null
  inodes: number | null
  inodesFree: number | null
  readOnly: boolean
}

export interface PressureSample {
  /** Share of time (%) some / all tasks stalled over the last 10 s (PSI avg10). */
  some10: number | null
  full10: number | null
}

export interface KernelLine {
  /** Seconds since boot, from the `[  123.456]` prefix (null when the line has none). */
  at: number | null
  text: string
}

export interface SmartDevice {
  device: string
  /** smartctl -H: PASSED / OK true, FAILED false, null when not told. */
  passed: boolean | null
  reallocated: number | null
  pending: number | null
  uncorrectable: number | null
}

export interface GpuHealth {
  index: number
  eccUncorrected: number | null
  retiredPending: boolean | null
  remappedPending: boolean | null
}

export interface HealthSample {
  /** Controller time the sample was taken. */
  at: number
  uptimeSeconds: number | null
  memory: {totalBytes: number | null; availableBytes: number | null}
  psi: {memory: PressureSample | null; io: PressureSample | null; cpu: PressureSample | null}
  /** Cumulative OOM kills since boot (/proc/vmstat oom_kill). */
  oomKills: number | null
  filesystems: FilesystemSample[]
  /** Kernel log lines matching the probe's patterns (newest last). */
  kernel: KernelLine[]
  edac: Array<{controller: string; correctable: number | null; uncorrectable: number | null}>
  temperatures: Array<{sensor: string; celsius: number; criticalCelsius: number | null}>
  raid: Array<{device: string; degraded: boolean; status: string}>
  smart: SmartDevice[]
  gpus: GpuHealth[]
  clock: {synchronized: boolean | null; offsetMs: number | null}
  /** The container runtime answered a version request (null: not asked). */
  runtime: {ok: boolean | null; detail: string | null}
  limits: {conntrack: [number, number] | null; pids: [number, number] | null; files: [number, number] | null}
}

export const SEVERITIES = ['info', 'warning', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]

/** One finding of a probe, before the state machine decides whether it is (still) a condition. */
export interface Finding {
  /** e.g. DiskPressure, MemoryPressure, ReadOnlyFilesystem (docs/health.md lists them). */
  type: string
  severity: Severity
  /** CamelCase cause, e.g. LowDiskSpace, KernelRemountedReadOnly. */
  reason: string
  message: string
}

/** A condition of a node (node-problem-detector's model), as stored. */
export interface NodeCondition extends Finding {
  /** When it was first raised (since then without a clear). */
  since: number
  /** The last probe that found it. */
  lastSeen: number
}
