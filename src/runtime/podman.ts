/**
 * podman (4.x) driver: argv builders and parsers, no I/O.
 *
 * Containers run with bridge networking and published ports (`-p HOST:CONTAINER/proto`),
 * the k8s-file log driver (so `podman logs` works on every node whatever its
 * containers.conf says), and a hard memory limit (swap limited to the same amount).
 */
import {UserError} from '../core/errors.js'
import {INTERNAL_LABELS, LABELS, effectiveSpecHash} from './naming.js'
import {
  asRecordOfStrings,
  asString,
  assertContainerName,
  assertGraceSeconds,
  assertImage,
  assertNetworkName,
  containerEnv,
  containerLabels,
  cpusOf,
  FIND_INIT,
  parseJson,
  parseStartLine,
  secondsToMs,
  uniqueSorted,
  validateSpec,
  podmanNfsVolume,
  withVolumePrep,
} from './spec.js'
import type {ContainerList, ContainerRuntime, ContainerSpec, ContainerState, LogsOptions, ObservedContainer, StartResult} from './types.js'

/**
 * $1 name, $2 spec hash, $3 grace seconds, $4 image, $5 init (1: run under the node's
 * init, when it has one), $6 network ('' for none), $7 the cluster (the network's label),
 * then `podman run` arguments. Prints `clusterctl-start OUTCOME ID`.
 * A run that failed with the image absent adds one sentence saying whose storage podman
 * searched (rootful or rootless, and where). A missing network is created first (two
 * starts racing to create it both succeed); one podman made without DNS (no DNS plugin
 * on the node) is removed again and the start fails saying what to install.
 */
export const PODMAN_START_SCRIPT = `set -u
${FIND_INIT}n=$1 h=$2 g=$3 img=$4 i=$5 net=$6 cl=$7
shift 7
if [ -n "$net" ] && ! podman network exists "$net" >/dev/null 2>&1; then
  if ! err=$(podman network create --label "${LABELS.cluster}=$cl" "$net" 2>&1 >/dev/null) && ! podman network exists "$net" >/dev/null 2>&1; then
    printf 'creating network %s failed: %s\n' "$net" "$err" >&2
    exit 1
  fi
  if [ "$(podman network inspect --format '{{.DNSEnabled}}' "$net" 2>/dev/null)" != true ]; then
    podman network rm "$net" >/dev/null 2>&1
    printf '%s\n' "podman made network $net without DNS, so its containers could not find one another by name: install podman's DNS plugin on this node (aardvark-dns with netavark; golang-github-containernetworking-plugin-dnsname with CNI, podman 4 on Debian 12), and the next start creates it again." >&2
    exit 1
  fi
fi
outcome=started
if cur=$(podman container inspect --format '{{.State.Status}} {{.Id}} {{index .Config.Labels "${LABELS.specHash}"}}' "$n" 2>/dev/null); then
  st=\${cur%% *}
  rest=\${cur#* }
  id=\${rest%% *}
  oh=\${rest#* }
  if [ "$oh" = "$h" ]; then
    case $st in
      running|paused|stopping) printf 'clusterctl-start adopted %s\\n' "$id"; exit 0 ;;
    esac
    podman start "$n" >/dev/null || exit $?
    printf 'clusterctl-start restarted %s\\n' "$id"
    exit 0
  fi
  podman rm --force --time "$g" "$n" >/dev/null || exit $?
  outcome=recreated
fi
if [ "$i" = 1 ] && ip=$(find_init); then set -- --init --init-path "$ip" "$@"; fi
out=$(podman run "$@") || {
  rc=$?
  if ! podman image exists "$img" >/dev/null 2>&1; then
    where=$(podman info --format '{{if .Host.Security.Rootless}}rootless{{else}}rootful{{end}} storage at {{.Store.GraphRoot}}' 2>/dev/null)
    printf '%s\\n' "image $img is not in podman's \${where:-storage} as user $(id -un 2>/dev/null): load it as that user (\\\`clusterctl image push ARCHIVE\\\` does), or add the node with the user (or --sudo) whose storage holds it." >&2
  fi
  exit "$rc"
}
id=$(printf '%s\\n' "$out" | tail -n 1)
printf 'clusterctl-start %s %s\\n' "$outcome" "$id"
`

