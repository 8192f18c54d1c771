/**
 * One observation of one node, as one remote command: its heartbeat (the first line,
 * printed before anything slow runs), its load and free memory, the due health
 * checks of its tasks (run in parallel, from the node), and the state of every
 * container carrying this cluster's label. Pure: the script builder and the parser.
 *
 * Output, line by line (MARK = `@@clusterctl`):
 *   MARK heartbeat NODE_TIME_NS
 *   MARK usage LOAD1 MEM_AVAILABLE_KB
 *   MARK health INDEX EXIT_CODE             (one per probe, in completion order)
 *   MARK probe-begin / <health probe> / MARK probe-end   (when the node's health probe is due)
 *   MARK networks-begin / <network names> / MARK networks-end EXIT_CODE   (runtimes with networks: podman)
 *   MARK volume INDEX USED_KB                (with the health probe: du of each local volume on the node)
 *   MARK list-begin / <runtime listing> / MARK list-end EXIT_CODE
 * The listing is captured first and printed after every probe finished, so probe
 * lines can never land inside it.
 */
import type {HealthCheckSpec} from '../model/job.js'
import type {ContainerRuntime} from '../../runtime/types.js'
import {toShellCommand} from '../../ssh/quote.js'

export const MARK = '@@clusterctl'

export interface HealthProbe {
  taskId: string
  /** What runs on the node; the script adds the timeout. */
  argv: string[]
  timeoutMs: number
}

/** The node's health probe (core/health/probe.ts), when due: its script and positional arguments, and how long it may take. */
export interface NodeHealthProbe {
  script: string
  args: readonly string[]
  timeoutMs: number
}

/** How long measuring the node's local volumes may take (du, bounded as a whole). */
const VOLUME_DU_SECONDS = 5

export function observeArgv(listArgv: readonly string[], probes: readonly HealthProbe[], healthProbe: NodeHealthProbe | null = null, networksArgv: readonly string[] | null = null, volumePaths: readonly string[] = []): string[] {
  const lines = [
    `echo "${MARK} heartbeat $(date +%s%N 2>/dev/null)"`,
    `echo "${MARK} usage $(cut -d' ' -f1 /proc/loadavg 2>/dev/null) $(awk '/^MemAvailable:/ {print $2; exit}' /proc/meminfo 2>/dev/null)"`,
  ]
  probes.forEach((probe, i) => {
    const seconds = Math.max(1, Math.ceil(probe.timeoutMs / 1000))
    lines.push(`( timeout -s KILL ${seconds} ${toShellCommand(probe.argv)} </dev/null >/dev/null 2>&1; echo "${MARK} health ${i} $?" ) &`)
  })
  // The health probe runs beside the listing, into a file of its own (its output must not land inside
  // the listing), bounded as a whole; whatever it wrote is printed before the listing.
  if (healthProbe) {
    const seconds = Math.max(1, Math.ceil(healthProbe.timeoutMs / 1000))
    lines.push(
      `hp=$(mktemp 2>/dev/null) || hp=/tmp/clusterctl-health.$$`,
      `( if command -v timeout >/dev/null 2>&1; then timeout -s KILL ${seconds} ${toShellCommand(['sh', '-c', healthProbe.script, 'clusterctl-health', ...healthProbe.args])}; else ${toShellCommand(['sh', '-c', healthProbe.script, 'clusterctl-health', ...healthProbe.args])}; fi </dev/null >"$hp" 2>/dev/null ) &`,
    )
  }

  // The cluster's networks are listed beside the containers, into a file of their own, with their exit code.
  if (networksArgv) {
    lines.push(
      `nf=$(mktemp 2>/dev/null) || nf=/tmp/clusterctl-networks.$$`,
      `( nets=$(${toShellCommand(networksArgv)} </dev/null 2>/dev/null); nrc=$?; printf '%s\n' "$nets" "${MARK} networks-end $nrc" ) >"$nf" &`,
    )
  }

  // Disk used by the node's local volumes (volume INDEX KB), beside the listing: a directory not made yet is left out.
  if (volumePaths.length > 0) {
    lines.push(`( for p in ${volumePaths.map((p, i) => toShellCommand([`${i}:${p}`])).join(' ')}; do d=\${p#*:}; [ -d "$d" ] || continue; k=$(timeout -s KILL ${VOLUME_DU_SECONDS} du -sk "$d" 2>/dev/null | cut -f1); [ -n "$k" ] && echo "${MARK} volume \${p%%:*} $k"; done ) &`)
  }

  lines.push(`list=$(${toShellCommand(listArgv)}); rc=$?`, 'wait')
  if (healthProbe) lines.push(`echo "${MARK} probe-begin"; cat "$hp" 2>/dev/null; rm -f "$hp"; echo; echo "${MARK} probe-end"`)
  if (networksArgv) lines.push(`echo "${MARK} networks-begin"; cat "$nf" 2>/dev/null; rm -f "$nf"`)
  lines.push(`printf '%s\\n' "${MARK} list-begin" "$list" "${MARK} list-end $rc"`)
  return ['sh', '-c', lines.join('\n')]
}

