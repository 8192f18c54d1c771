/**
 * From probe samples to node conditions (node-problem-detector's model). Pure.
 *
 * `findingsOf(sample, previous)` judges one sample (with the one before it, for
 * counters that only mean something as a delta: OOM kills, ECC). `nextConditions`
 * is the state machine: a finding raises its condition at once (or updates its
 * message and severity, keeping `since`); a condition whose finding is absent is
 * cleared only after it has been absent for the transition period (default 5 min), so
 * a node hovering at a threshold does not flap.
 *
 * Thresholds (docs/health.md, after the node_exporter alert rules and the kubelet's
 * eviction defaults): memory available < 100 MiB or < 10 %; disk free < 10 %; inodes
 * free < 5 %; clock offset > 50 ms or NTP not synchronised; PIDs, open files or
 * conntrack entries > 90 % of their limit; a temperature within 5 degrees of its
 * critical point (or above 95 C without one).
 */
import type {Finding, HealthSample, NodeCondition, Severity} from '../model/health.js'

export interface HealthThresholds {
  memAvailableBytes: number
  memAvailableShare: number
  diskFreeShare: number
  inodesFreeShare: number
  clockOffsetMs: number
  limitShare: number
  /** Kernel log lines older than this (by the node's uptime) no longer count. */
  kernelWindowSeconds: number
  /** A condition clears after its finding has been absent this long. */
  transitionMs: number
}

export const DEFAULT_THRESHOLDS: Readonly<HealthThresholds> = Object.freeze({
  memAvailableBytes: 100 * 1024 ** 2,
  memAvailableShare: 0.1,
  diskFreeShare: 0.1,
  inodesFreeShare: 0.05,
  clockOffsetMs: 50,
  limitShare: 0.9,
  kernelWindowSeconds: 600,
  transitionMs: 5 * 60_000,
})

/** Condition types that keep new work off the node (pressure): the scheduler treats the node as not ready. */
export const BLOCKING_TYPES: ReadonlySet<string> = new Set(['MemoryPressure', 'DiskPressure', 'PIDPressure', 'RuntimeUnhealthy', 'ReadOnlyFilesystem', 'ClockUnsynchronized'])

/** Whether a condition keeps new work off its node: a pressure type, or any critical condition. */
export function blocksWork(c: Pick<Finding, 'type' | 'severity'>): boolean {
  return c.severity === 'critical' || BLOCKING_TYPES.has(c.type)
}

/** Whether a condition recommends moving the node's work away (critical hardware: `daemon --auto-drain` acts on it). */
export function recommendsDrain(c: Pick<Finding, 'severity'>): boolean {
  return c.severity === 'critical'
}

const MiB = 1024 ** 2
const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`
const size = (b: number): string => (b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(1)}Gi` : `${Math.round(b / MiB)}Mi`)

/** Kernel log patterns: what each means. First match wins per line. */
const KERNEL_RULES: ReadonlyArray<{re: RegExp; type: string; severity: Severity; reason: string}> = [
  {re: /NVRM: Xid .*?: (48|79|94|95|63|64|74)\b/i, type: 'GPUError', severity: 'critical', reason: 'GPUXidCritical'},
  {re: /NVRM: Xid/i, type: 'GPUError', severity: 'warning', reason: 'GPUXid'},
  {re: /XFS.*(shutdown|shut(ting)? down)|EXT4-fs.*Aborting journal/i, type: 'FilesystemShutdown', severity: 'critical', reason: 'FilesystemShutdown'},
  {re: /Remounting filesystem read-only/i, type: 'ReadOnlyFilesystem', severity: 'warning', reason: 'KernelRemountedReadOnly'},
  {re: /(machine check|hardware error).*(fatal|uncorrected)|Kernel panic.*machine check/i, type: 'MachineCheck', severity: 'critical', reason: 'FatalMachineCheck'},
  {re: /EDAC.*\bUE\b|uncorrectable error/i, type: 'MemoryECC', severity: 'critical', reason: 'UncorrectableECC'},
  {re: /EXT4-fs error|XFS.*corruption|I\/O error|blk_update_request/i, type: 'KernelIOError', severity: 'warning', reason: 'IOErrors'},
  {re: /hung_task|blocked for more than \d+ seconds/i, type: 'HungTask', severity: 'warning', reason: 'TaskHung'},
  {re: /Out of memory|oom-kill|Killed process/i, type: 'OOMKilling', severity: 'warning', reason: 'KernelOOMKill'},
]