/** podman's own states -> ours. `stopped` is podman's "exited, not yet cleaned up". */
function stateOf(podmanState: string): ContainerState {
  switch (podmanState.toLowerCase()) {
    case 'created':
    case 'configured':
    case 'initialized':
      return 'created'
    case 'running':
    case 'stopping':
      return 'running'
    case 'paused':
      return 'paused'
    case 'exited':
    case 'stopped':
      return 'exited'
    default:
      return 'unknown'
  }
}

function withoutInternal(labels: Record<string, string>): Record<string, string> {
  const internal = new Set<string>(Object.values(INTERNAL_LABELS))
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !internal.has(k)))
}

function observed(entry: unknown): ObservedContainer | null {
  if (entry === null || typeof entry !== 'object') return null
  const e = entry as Record<string, unknown>
  const names = Array.isArray(e.Names) ? e.Names.filter((n): n is string => typeof n === 'string') : typeof e.Names === 'string' ? [e.Names] : []
  const id = asString(e.Id ?? e.ID)
  const name = names[0] ?? id
  if (name === '') return null
  const state = stateOf(asString(e.State))
  const exitCode = typeof e.ExitCode === 'number' && Number.isInteger(e.ExitCode) ? e.ExitCode : null
  return {
    name,
    id,
    state,
    exitCode: state === 'exited' ? exitCode : null,
    startedAt: secondsToMs(e.StartedAt),
    finishedAt: state === 'exited' ? secondsToMs(e.ExitedAt) : null,
    labels: withoutInternal(asRecordOfStrings(e.Labels)),
    image: asString(e.Image),
    ...hostPortsOf(e.Ports),
    ...networksOf(e.Networks),
  }
}

/** `podman ps --format json`'s Networks: the names of the networks a container is attached to. */
function networksOf(networks: unknown): {networks?: string[]} {
  if (!Array.isArray(networks)) return {}
  const names = networks.filter((n): n is string => typeof n === 'string' && n !== '')
  return names.length > 0 ? {networks: uniqueSorted(names)} : {}
}

/** Published ports from `podman ps --format json` (`[{host_port, range, protocol}]`). */
function hostPortsOf(ports: unknown): {hostPorts?: number[]} {
  if (!Array.isArray(ports)) return {}
  const out: number[] = []
  for (const p of ports) {
    if (p === null || typeof p !== 'object') continue
    const {host_port: hostPort, range} = p as Record<string, unknown>
    if (typeof hostPort !== 'number' || !Number.isInteger(hostPort) || hostPort < 1 || hostPort > 65535) continue
    const count = typeof range === 'number' && Number.isInteger(range) && range > 1 ? Math.min(range, 65536 - hostPort) : 1
    for (let i = 0; i < count; i++) out.push(hostPort + i)
  }
  return out.length > 0 ? {hostPorts: out} : {}
}

/** podman's --filter is a comma-separated list: a value with a comma cannot be selected on. */
function assertSelector(selector: Record<string, string>): void {
  for (const [k, v] of Object.entries(selector)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(k)) throw new UserError(`Invalid label key in a selector: ${JSON.stringify(k)}.`, {code: 'invalid-selector'})
    if (/[,\n\0]/.test(v)) throw new UserError(`Label selector values cannot contain commas or newlines: ${k}=${JSON.stringify(v)}.`, {code: 'invalid-selector'})
  }
}

/** Arguments of `podman run` (the start script adds `run`). */
export function podmanRunArgs(spec: ContainerSpec): string[] {
  const args = ['--detach', '--name', spec.name, '--log-driver', 'k8s-file']
  for (const [k, v] of containerLabels(spec)) args.push('--label', `${k}=${v}`)
  for (const [k, v] of containerEnv(spec)) args.push('--env', `${k}=${v}`)
  if (spec.cpuMilli > 0) args.push('--cpus', cpusOf(spec.cpuMilli))
  if (spec.memBytes > 0) args.push('--memory', String(spec.memBytes), '--memory-swap', String(spec.memBytes))
  for (const p of spec.ports) args.push('--publish', `${p.hostPort}:${p.containerPort === 0 ? p.hostPort : p.containerPort}/${p.protocol}`)
  for (const v of spec.volumes) args.push('--volume', `${v.nfs ? podmanNfsVolume(v.nfs.name) : v.source}:${v.target}${v.readOnly ? ':ro' : ''}`)
  if (spec.network) {
    args.push('--network', spec.network.name)
    for (const alias of spec.network.aliases) args.push('--network-alias', alias)
  }
  const command = spec.command ?? []
  // --entrypoint as a JSON array is taken literally; the image's CMD is then dropped too.
  if (command.length > 0) args.push('--entrypoint', JSON.stringify([command[0]]))
  args.push(spec.image, ...command.slice(1))
  return args
}

