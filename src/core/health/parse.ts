/**
 * The health probe's output (probe.ts) as a HealthSample. Pure and total: any section
 * may be missing, empty or odd, and its field is then null or [] - never an exception.
 */
import type {FilesystemSample, GpuHealth, HealthSample, KernelLine, PressureSample, SmartDevice} from '../model/health.js'
import {SECTION_MARK} from './probe.js'

/** A probe's output (this one's or the inventory's) by section name, blank lines dropped. */
export function splitSections(stdout: string): Map<string, string[]> {
  const sections = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of stdout.split('\n')) {
    if (line.startsWith(SECTION_MARK)) {
      current = []
      sections.set(line.slice(SECTION_MARK.length).trim(), current)
      continue
    }

    if (current && line.trim() !== '') current.push(line)
  }

  return sections
}

const num = (text: string | undefined | null): number | null => {
  if (text === undefined || text === null || text.trim() === '') return null
  const n = Number(text.trim())
  return Number.isFinite(n) ? n : null
}

export function parseHealthProbe(stdout: string, at: number): HealthSample {
  const s = splitSections(stdout)
  const get = (name: string): string[] => s.get(name) ?? []
  const oom = get('vmstat').find((l) => l.startsWith('oom_kill '))
  return {
    at,
    uptimeSeconds: num(get('uptime')[0]?.split(/\s+/)[0]),
    memory: parseMeminfo(get('meminfo')),
    psi: {memory: parsePsi(get('psi_memory')), io: parsePsi(get('psi_io')), cpu: parsePsi(get('psi_cpu'))},
    oomKills: num(oom?.split(/\s+/)[1]),
    filesystems: parseFilesystems(get('df'), get('dfi'), get('mounts')),
    kernel: get('kernel').map(parseKernelLine),
    edac: parseEdac(get('edac')),
    temperatures: parseTemperatures(get('hwmon'), get('thermal')),
    raid: parseMdstat(get('mdstat')),
    smart: parseSmart(get('smart')),
    gpus: parseNvidia(get('nvidia')),
    clock: parseClock(get('clock')),
    runtime: parseRuntime(get('runtime')),
    limits: parseLimits(get('limits')),
  }
}

/** /proc/meminfo lines (`MemTotal:  24683548 kB`): total and available bytes; without MemAvailable (before Linux 3.14), free + buffers + cached. */
export function parseMeminfo(lines: readonly string[]): HealthSample['memory'] {
  const kb: Record<string, number> = {}
  for (const line of lines) {
    const m = /^(\w+):\s+(\d+)\s*kB/.exec(line)
    if (m) kb[m[1]!] = Number(m[2]) * 1024
  }

  const available = kb.MemAvailable ?? (kb.MemFree === undefined ? undefined : kb.MemFree + (kb.Buffers ?? 0) + (kb.Cached ?? 0))
  return {totalBytes: kb.MemTotal ?? null, availableBytes: available ?? null}
}

/** The edac section: `mcN CE UE` per memory controller (EDAC_SECTION). */
export function parseEdac(lines: readonly string[]): HealthSample['edac'] {
  return lines.flatMap((l) => {
    const [controller, ce, ue] = l.trim().split(/\s+/)
    return controller ? [{controller, correctable: num(ce), uncorrectable: num(ue)}] : []
  })
}

/** `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` and the `full` line. */
export function parsePsi(lines: readonly string[]): PressureSample | null {
  const avg10 = (kind: string): number | null => {
    const line = lines.find((l) => l.startsWith(`${kind} `))
    return num(/avg10=([\d.]+)/.exec(line ?? '')?.[1])
  }

  const some10 = avg10('some')
  return some10 === null ? null : {some10, full10: avg10('full')}
}

/** One row of POSIX `df -P -k` or `df -P -i` (with a Type column after the device when `hasType`: `df -T`), figures as printed (KiB or inodes). */
export interface DfRow {
  device: string
  fsType: string | null
  total: number
  free: number
  mount: string
}

export function parseDfRow(line: string, hasType = false): DfRow | null {
  const parts = line.trim().split(/\s+/)
  if (parts.length < (hasType ? 7 : 6)) return null
  const rest = parts.slice(hasType ? 2 : 1)
  const total = num(rest[0])
  const free = num(rest[2])
  const mount = rest.slice(4).join(' ')
  if (total === null || free === null || !mount.startsWith('/')) return null
  return {device: parts[0]!, fsType: hasType ? parts[1]! : null, total: Math.trunc(total), free: Math.trunc(free), mount}
}

