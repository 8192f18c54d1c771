/**
 * Turns the probe's output (see probe.ts) into an Inventory. Pure and total:
 * any section may be empty or odd, and the answer is then null or [] for that
 * field, never an exception.
 */
import {type DfRow, parseDfRow, parseEdac, parseMeminfo, parseNvidiaRows, splitSections} from '../health/parse.js'
import type {DiskInfo, GpuInfo, Inventory, NetworkInterfaceInfo, RuntimeInfo} from '../model/inventory.js'

export {splitSections}

export interface ProbeTiming {
  /** Controller clock (ms) just before the probe was sent, and when its answer was in. */
  sentAt: number
  receivedAt: number
}

export function parseInventory(stdout: string, timing: ProbeTiming): Inventory {
  const s = splitSections(stdout)
  const get = (name: string): string[] => s.get(name) ?? []
  const first = (name: string): string | null => get(name)[0]?.trim() || null

  const osRelease = parseKeyValues(get('os_release'))
  const lscpu = parseColonPairs(get('lscpu'))
  const cpuinfo = get('cpuinfo')
  const disks = parseDf(get('df'))
  const dataDisk = parseDataDisk(get('data_disk'), disks)

  return {
    hostname: first('hostname'),
    os: {
      id: osRelease.ID ?? null,
      name: osRelease.NAME ?? null,
      version: osRelease.VERSION_ID ?? null,
      prettyName: osRelease.PRETTY_NAME ?? null,
    },
    kernel: first('kernel'),
    arch: first('arch'),
    cpu: parseCpu(cpuinfo, lscpu, first('nproc')),
    memory: {...parseMeminfo(get('meminfo')), edacControllers: parseEdac(get('edac')).length},
    disks,
    dataDisk,
    gpus: parseGpus(get('nvidia'), get('lspci'), get('pci_sysfs')),
    network: parseNetwork(get('ip_addr'), get('net_sysfs')),
    runtimes: {podman: parsePodman(get('podman')), containerd: parseContainerd(get('containerd'))},
    cgroupVersion: first('cgroup') === '2' ? 2 : first('cgroup') === '1' ? 1 : null,
    load: parseLoad(first('loadavg')),
    uptimeSeconds: toNumber(first('uptime')?.split(/\s+/)[0]),
    clockOffsetMs: clockOffset(first('time_start'), first('time_end'), timing),
    probeMs: Math.max(0, timing.receivedAt - timing.sentAt),
  }
}

function toNumber(text: string | undefined | null): number | null {
  if (text === undefined || text === null || text.trim() === '') return null
  const n = Number(text)
  return Number.isFinite(n) ? n : null
}

function toInt(text: string | undefined | null): number | null {
  const n = toNumber(text)
  return n === null ? null : Math.trunc(n)
}

function parseKeyValues(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of lines) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (!m) continue
    let value = m[2]!
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) value = value.slice(1, -1)
    out[m[1]!] = value
  }

  return out
}

function parseColonPairs(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of lines) {
    const i = line.indexOf(':')
    if (i <= 0) continue
    const key = line.slice(0, i).trim()
    if (!(key in out)) out[key] = line.slice(i + 1).trim()
  }

  return out
}

function parseCpu(cpuinfo: string[], lscpu: Record<string, string>, nproc: string | null): Inventory['cpu'] {
  let processors = 0
  let model: string | null = null
  const physicalIds = new Set<string>()
  const coreIds = new Set<string>()
  let physical = '0'
  for (const line of cpuinfo) {
    const i = line.indexOf(':')
    if (i < 0) continue
    const key = line.slice(0, i).trim()
    const value = line.slice(i + 1).trim()
    if (key === 'processor') processors++
    else if ((key === 'model name' || key === 'Model' || key === 'Hardware') && !model) model = value || null
    else if (key === 'physical id') {
      physical = value
      physicalIds.add(value)
    } else if (key === 'core id') coreIds.add(`${physical}:${value}`)
  }

  const threads = toInt(nproc) ?? toInt(lscpu['CPU(s)']) ?? (processors > 0 ? processors : null)
  const sockets = toInt(lscpu['Socket(s)']) ?? (physicalIds.size > 0 ? physicalIds.size : processors > 0 ? 1 : null)
  const perSocket = toInt(lscpu['Core(s) per socket'])
  const cores = perSocket !== null && sockets !== null ? perSocket * sockets : coreIds.size > 0 ? coreIds.size : threads
  return {model: lscpu['Model name'] || model, sockets, cores, threads}
}