export function createPodmanRuntime(): ContainerRuntime {
  return {
    name: 'podman',

    startArgv(spec: ContainerSpec): string[] {
      validateSpec(spec)
      const network = spec.network?.name ?? ''
      return withVolumePrep(spec, 'podman', ['sh', '-c', PODMAN_START_SCRIPT, 'clusterctl-start', spec.name, effectiveSpecHash(spec), String(spec.stopGraceSeconds ?? 10), spec.image, spec.init === false ? '0' : '1', network, spec.labels[LABELS.cluster] ?? '', ...podmanRunArgs(spec)])
    },

    parseStart(stdout: string): StartResult | null {
      return parseStartLine(stdout)
    },

    listArgv(labelSelector: Record<string, string>): string[] {
      assertSelector(labelSelector)
      const argv = ['podman', 'ps', '--all', '--no-trunc', '--format', 'json']
      for (const [k, v] of Object.entries(labelSelector)) argv.push('--filter', `label=${k}=${v}`)
      return argv
    },

    parseList(stdout: string): ContainerList {
      const parsed = parseJson(stdout.trim() === '' ? '[]' : stdout)
      if (!Array.isArray(parsed)) return {containers: [], complete: false}
      const containers: ObservedContainer[] = []
      let complete = true
      for (const entry of parsed) {
        const c = observed(entry)
        if (c) containers.push(c)
        else complete = false
      }
      return {containers, complete}
    },

    stopArgv(name: string, graceSeconds: number): string[] {
      assertContainerName(name)
      assertGraceSeconds(graceSeconds)
      // rm --force stops first: the stop signal, --time seconds, then SIGKILL.
      return ['podman', 'rm', '--force', '--ignore', '--time', String(graceSeconds), name]
    },

    removeArgv(name: string): string[] {
      assertContainerName(name)
      return ['podman', 'rm', '--force', '--ignore', '--time', '0', name]
    },

    execArgv(name: string, argv: readonly string[]): string[] {
      assertContainerName(name)
      if (argv.length === 0) throw new UserError('An exec needs a command.', {code: 'empty-command'})
      return ['podman', 'exec', name, ...argv]
    },

    logsArgv(name: string, options: LogsOptions): string[] {
      assertContainerName(name)
      const argv = ['podman', 'logs']
      if (options.follow) argv.push('--follow')
      if (options.tail !== undefined) argv.push('--tail', String(checkTail(options.tail)))
      argv.push(name)
      return argv
    },

    loadImageArgv(): string[] {
      return ['podman', 'load']
    },

    parseLoad(stdout: string): string[] {
      const names: string[] = []
      for (const line of stdout.split('\n')) {
        const m = /^Loaded image(?:\(s\))?:\s*(.+?)\s*$/.exec(line)
        if (m) names.push(...m[1]!.split(',').map((s) => s.trim()).filter(Boolean))
      }
      return uniqueSorted(names)
    },

    imageExistsArgv(image: string): string[] {
      assertImage(image)
      return ['podman', 'image', 'exists', image]
    },

    listImagesArgv(): string[] {
      return ['podman', 'images', '--format', 'json']
    },

    listNetworksArgv(labelSelector: Record<string, string>): string[] {
      assertSelector(labelSelector)
      const argv = ['podman', 'network', 'ls', '--format', '{{.Name}}']
      for (const [k, v] of Object.entries(labelSelector)) argv.push('--filter', `label=${k}=${v}`)
      return argv
    },

    removeNetworkArgv(name: string): string[] {
      assertNetworkName(name)
      return ['podman', 'network', 'rm', name]
    },

    parseImages(stdout: string): string[] {
      const parsed = parseJson(stdout)
      if (!Array.isArray(parsed)) return []
      const names: string[] = []
      for (const entry of parsed) {
        if (entry === null || typeof entry !== 'object') continue
        const e = entry as Record<string, unknown>
        for (const key of ['Names', 'RepoTags']) {
          const list = e[key]
          if (Array.isArray(list)) for (const n of list) if (typeof n === 'string' && n !== '' && !n.includes('<none>')) names.push(n)
        }
      }
      return uniqueSorted(names)
    },
  }
}

export function checkTail(tail: number): number {
  if (!Number.isSafeInteger(tail) || tail < 0) throw new UserError(`--tail must be a whole number >= 0, got ${tail}.`, {code: 'invalid'})
  return tail
}