/** df lines are `PATH DEVICE SIZE USED AVAIL PCT MOUNT` (the probe prefixes the watched path to a df row); the mount lines `MOUNT FSTYPE OPTIONS`. */
export function parseFilesystems(df: readonly string[], dfi: readonly string[], mounts: readonly string[]): FilesystemSample[] {
  const rows = (lines: readonly string[]): Map<string, DfRow> => {
    const out = new Map<string, DfRow>()
    for (const line of lines) {
      const m = /^\s*(\/\S*)\s+(.*)$/.exec(line)
      const row = m ? parseDfRow(m[2]!) : null
      if (row) out.set(m![1]!, row)
    }

    return out
  }

  const space = rows(df)
  const inodes = rows(dfi)
  const mountRows = mounts.map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 3 && f[0]!.startsWith('/'))
  const paths = [...new Set([...space.keys(), ...inodes.keys()])]
  return paths.map((path) => {
    const d = space.get(path)
    const i = inodes.get(path)
    const mount = d?.mount ?? i?.mount ?? null
    // The mount covering the path: the longest mount point that is the path or a parent of it (the last listed wins: stacked mounts).
    let cover: string[] | undefined
    for (const m of mountRows) {
      const point = m[0]!
      const covers = point === '/' || path === point || path.startsWith(`${point}/`)
      if (covers && (!cover || point.length >= cover[0]!.length)) cover = m
    }

    return {
      path,
      mount: cover?.[0] ?? mount,
      fsType: cover?.[1] ?? null,
      sizeBytes: d ? d.total * 1024 : null,
      freeBytes: d ? d.free * 1024 : null,
      inodes: i?.total ?? null,
      inodesFree: i?.free ?? null,
      readOnly: cover ? cover[2]!.split(',').includes('ro') : false,
    }
  })
}

export function parseKernelLine(line: string): KernelLine {
  const m = /^\s*\[\s*(\d+(?:\.\d+)?)\]\s?(.*)$/.exec(line)
  return m ? {at: Number(m[1]), text: m[2]!.trim()} : {at: null, text: line.trim()}
}

/** hwmon lines `CHIP/tempN MILLIDEGREES [CRIT_MILLIDEGREES]`, thermal lines `TYPE MILLIDEGREES`. */
function parseTemperatures(hwmon: readonly string[], thermal: readonly string[]): HealthSample['temperatures'] {
  const out: HealthSample['temperatures'] = []
  for (const line of hwmon) {
    const [sensor, milli, crit] = line.trim().split(/\s+/)
    const c = num(milli)
    if (sensor && c !== null) out.push({sensor, celsius: c / 1000, criticalCelsius: num(crit) === null ? null : num(crit)! / 1000})
  }

  for (const line of thermal) {
    const [sensor, milli] = line.trim().split(/\s+/)
    const c = num(milli)
    if (sensor && c !== null) out.push({sensor: `thermal/${sensor}`, celsius: c / 1000, criticalCelsius: null})
  }

  return out
}

/** /proc/mdstat: `md0 : active raid1 sdb1[1] sda1[0]` then `... [2/1] [U_]` - an underscore is a missing member. */
export function parseMdstat(lines: readonly string[]): HealthSample['raid'] {
  const out: HealthSample['raid'] = []
  for (let i = 0; i < lines.length; i++) {
    const head = /^(md\S*)\s*:\s*(.*)$/.exec(lines[i]!)
    if (!head) continue
    const next = lines[i + 1] ?? ''
    const members = /\[([U_]+)\]/.exec(next)?.[1] ?? null
    out.push({device: head[1]!, degraded: members !== null && members.includes('_'), status: `${head[2]!.trim()}${members ? ` [${members}]` : ''}`})
  }

  return out
}