const PSEUDO_FS = new Set(['tmpfs', 'devtmpfs', 'overlay', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'squashfs', 'ramfs', 'devpts', 'mqueue', 'nsfs', 'autofs', 'fuse.lxcfs', 'efivarfs', 'shm'])

/** POSIX `df -P -k` with or without a Type column. Keeps real filesystems only. */
function parseDf(lines: string[]): DiskInfo[] {
  if (lines.length === 0) return []
  const hasType = /\bType\b/.test(lines[0]!)
  const disks: DiskInfo[] = []
  const seen = new Set<string>()
  for (const line of lines.slice(1)) {
    const d = disk(parseDfRow(line, hasType))
    if (!d) continue
    if (d.fsType && PSEUDO_FS.has(d.fsType)) continue
    if (!d.fsType && (d.device === 'tmpfs' || d.device === 'devtmpfs' || d.device === 'overlay' || d.device === 'none')) continue
    if (d.sizeBytes === 0 || seen.has(d.mount)) continue
    seen.add(d.mount)
    disks.push(d)
  }

  return disks
}

const disk = (row: DfRow | null): DiskInfo | null => (row ? {device: row.device, fsType: row.fsType, mount: row.mount, sizeBytes: row.total * 1024, freeBytes: row.free * 1024} : null)

function parseDataDisk(lines: string[], disks: DiskInfo[]): DiskInfo | null {
  const row = lines[0] ? disk(parseDfRow(lines[0])) : null
  if (!row) return null
  return disks.find((d) => d.mount === row.mount) ?? row
}

function parseGpus(nvidia: string[], lspci: string[], sysfs: string[]): GpuInfo[] {
  const gpus: GpuInfo[] = []
  for (const g of parseNvidiaRows(nvidia)) {
    if (g.name) gpus.push({vendor: 'NVIDIA', model: g.name, memoryBytes: g.memoryMiB === null ? null : g.memoryMiB * 1024 * 1024, source: 'nvidia-smi', busId: g.busId})
  }

  if (gpus.length > 0) return gpus

  // lspci -mm -nn: 00:02.0 "VGA compatible controller [0300]" "Intel Corporation [8086]" "UHD Graphics 620 [5917]" ...
  for (const line of lspci) {
    const fields = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!)
    const bus = line.split(/\s+/)[0] ?? null
    if (fields.length < 3) continue
    gpus.push({vendor: stripPciId(fields[1]!), model: stripPciId(fields[2]!), memoryBytes: null, source: 'lspci', busId: bus})
  }

  if (gpus.length > 0) return gpus

  // sysfs: 0000:00:02.0 0x030000 0x8086 0x5917
  for (const line of sysfs) {
    const [bus, , vendor, device] = line.trim().split(/\s+/)
    if (!bus || !vendor) continue
    gpus.push({vendor: PCI_VENDORS[vendor.toLowerCase()] ?? vendor, model: `PCI device ${vendor}:${device ?? '?'}`, memoryBytes: null, source: 'sysfs', busId: bus})
  }

  return gpus
}

const PCI_VENDORS: Record<string, string> = {'0x10de': 'NVIDIA', '0x1002': 'AMD', '0x8086': 'Intel', '0x1af4': 'Red Hat (virtio)', '0x1234': 'QEMU', '0x1013': 'Cirrus Logic', '0x15ad': 'VMware', '0x1a03': 'ASPEED'}

function stripPciId(text: string): string {
  return text.replace(/\s*\[[0-9a-f]{4}\]\s*$/i, '').trim()
}

function parseNetwork(ipAddr: string[], sysfs: string[]): NetworkInterfaceInfo[] {
  const byName = new Map<string, NetworkInterfaceInfo>()
  for (const line of sysfs) {
    const [name, mac, state] = line.trim().split(/\s+/)
    if (!name) continue
    byName.set(name, {name, mac: mac && mac !== '00:00:00:00:00:00' ? mac : null, state: state ?? null, addresses: []})
  }

  // 4: eth0    inet 192.0.2.2/24 brd ... scope global eth0\ ...
  for (const line of ipAddr) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet6?\s+(\S+)/.exec(line)
    if (!m) continue
    const name = m[1]!
    const entry = byName.get(name) ?? {name, mac: null, state: null, addresses: []}
    entry.addresses.push(m[2]!)
    byName.set(name, entry)
  }

  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))
}