/** Every finding of one sample; `previous` (the node's sample before) turns counters into deltas. */
export function findingsOf(sample: HealthSample, previous: HealthSample | null, t: HealthThresholds = DEFAULT_THRESHOLDS): Finding[] {
  const out: Finding[] = []
  const add = (f: Finding): void => {
    const same = out.find((o) => o.type === f.type)
    if (!same) out.push(f)
    else if (rank(f.severity) > rank(same.severity)) Object.assign(same, f)
  }

  // Memory (kubelet: memory.available < 100Mi; node_exporter: < 10 %).
  const {totalBytes, availableBytes} = sample.memory
  if (availableBytes !== null && (availableBytes < t.memAvailableBytes || (totalBytes && availableBytes < totalBytes * t.memAvailableShare))) {
    add({type: 'MemoryPressure', severity: 'warning', reason: 'LowMemory', message: `${size(availableBytes)} of memory available${totalBytes ? ` (${pct(availableBytes / totalBytes)} of ${size(totalBytes)})` : ''}`})
  }

  // OOM kills since the previous sample.
  if (sample.oomKills !== null && previous?.oomKills != null && sample.oomKills > previous.oomKills) {
    const n = sample.oomKills - previous.oomKills
    add({type: 'OOMKilling', severity: 'warning', reason: 'OOMKill', message: `${n} process${n === 1 ? '' : 'es'} killed by the OOM killer since the last probe`})
  }

  // Filesystems: space, inodes, read-only.
  const low: string[] = []
  const lowInodes: string[] = []
  const seen = new Set<string>()
  for (const fs of sample.filesystems) {
    const key = fs.mount ?? fs.path
    if (fs.readOnly) add({type: 'ReadOnlyFilesystem', severity: 'warning', reason: 'MountedReadOnly', message: `${fs.path} is on a read-only filesystem (${fs.mount ?? '?'})`})
    if (seen.has(key)) continue
    seen.add(key)
    if (fs.sizeBytes && fs.freeBytes !== null && fs.freeBytes < fs.sizeBytes * t.diskFreeShare) low.push(`${fs.path} ${pct(fs.freeBytes / fs.sizeBytes)} free (${size(fs.freeBytes)} of ${size(fs.sizeBytes)})`)
    if (fs.inodes && fs.inodesFree !== null && fs.inodesFree < fs.inodes * t.inodesFreeShare) lowInodes.push(`${fs.path} ${pct(fs.inodesFree / fs.inodes)} inodes free`)
  }

  if (low.length > 0) add({type: 'DiskPressure', severity: 'warning', reason: 'LowDiskSpace', message: low.join('; ')})
  else if (lowInodes.length > 0) add({type: 'DiskPressure', severity: 'warning', reason: 'LowInodes', message: lowInodes.join('; ')})

  // Kernel log: recent lines only (by the node's own uptime).
  for (const line of sample.kernel) {
    if (line.at !== null && sample.uptimeSeconds !== null && sample.uptimeSeconds - line.at > t.kernelWindowSeconds) continue
    const rule = KERNEL_RULES.find((r) => r.re.test(line.text))
    if (rule) add({type: rule.type, severity: rule.severity, reason: rule.reason, message: `kernel: ${line.text.slice(0, 200)}`})
  }

  // EDAC counters.
  for (const mc of sample.edac) {
    const before = previous?.edac.find((p) => p.controller === mc.controller)
    if (mc.uncorrectable !== null && mc.uncorrectable > 0) add({type: 'MemoryECC', severity: 'critical', reason: 'UncorrectableECC', message: `${mc.controller}: ${mc.uncorrectable} uncorrectable memory errors`})
    else if (mc.correctable !== null && before?.correctable != null && mc.correctable > before.correctable) add({type: 'MemoryECC', severity: 'warning', reason: 'CorrectableECC', message: `${mc.controller}: ${mc.correctable - before.correctable} new correctable memory errors (${mc.correctable} in all)`})
  }

  for (const temp of sample.temperatures) {
    const hot = temp.criticalCelsius !== null ? temp.celsius >= temp.criticalCelsius - 5 : temp.celsius >= 95
    if (hot) add({type: 'Overheating', severity: temp.criticalCelsius !== null && temp.celsius >= temp.criticalCelsius ? 'critical' : 'warning', reason: 'HighTemperature', message: `${temp.sensor} at ${temp.celsius.toFixed(0)} C${temp.criticalCelsius !== null ? ` (critical ${temp.criticalCelsius.toFixed(0)} C)` : ''}`})
  }

  const degraded = sample.raid.filter((r) => r.degraded)
  if (degraded.length > 0) add({type: 'RAIDDegraded', severity: 'warning', reason: 'ArrayDegraded', message: degraded.map((r) => `${r.device}: ${r.status}`).join('; ')})

  for (const d of sample.smart) {
    if (d.passed === false) add({type: 'SMARTFailing', severity: 'critical', reason: 'HealthCheckFailed', message: `${d.device}: SMART overall-health self-assessment FAILED`})
    else if ((d.pending ?? 0) > 0 || (d.uncorrectable ?? 0) > 0) add({type: 'SMARTFailing', severity: 'warning', reason: 'BadSectors', message: `${d.device}: ${d.pending ?? 0} pending, ${d.uncorrectable ?? 0} uncorrectable sectors, ${d.reallocated ?? 0} reallocated`})
  }

  for (const g of sample.gpus) {
    if (g.remappedPending || g.retiredPending) add({type: 'GPUError', severity: 'critical', reason: 'GPUPendingRemap', message: `GPU ${g.index}: ${g.remappedPending ? 'row remapping' : 'page retirement'} pending (reset the GPU)`})
    else if ((g.eccUncorrected ?? 0) > 0) add({type: 'GPUError', severity: 'critical', reason: 'GPUUncorrectableECC', message: `GPU ${g.index}: ${g.eccUncorrected} uncorrectable ECC errors`})
  }

  if (sample.clock.synchronized === false) add({type: 'ClockUnsynchronized', severity: 'warning', reason: 'NTPNotSynchronized', message: 'the clock is not synchronised with NTP'})
  else if (sample.clock.offsetMs !== null && Math.abs(sample.clock.offsetMs) > t.clockOffsetMs) add({type: 'ClockUnsynchronized', severity: 'warning', reason: 'ClockSkew', message: `the clock is ${Math.abs(sample.clock.offsetMs).toFixed(0)} ms ${sample.clock.offsetMs > 0 ? 'fast' : 'slow'}`})

  // The runtime: two failed answers in a row (one slow answer is not a condition).
  if (sample.runtime.ok === false && previous?.runtime.ok === false) add({type: 'RuntimeUnhealthy', severity: 'warning', reason: 'RuntimeNotAnswering', message: `the container runtime did not answer twice in a row: ${sample.runtime.detail ?? 'failed'}`})

  const limit = (pair: [number, number] | null, type: string, reason: string, what: string): void => {
    if (pair && pair[0] > pair[1] * t.limitShare) add({type, severity: 'warning', reason, message: `${pair[0]} of ${pair[1]} ${what} in use (${pct(pair[0] / pair[1])})`})
  }

  limit(sample.limits.pids, 'PIDPressure', 'PIDsNearLimit', 'PIDs')
  limit(sample.limits.files, 'FDPressure', 'FilesNearLimit', 'open files')
  limit(sample.limits.conntrack, 'ConntrackPressure', 'ConntrackNearLimit', 'conntrack entries')
  return out
}

