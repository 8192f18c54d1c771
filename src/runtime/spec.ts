/**
 * What both drivers share: validating a ContainerSpec before any argv is built, the
 * Marathon-style port variables, and small helpers for the parsers.
 */
import {UserError} from '../core/errors.js'
import {imageReferenceProblem} from '../core/model/image.js'
import {NETWORK_NAME} from '../core/model/network.js'
import {effectiveSpecHash, isValidContainerName, LABELS} from './naming.js'
import type {ContainerSpec, PortMapping} from './types.js'

/** NUL ends a C string: no argv element may carry one. */
function checkNoNul(value: string, what: string): void {
  if (value.includes('\0')) throw new UserError(`${what} contains a NUL byte, which no command line can carry.`, {code: 'invalid-spec'})
}

export function assertContainerName(name: string): void {
  if (!isValidContainerName(name)) {
    throw new UserError(`Invalid container name ${JSON.stringify(name)}: use letters, digits and single . _ - between them, at most 76 characters.`, {code: 'invalid-spec'})
  }
}

/** An image reference (the grammar specs are checked against at submit): never an option, never empty. */
export function assertImage(image: string): void {
  const problem = imageReferenceProblem(image)
  if (problem) throw new UserError(`Invalid image reference: ${problem}.`, {code: 'invalid-spec'})
}

/** A network name (model/network.ts). */
export function assertNetworkName(name: string): void {
  if (!NETWORK_NAME.test(name)) throw new UserError(`Invalid network name ${JSON.stringify(name)}: use lower-case letters, digits and '-', at most 63.`, {code: 'invalid-spec'})
}

/** A DNS name a container answers to on its network. */
const NETWORK_ALIAS = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/

export function assertGraceSeconds(graceSeconds: number): void {
  if (!Number.isSafeInteger(graceSeconds) || graceSeconds < 0) throw new UserError(`The stop grace period must be a whole number of seconds >= 0, got ${graceSeconds}.`, {code: 'invalid-spec'})
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/

function assertPath(path: string, what: string): void {
  checkNoNul(path, what)
  if (!path.startsWith('/')) throw new UserError(`${what} ${JSON.stringify(path)} must be an absolute path.`, {code: 'invalid-spec'})
  // podman's -v splits at ':' and ctr's --mount at ','; newlines have no place in a mount table.
  if (/[,:\n]/.test(path)) throw new UserError(`${what} ${JSON.stringify(path)} contains a comma, a colon or a newline, which container runtimes cannot mount.`, {code: 'invalid-spec'})
}

function assertPort(port: number, what: string, allowZero: boolean): void {
  if (!Number.isSafeInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) throw new UserError(`${what} must be a port number 1-65535, got ${port}.`, {code: 'invalid-spec'})
}

/** Throws UserError naming the first thing in the spec no runtime could run faithfully. */
export function validateSpec(spec: ContainerSpec): void {
  assertContainerName(spec.name)
  assertImage(spec.image)
  for (const arg of spec.command ?? []) checkNoNul(arg, 'A command argument')
  for (const [key, value] of Object.entries(spec.env)) {
    if (!ENV_KEY.test(key)) throw new UserError(`Invalid environment variable name ${JSON.stringify(key)}: use letters, digits and _ (not starting with a digit).`, {code: 'invalid-spec'})
    checkNoNul(value, `The value of ${key}`)
  }
  for (const [key, value] of Object.entries(spec.labels)) {
    if (!LABEL_KEY.test(key)) throw new UserError(`Invalid label key ${JSON.stringify(key)}.`, {code: 'invalid-spec'})
    checkNoNul(value, `The label ${key}`)
  }
  if (!Number.isSafeInteger(spec.cpuMilli) || spec.cpuMilli < 0) throw new UserError(`cpuMilli must be a whole number >= 0, got ${spec.cpuMilli}.`, {code: 'invalid-spec'})
  if (!Number.isSafeInteger(spec.memBytes) || spec.memBytes < 0) throw new UserError(`memBytes must be a whole number >= 0, got ${spec.memBytes}.`, {code: 'invalid-spec'})
  if (spec.memBytes > 0 && spec.memBytes < 6 * 1024 * 1024) throw new UserError(`A memory limit below 6Mi cannot start a container (got ${spec.memBytes} bytes).`, {code: 'invalid-spec'})
  const hostPorts = new Set<string>()
  for (const p of spec.ports) {
    assertPort(p.hostPort, 'hostPort', false)
    assertPort(p.containerPort, 'containerPort', true)
    if (p.protocol !== 'tcp' && p.protocol !== 'udp') throw new UserError(`Port protocol must be tcp or udp, got ${JSON.stringify(p.protocol)}.`, {code: 'invalid-spec'})
    const key = `${p.hostPort}/${p.protocol}`
    if (hostPorts.has(key)) throw new UserError(`Host port ${key} is mapped twice.`, {code: 'invalid-spec'})
    hostPorts.add(key)
  }
  for (const v of spec.volumes) {
    assertPath(v.source, 'The volume source')
    assertPath(v.target, 'The volume target')
    if (v.nfs) {
      if (!/^[a-z0-9][a-z0-9-]*$/.test(v.nfs.name)) throw new UserError(`Invalid NFS volume name ${JSON.stringify(v.nfs.name)}.`, {code: 'invalid-spec'})
      if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(v.nfs.server)) throw new UserError(`Invalid NFS server ${JSON.stringify(v.nfs.server)}.`, {code: 'invalid-spec'})
      assertPath(v.nfs.export, 'The NFS export')
      if (!/^[A-Za-z0-9_.=-]+(,[A-Za-z0-9_.=-]+)*$/.test(v.nfs.options)) throw new UserError(`Invalid NFS mount options ${JSON.stringify(v.nfs.options)}.`, {code: 'invalid-spec'})
    }
  }
  if (spec.network) {
    assertNetworkName(spec.network.name)
    for (const alias of spec.network.aliases) {
      if (!NETWORK_ALIAS.test(alias)) throw new UserError(`Invalid network alias ${JSON.stringify(alias)}: use lower-case letters, digits, '.' and '-'.`, {code: 'invalid-spec'})
    }
  }
  if (spec.stopGraceSeconds !== undefined) assertGraceSeconds(spec.stopGraceSeconds)
}