function parsePodman(lines: string[]): RuntimeInfo {
  if (lines.length === 0 || lines[0] === 'missing') return {version: null, usable: false, problem: 'podman is not installed (not found on PATH)'}
  const version = /(\d+\.\d+[\w.~+-]*)/.exec(lines[0]!.replace(/^version=/, ''))?.[1] ?? null
  const rc = lines.find((l) => l.startsWith('rc='))
  const output = lines.slice(lines.indexOf(rc ?? '') + 1).join(' ').trim()
  if (rc !== 'rc=0') return {version, usable: false, problem: `podman info failed${output ? `: ${output}` : ''}`}
  // `RUNTIME DRIVER ROOTLESS GRAPHROOT` (older probes printed the first two only).
  const m = /^\S+ \S+ (true|false) (\/.*)$/.exec(output)
  return {version, usable: true, problem: null, ...(m ? {storage: `${m[1] === 'true' ? 'rootless' : 'rootful'} (${m[2]})`} : {})}
}

function parseContainerd(lines: string[]): RuntimeInfo {
  const versionLine = lines.find((l) => l.startsWith('version=')) ?? ''
  const daemonVersion = /containerd\S*\s+(?:\S+\s+)?v?(\d+\.\d+[\w.~+-]*)/.exec(versionLine)?.[1] ?? null
  if (lines.includes('ctr=missing')) {
    return {version: daemonVersion, usable: false, problem: daemonVersion ? 'containerd is installed but its client ctr is not on PATH' : 'containerd is not installed (not found on PATH)'}
  }

  const rc = lines.find((l) => l.startsWith('rc='))
  const output = lines.slice(lines.indexOf(rc ?? '') + 1)
  // ctr version prints "Client:\n  Version: ...\nServer:\n  Version: v1.6.20 ..."
  const serverAt = output.findIndex((l) => l.trim() === 'Server:')
  const serverVersion = serverAt >= 0 ? /Version:\s+v?(\S+)/.exec(output.slice(serverAt).join('\n'))?.[1] ?? null : null
  const clientVersion = /Version:\s+v?(\S+)/.exec(output.join('\n'))?.[1] ?? null
  const version = serverVersion ?? daemonVersion ?? clientVersion
  if (rc === 'rc=0' && serverVersion) return {version, usable: true, problem: null}
  const why = output.filter((l) => !/^\s*(Client:|Server:|Version:|Revision:|Go version:|UUID:)/.test(l)).join(' ').trim()
  return {version, usable: false, problem: `containerd is not answering${why ? `: ${why}` : ' (ctr version could not reach the daemon)'}`}
}

function parseLoad(line: string | null): Inventory['load'] {
  const parts = line?.split(/\s+/).map(Number) ?? []
  if (parts.length < 3 || parts.slice(0, 3).some((n) => !Number.isFinite(n))) return null
  return {one: parts[0]!, five: parts[1]!, fifteen: parts[2]!}
}

/**
 * Offset of the node's clock: its last reading, taken just before it answered, minus
 * when the answer arrived here. The error is the one-way latency (under a millisecond
 * on a LAN), independent of the SSH handshake and of how long the probe ran. Without
 * an end reading, the start reading is compared with the middle of the round trip.
 */
function clockOffset(start: string | null, end: string | null, timing: ProbeTiming): number | null {
  const b = toRemoteMs(end)
  if (b !== null) return Math.round(b - timing.receivedAt)
  const a = toRemoteMs(start)
  if (a === null) return null
  return Math.round(a - (timing.sentAt + timing.receivedAt) / 2)
}

function toRemoteMs(text: string | null): number | null {
  if (!text || !/^\d+$/.test(text)) return null // busybox/BSD date may print a literal %N
  if (text.length > 13) return Number(BigInt(text) / 1_000_000n)
  if (text.length <= 10) return Number(text) * 1000
  return Number(text)
}