function rank(s: Severity): number {
  return s === 'critical' ? 2 : s === 'warning' ? 1 : 0
}

export interface ConditionChange {
  kind: 'raised' | 'changed' | 'cleared'
  condition: NodeCondition
}

/**
 * The state machine: the conditions after a probe at `now` found `findings`. A new
 * finding is raised; a known one keeps its `since` (its message and severity follow
 * the finding); one not found for `transitionMs` is cleared.
 */
export function nextConditions(current: readonly NodeCondition[], findings: readonly Finding[], now: number, transitionMs = DEFAULT_THRESHOLDS.transitionMs): {conditions: NodeCondition[]; changes: ConditionChange[]} {
  const conditions: NodeCondition[] = []
  const changes: ConditionChange[] = []
  const found = new Map(findings.map((f) => [f.type, f]))
  for (const c of current) {
    const f = found.get(c.type)
    if (f) {
      const next: NodeCondition = {...f, since: c.since, lastSeen: now}
      conditions.push(next)
      if (f.severity !== c.severity || f.reason !== c.reason) changes.push({kind: 'changed', condition: next})
      found.delete(c.type)
    } else if (now - c.lastSeen < transitionMs) {
      conditions.push(c)
    } else {
      changes.push({kind: 'cleared', condition: c})
    }
  }

  for (const f of found.values()) {
    const c: NodeCondition = {...f, since: now, lastSeen: now}
    conditions.push(c)
    changes.push({kind: 'raised', condition: c})
  }

  conditions.sort((a, b) => rank(b.severity) - rank(a.severity) || a.type.localeCompare(b.type))
  return {conditions, changes}
}