/** The podman volume an NFS mount goes through. */
export function podmanNfsVolume(name: string): string {
  return `clusterctl-nfs-${name}`
}

/**
 * $1 how many preparations follow, each `dir PATH`, `nfs-mount DIR DEVICE OPTIONS` or
 * `podman-nfs NAME SERVER EXPORT OPTIONS`, then the start's own argv, run once they all
 * succeeded (one round trip). An NFS export that cannot be mounted fails the start with
 * mount's own words.
 */
export const VOLUME_PREP_SCRIPT = `n=$1
shift
while [ "$n" -gt 0 ]; do
  case $1 in
    dir) mkdir -p "$2" || { echo "cannot create the volume directory $2" >&2; exit 1; }; shift 2 ;;
    nfs-mount)
      mkdir -p "$2" || exit 1
      if ! grep -qs " $2 nfs" /proc/mounts; then
        mount -t nfs -o "$4" "$3" "$2" || { echo "cannot mount the NFS export $3 on $2" >&2; exit 1; }
      fi
      shift 4 ;;
    podman-nfs)
      if ! podman volume exists "$2"; then
        podman volume create --driver local --opt type=nfs --opt "o=addr=$3,$5" --opt "device=:$4" "$2" >/dev/null || exit 1
      fi
      shift 5 ;;
    *) echo "unknown volume preparation $1" >&2; exit 1 ;;
  esac
  n=$((n - 1))
done
exec "$@"
`

/** The start's argv, after what its volumes need on the node (directories, NFS mounts); unchanged when they need nothing. */
export function withVolumePrep(spec: ContainerSpec, runtime: 'podman' | 'containerd', argv: string[]): string[] {
  const ops: string[][] = []
  for (const v of spec.volumes) {
    if (v.create) ops.push(['dir', v.source])
    if (v.nfs && runtime === 'podman') ops.push(['podman-nfs', podmanNfsVolume(v.nfs.name), v.nfs.server, v.nfs.export, v.nfs.options])
    else if (v.nfs) ops.push(['nfs-mount', v.source, `${v.nfs.server}:${v.nfs.export}`, v.nfs.options])
  }

  if (ops.length === 0) return argv
  return ['sh', '-c', VOLUME_PREP_SCRIPT, 'clusterctl-volumes', String(ops.length), ...ops.flat(), ...argv]
}