/** smartctl -H -A per device, each after a `== /dev/sdX` line. */
export function parseSmart(lines: readonly string[]): SmartDevice[] {
  const out: SmartDevice[] = []
  let cur: SmartDevice | undefined
  const attr = (line: string, names: readonly string[]): number | null => {
    const f = line.trim().split(/\s+/)
    // ID# ATTRIBUTE_NAME FLAG VALUE WORST THRESH TYPE UPDATED WHEN_FAILED RAW_VALUE
    return f.length >= 10 && names.includes(f[1]!) ? num(f[9]) : null
  }

  for (const line of lines) {
    const dev = /^== (\S+)/.exec(line)
    if (dev) {
      cur = {device: dev[1]!, passed: null, reallocated: null, pending: null, uncorrectable: null}
      out.push(cur)
      continue
    }

    if (!cur) continue
    const health = /(?:overall-health self-assessment test result|SMART Health Status):\s*(\S+)/.exec(line)
    if (health) cur.passed = /^(PASSED|OK)$/i.test(health[1]!)
    cur.reallocated = attr(line, ['Reallocated_Sector_Ct']) ?? cur.reallocated
    cur.pending = attr(line, ['Current_Pending_Sector']) ?? cur.pending
    cur.uncorrectable = attr(line, ['Offline_Uncorrectable', 'Reported_Uncorrect']) ?? cur.uncorrectable
    // NVMe: "Media and Data Integrity Errors:    0"
    const media = /^Media and Data Integrity Errors:\s*([\d,]+)/.exec(line)
    if (media) cur.uncorrectable = num(media[1]!.replace(/,/g, ''))
  }

  return out
}

/** One GPU of the nvidia section (NVIDIA_SECTION): the inventory's columns and the health counters (null when the driver did not tell). */
export interface NvidiaRow {
  index: number
  name: string | null
  memoryMiB: number | null
  busId: string | null
  eccUncorrected: number | null
  retiredPending: boolean | null
  remappedPending: boolean | null
}

/**
 * `index, name, memory.total, pci.bus_id[, ecc uncorrected, retired pending, remapped pending]`
 * (nounits; the last three are missing when the driver fell back to the inventory's query);
 * `[N/A]` or `[Not Supported]` are null.
 */
export function parseNvidiaRows(lines: readonly string[]): NvidiaRow[] {
  const flag = (v: string | undefined): boolean | null => (v === undefined ? null : /^yes$/i.test(v) ? true : /^no$/i.test(v) ? false : null)
  const text = (v: string | undefined): string | null => (v === undefined || v === '' || /^\[.*\]$/.test(v) ? null : v)
  return lines.flatMap((line) => {
    const f = line.split(',').map((x) => x.trim())
    const index = num(f[0])
    return index === null ? [] : [{index, name: text(f[1]), memoryMiB: num(f[2]), busId: text(f[3]), eccUncorrected: num(f[4]), retiredPending: flag(f[5]), remappedPending: flag(f[6])}]
  })
}

/** The health counters of the nvidia section. */
export function parseNvidia(lines: readonly string[]): GpuHealth[] {
  return parseNvidiaRows(lines).map(({index, eccUncorrected, retiredPending, remappedPending}) => ({index, eccUncorrected, retiredPending, remappedPending}))
}

/** `synchronized=yes|no` (timedatectl) and chrony's `System time : 0.000012 seconds fast of NTP time`, `Leap status : Normal`. */
export function parseClock(lines: readonly string[]): HealthSample['clock'] {
  let synchronized: boolean | null = null
  let offsetMs: number | null = null
  for (const line of lines) {
    const sync = /^synchronized=(\S*)/.exec(line)
    if (sync && sync[1] !== '') synchronized = sync[1] === 'yes'
    const sys = /^System time\s*:\s*([\d.]+) seconds (fast|slow)/.exec(line)
    if (sys) offsetMs = Number(sys[1]) * 1000 * (sys[2] === 'fast' ? 1 : -1)
    const leap = /^Leap status\s*:\s*(.*)$/.exec(line)
    if (leap && synchronized === null) synchronized = !/not synchronised/i.test(leap[1]!)
  }

  return {synchronized, offsetMs}
}

function parseRuntime(lines: readonly string[]): HealthSample['runtime'] {
  const rc = /^rc=(\S+)/.exec(lines[0] ?? '')?.[1]
  if (rc === undefined) return {ok: null, detail: null}
  if (rc === '0') return {ok: true, detail: null}
  if (rc === 'missing') return {ok: false, detail: 'the runtime binary is missing'}
  if (rc === 'no-socket') return {ok: false, detail: 'no containerd socket (is the containerd daemon running?)'}
  return {ok: false, detail: rc === '137' || rc === '124' ? 'no answer within 8s' : `exit ${rc}`}
}

function parseLimits(lines: readonly string[]): HealthSample['limits'] {
  const pair = (name: string): [number, number] | null => {
    const f = lines.find((l) => l.startsWith(`${name} `))?.trim().split(/\s+/)
    const a = num(f?.[1])
    const b = num(f?.[2])
    return a === null || b === null || b <= 0 ? null : [a, b]
  }

  return {conntrack: pair('conntrack'), pids: pair('pids'), files: pair('files')}
}