/** What to do about a condition (`node doctor`). */
export function adviceFor(c: Pick<Finding, 'type' | 'reason'>): string {
  switch (c.type) {
    case 'MemoryPressure':
      return 'Free memory on the node or move work away (`clusterctl node drain NAME`); new work is kept off meanwhile.'
    case 'DiskPressure':
      return 'Free space on the filesystem named (old images: `podman image prune`; logs); new work is kept off meanwhile.'
    case 'DiskFilling':
      return 'The filesystem will be full within the horizon at its current rate: free space or find what writes.'
    case 'ReadOnlyFilesystem':
      return 'Check the kernel log (`dmesg`) and the disk; remount read-write or replace the disk. New work is kept off.'
    case 'FilesystemShutdown':
      return 'The filesystem shut itself down after an error: drain the node, then repair (xfs_repair / fsck) or replace the disk.'
    case 'OOMKilling':
      return 'Processes were killed for lack of memory: raise the memory limits of the jobs that run there, or give the node more memory.'
    case 'KernelIOError':
      return 'The disk reports I/O errors: check `smartctl -a` and the cabling; plan to replace it.'
    case 'HungTask':
      return 'Tasks were blocked in the kernel for minutes (often storage or NFS): check the disk and network storage.'
    case 'MemoryECC':
      return c.reason === 'UncorrectableECC' ? 'Uncorrectable memory errors: drain the node and replace the DIMM.' : 'Correctable memory errors are rising: plan to replace the DIMM.'
    case 'MachineCheck':
      return 'A fatal machine check: drain the node and have the hardware checked.'
    case 'Overheating':
      return 'Check the fans, airflow and the room; the CPU throttles and may shut down.'
    case 'RAIDDegraded':
      return 'A RAID member is missing: replace the disk and re-add it (`mdadm --manage`).'
    case 'SMARTFailing':
      return 'The disk predicts its own failure: drain the node and replace the disk.'
    case 'GPUError':
      return 'The GPU reported a fatal error: drain the node and reset the GPU (`nvidia-smi -r`) or reboot; replace it if it recurs.'
    case 'ClockUnsynchronized':
      return 'Start or fix time synchronisation (chrony, systemd-timesyncd); certificates and schedules depend on the clock.'
    case 'RuntimeUnhealthy':
      return 'The container runtime does not answer: restart it (`systemctl restart podman` / `containerd`) and check its storage.'
    case 'PIDPressure':
      return 'Nearly out of PIDs: find the process that forks without end, or raise kernel.pid_max.'
    case 'FDPressure':
      return 'Nearly out of file handles: find the leaking process, or raise fs.file-max.'
    case 'ConntrackPressure':
      return 'The connection tracking table is nearly full: new connections will be dropped; raise nf_conntrack_max.'
    default:
      return 'See docs/health.md.'
  }
}