/**
 * Marathon's port variables, set under both runtimes: PORT0..PORTn = the host ports in
 * order, PORT = PORT0, PORTS = all of them comma-separated, and PORT_<containerPort> =
 * its host port. An app that binds $PORT0 works on podman (containerPort 0: mapped to the
 * same port) and on containerd (host networking). They override user env of the same name.
 */
export function portEnv(ports: readonly PortMapping[]): Record<string, string> {
  const env: Record<string, string> = {}
  if (ports.length === 0) return env
  ports.forEach((p, i) => {
    env[`PORT${i}`] = String(p.hostPort)
    if (p.containerPort !== 0) env[`PORT_${p.containerPort}`] ??= String(p.hostPort)
  })
  env.PORT = String(ports[0]!.hostPort)
  env.PORTS = ports.map((p) => p.hostPort).join(',')
  return env
}

/** User env then port env, in a stable order (user keys as given, then ports). */
export function containerEnv(spec: ContainerSpec): Array<[string, string]> {
  const ports = portEnv(spec.ports)
  const merged = new Map<string, string>()
  for (const [k, v] of Object.entries(spec.env)) if (!(k in ports)) merged.set(k, v)
  for (const [k, v] of Object.entries(ports)) merged.set(k, v)
  return [...merged]
}

/** The spec's labels with the spec hash filled in. */
export function containerLabels(spec: ContainerSpec): Array<[string, string]> {
  const labels = new Map(Object.entries(spec.labels))
  labels.set(LABELS.specHash, effectiveSpecHash(spec))
  return [...labels]
}

/**
 * Static inits a node may have, in order of preference (Debian: catatonit, which podman
 * itself uses; tini-static; docker-init is a static tini). A dynamically linked tini is
 * no use inside an image without a libc.
 */
export const INIT_PATHS = ['/usr/libexec/podman/catatonit', '/usr/bin/catatonit', '/usr/bin/tini-static', '/usr/bin/docker-init', '/usr/libexec/docker/docker-init'] as const

/**
 * A shell function for the start scripts: `find_init` prints the first init on the node,
 * or fails: `$CLUSTERCTL_INIT` when the node's environment names one, else INIT_PATHS.
 */
export const FIND_INIT = `find_init() {
  if [ -n "\${CLUSTERCTL_INIT:-}" ] && [ -x "$CLUSTERCTL_INIT" ]; then printf '%s\\n' "$CLUSTERCTL_INIT"; return 0; fi
  for _p in ${INIT_PATHS.join(' ')}; do
    if [ -x "$_p" ]; then printf '%s\\n' "$_p"; return 0; fi
  done
  return 1
}
`

/** `31000,31001` -> [31000, 31001]; anything that is not a port is left out. */
export function parseHostPorts(text: string | undefined): number[] {
  if (text === undefined) return []
  return text
    .split(',')
    .filter((p) => /^\d{1,5}$/.test(p))
    .map(Number)
    .filter((p) => p >= 1 && p <= 65535)
}

/** cpuMilli as a decimal CPU count for --cpus: 1500 -> "1.5", 250 -> "0.25". */
export function cpusOf(cpuMilli: number): string {
  return (cpuMilli / 1000).toString()
}

// ---------------------------------------------------------------------------
// Parser helpers: never throw on odd input.

export function asRecordOfStrings(value: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return out
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (typeof v === 'string') out[k] = v
  return out
}

export function asString(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback
}

/** Epoch seconds (podman's zero time is year 1: negative) -> ms, or null. */
export function secondsToMs(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value * 1000) : null
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

const START_LINE = /^clusterctl-start (started|adopted|restarted|recreated) (\S+)\s*$/

/** The last `clusterctl-start OUTCOME ID` line, or null (the start did not finish). */
export function parseStartLine(stdout: string): {outcome: 'started' | 'adopted' | 'restarted' | 'recreated'; id: string} | null {
  let found: {outcome: 'started' | 'adopted' | 'restarted' | 'recreated'; id: string} | null = null
  for (const line of stdout.split('\n')) {
    const m = START_LINE.exec(line)
    if (m) found = {outcome: m[1] as 'started', id: m[2]!}
  }
  return found
}

export function uniqueSorted(items: Iterable<string>): string[] {
  return [...new Set(items)].sort()
}