export interface ParsedObservation {
  heartbeat: boolean
  usage: {load1: number | null; memAvailableBytes: number | null} | null
  /** Exit code per probe index. */
  health: Map<number, number>
  /** The runtime listing and its exit code; null when the output stopped before it. */
  listing: {stdout: string; code: number} | null
  /** The health probe's output, when it was sent and its output arrived whole. */
  healthProbe: string | null
  /** The networks listed (names), when they were asked for and the listing succeeded. */
  networks: string[] | null
  /** Bytes used per volume path index (observeArgv's volumePaths). */
  volumes: Map<number, number>
}

export function hasHeartbeat(stdout: string): boolean {
  return stdout.includes(`${MARK} heartbeat`)
}

export function parseObservation(stdout: string): ParsedObservation {
  const out: ParsedObservation = {heartbeat: false, usage: null, health: new Map(), listing: null, healthProbe: null, networks: null, volumes: new Map()}
  const lines = stdout.split('\n')
  let listStart = -1
  let probeStart = -1
  let networksStart = -1
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (!line.startsWith(MARK)) continue
    const [, kind, a, b] = line.split(' ')
    if (kind === 'heartbeat') out.heartbeat = true
    else if (kind === 'probe-begin') probeStart = i
    else if (kind === 'probe-end' && probeStart >= 0) out.healthProbe = lines.slice(probeStart + 1, i).join('\n')
    else if (kind === 'networks-begin') networksStart = i
    else if (kind === 'networks-end' && networksStart >= 0) {
      if (a === '0') out.networks = lines.slice(networksStart + 1, i).map((l) => l.trim()).filter((l) => l !== '')
      networksStart = -1
    } else if (kind === 'usage') out.usage = {load1: numberOrNull(a), memAvailableBytes: kb(b)}
    else if (kind === 'health' && a !== undefined && b !== undefined) out.health.set(Number(a), Number(b))
    else if (kind === 'volume' && kb(b) !== null) out.volumes.set(Number(a), kb(b)!)
    else if (kind === 'list-begin') listStart = i
    else if (kind === 'list-end' && listStart >= 0) {
      out.listing = {stdout: lines.slice(listStart + 1, i).join('\n'), code: Number(a)}
      break
    }
  }

  return out
}

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text === '') return null
  const n = Number(text)
  return Number.isFinite(n) ? n : null
}

function kb(text: string | undefined): number | null {
  const n = numberOrNull(text)
  return n === null ? null : n * 1024
}

/** What a failed probe's exit code means, for the task's health message. */
export function describeProbeExit(code: number, timeoutMs: number): string {
  if (code === 0) return 'passed'
  if (code === 124 || code === 137) return `no answer within ${timeoutMs / 1000}s`
  if (code === 127) return 'the check command was not found on the node'
  return `failed (exit ${code})`
}

/**
 * The command a health check runs on the node: http and tcp reach the task's published
 * port at the node's own address; cmd runs inside the container.
 */
export function probeArgv(check: HealthCheckSpec, target: {host: string; hostPort: number | null; containerName: string; runtime: ContainerRuntime; execId: string}): string[] | null {
  if (check.type === 'cmd') return check.command ? target.runtime.execArgv(target.containerName, ['sh', '-c', check.command], target.execId) : null
  if (target.hostPort === null) return null
  const host = target.host.includes(':') ? `[${target.host}]` : target.host
  const seconds = String(Math.max(1, Math.ceil(check.timeoutMs / 1000)))
  if (check.type === 'http') {
    const path = check.path ?? '/'
    const url = `http://${host}:${target.hostPort}${path.startsWith('/') ? path : `/${path}`}`
    return ['sh', '-c', HTTP_PROBE, 'clusterctl-http-check', url, seconds]
  }

  return ['sh', '-c', TCP_PROBE, 'clusterctl-tcp-check', target.host, String(target.hostPort), seconds]
}

/** $1 URL, $2 seconds. A 2xx or 3xx status passes (curl -f / wget fail on 4xx and 5xx). */
const HTTP_PROBE = `if command -v curl >/dev/null 2>&1; then exec curl -fsS -o /dev/null --max-time "$2" "$1"
elif command -v wget >/dev/null 2>&1; then exec wget -q -O /dev/null -T "$2" "$1"
else echo "neither curl nor wget on the node" >&2; exit 127; fi`

/** $1 host, $2 port, $3 seconds. */
const TCP_PROBE = `if command -v nc >/dev/null 2>&1; then exec nc -z -w "$3" "$1" "$2"
elif command -v bash >/dev/null 2>&1; then exec bash -c ': <"/dev/tcp/$0/$1"' "$1" "$2"
else echo "neither nc nor bash on the node" >&2; exit 127; fi`
