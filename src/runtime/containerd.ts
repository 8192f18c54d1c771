/**
 * containerd driver, through `ctr` (1.6+): argv builders and parsers, no I/O.
 *
 * ctr is a debugging client, so a few things podman does are done here with small POSIX
 * scripts (every user value a positional argument, never script text):
 * - Always `-n <namespace>` (default `clusterctl`); the socket comes from the node's
 *   CONTAINERD_ADDRESS (ctr reads it), never from us.
 * - No port publishing: tasks run with host networking (`--net-host`) and learn their
 *   host ports from PORT0..n (see spec.ts portEnv and docs/decisions/0003).
 * - No logs: tasks write to `file://<logDir>/<name>.log` (`--log-uri`), read with `tail`.
 * - No start time and no exit status after `ctr task rm`: the start script labels the
 *   container `io.clusterctl.started-at`; the list script reaps stopped tasks itself and
 *   keeps their status in `io.clusterctl.exit-code` / `io.clusterctl.finished-at`.
 */
import {UserError} from '../core/errors.js'
import {CONTAINERD_NETWORK_REASON} from '../core/model/network.js'
import {INTERNAL_LABELS, effectiveSpecHash, LABELS} from './naming.js'
import {checkTail} from './podman.js'
import {
  asRecordOfStrings,
  asString,
  assertContainerName,
  assertGraceSeconds,
  assertImage,
  containerEnv,
  containerLabels,
  cpusOf,
  FIND_INIT,
  parseHostPorts,
  parseJson,
  parseStartLine,
  uniqueSorted,
  validateSpec,
  withVolumePrep,
} from './spec.js'
import type {ContainerList, ContainerRuntime, ContainerSpec, ContainerState, LogsOptions, ObservedContainer, RuntimeOptions, StartResult} from './types.js'

export const DEFAULT_NAMESPACE = 'clusterctl'
export const DEFAULT_LOG_DIR = '/var/log/clusterctl'
/** Where the node's init is bind-mounted in a container (ctr has no --init). */
export const CTR_INIT_TARGET = '/.clusterctl-init'

/**
 * Shared shell functions; $1 of every script is the namespace.
 * task_info NAME prints "STATUS PID" of the container's task, or "none -".
 */
const COMMON = `set -u
set -f
ns=$1
c() { ctr -n "$ns" "$@"; }
task_info() {
  _ts=$(c tasks ls) || return 1
  _out='none -'
  _first=1
  while read -r _id _pid _s _rest; do
    if [ "$_first" = 1 ]; then _first=0; continue; fi
    if [ "$_id" = "$1" ]; then _out="$_s $_pid"; fi
  done <<EOF
$_ts
EOF
  printf '%s\\n' "$_out"
}
has_container() {
  _ids=$(c containers ls -q) || return 2
  printf '%s\\n' "$_ids" | grep -qxF -e "$1"
}
stop_task() {
  _st=$(task_info "$1") || return 1
  _st=\${_st%% *}
  case $_st in
    none) return 0 ;;
    PAUSED|PAUSING) c tasks resume "$1" >/dev/null 2>&1 ;;
  esac
  case $_st in
    RUNNING|PAUSED|PAUSING)
      c tasks kill "$1" >/dev/null 2>&1
      _i=0
      while [ "$_i" -lt $(($2 * 5)) ]; do
        _st=$(task_info "$1") || return 1
        [ "\${_st%% *}" = RUNNING ] || break
        sleep 0.2
        _i=$((_i + 1))
      done ;;
  esac
  if ! _err=$(c tasks rm -f "$1" 2>&1 >/dev/null); then
    _st=$(task_info "$1") || return 1
    if [ "\${_st%% *}" != none ]; then printf '%s\\n' "$_err" >&2; return 1; fi
  fi
  return 0
}
`

/**
 * Images where admins put them: clusterctl's own namespace first, then `default` (plain
 * `ctr image import`, nerdctl) and `k8s.io` (kubelet, `ctr -n k8s.io`) where they exist.
 * One found elsewhere is copied into ours (export | import, streamed). Otherwise one
 * sentence names the namespaces searched and the command that fixes it.
 */
const FIND_IMAGE = `has_image() {
  _out=$(ctr -n "$1" images ls -q 2>/dev/null) || return 2
  printf '%s\\n' "$_out" | grep -qxF -e "$2"
}
find_image() {
  has_image "$ns" "$1"
  case $? in 0|2) return 0 ;; esac
  _searched=$ns
  _nss=$(c namespaces ls -q 2>/dev/null)
  for _o in default k8s.io; do
    [ "$_o" != "$ns" ] || continue
    printf '%s\\n' "$_nss" | grep -qxF -e "$_o" || continue
    _searched="$_searched, $_o"
    if has_image "$_o" "$1"; then
      if ctr -n "$_o" images export - "$1" | c images import - >/dev/null; then
        printf 'clusterctl-image copied %s from %s\\n' "$1" "$_o"
        return 0
      fi
      printf '%s\\n' "image $1 is in containerd namespace $_o but copying it into $ns failed: run \\\`ctr -n $_o images export - $1 | ctr -n $ns images import -\\\` on the node to see why." >&2
      return 1
    fi
  done
  printf '%s\\n' "image $1 is in none of the containerd namespaces searched ($_searched): load it with \\\`clusterctl image push ARCHIVE\\\`, or on the node \\\`ctr -n $ns images import ARCHIVE\\\`." >&2
  return 1
}
`

/**
 * $1 namespace, $2 name, $3 spec hash, $4 grace seconds, $5 log file, $6 a filter that
 * matches the container only when its spec hash is $3, $7 the image reference, $8 the
 * position of the container id among the `ctr run` arguments when the command is to run
 * under the node's init (0: no init), then `ctr run` arguments. ctr has no --init: the
 * init found on the node is bind-mounted read-only at ${CTR_INIT_TARGET} and put before
 * the command (\`init -- cmd\`).
 */
export const CTR_START_SCRIPT = `${COMMON}${FIND_IMAGE}${FIND_INIT}n=$2 h=$3 g=$4 log=$5 same=$6 img=$7 k=$8
shift 8
outcome=started
has_container "$n"
found=$?
if [ "$found" -gt 1 ]; then exit 1; fi
if [ "$found" = 0 ]; then
  match=$(c containers ls -q "$same") || exit 1
  if [ -n "$match" ]; then
    st=$(task_info "$n") || exit 1
    case \${st%% *} in
      RUNNING|PAUSED|PAUSING) printf 'clusterctl-start adopted %s\\n' "$n"; exit 0 ;;
      none) ;;
      *) c tasks rm -f "$n" >/dev/null 2>&1 || { echo "cannot delete the old task of $n" >&2; exit 1; } ;;
    esac
    mkdir -p "\${log%/*}" || exit 1
    c tasks start -d --log-uri "file://$log" "$n" >/dev/null || exit 1
    outcome=restarted
  else
    stop_task "$n" "$g" || exit 1
    c containers rm "$n" >/dev/null || exit 1
    rm -f "$log"
    outcome=recreated
  fi
fi
if [ "$outcome" != restarted ]; then
  find_image "$img" || exit 1
  mkdir -p "\${log%/*}" || exit 1
  if [ "$k" -gt 0 ] && ip=$(find_init); then
    m=$# j=0
    for a do
      j=$((j + 1))
      set -- "$@" "$a"
      if [ "$j" = "$k" ]; then set -- "$@" ${CTR_INIT_TARGET} --; fi
    done
    shift "$m"
    set -- --mount "type=bind,src=$ip,dst=${CTR_INIT_TARGET},options=rbind:ro" "$@"
  fi
  c run --log-uri "file://$log" "$@" >/dev/null || exit 1
fi
c containers label "$n" "${INTERNAL_LABELS.startedAt}=$(date +%s)000" "${INTERNAL_LABELS.exitCode}=" "${INTERNAL_LABELS.finishedAt}=" >/dev/null || exit 1
printf 'clusterctl-start %s %s\\n' "$outcome" "$n"
`

/** $1 namespace, $2 name, $3 grace seconds, $4 log file. A missing container is success. */
export const CTR_STOP_SCRIPT = `${COMMON}n=$2 g=$3 log=$4
has_container "$n"
found=$?
if [ "$found" -gt 1 ]; then exit 1; fi
if [ "$found" = 0 ]; then
  stop_task "$n" "$g" || exit 1
  if ! err=$(c containers rm "$n" 2>&1 >/dev/null); then
    has_container "$n"
    if [ $? != 1 ]; then printf '%s\\n' "$err" >&2; exit 1; fi
  fi
fi
rm -f "$log"
`

/**
 * $1 namespace, $2 filter ('' for all). Reaps stopped tasks (their exit status only
 * survives in labels), then prints per container a header line
 * `clusterctl-container ID TASK-STATUS PID EXIT-CODE` ('none'/'-' when absent; the code
 * is `unknown` when ctr deleted the task but logged no status we recognise) and
 * `ctr containers info` up to its "Spec" (which may be large and holds the env).
 */
export const CTR_LIST_SCRIPT = `${COMMON}filter=$2
if [ -n "$filter" ]; then ids=$(c containers ls -q "$filter") || exit 1
else ids=$(c containers ls -q) || exit 1; fi
ts=$(c tasks ls) || exit 1
now=$(date +%s)
echo 'clusterctl-list 1'
for id in $ids; do
  st=none pid=- code=-
  first=1
  while read -r tid tpid tst trest; do
    if [ "$first" = 1 ]; then first=0; continue; fi
    if [ "$tid" = "$id" ]; then st=$tst pid=$tpid; fi
  done <<EOF
$ts
EOF
  if [ "$st" = STOPPED ]; then
    if err=$(c tasks rm "$id" 2>&1 >/dev/null); then
      code=$(printf '%s\\n' "$err" | sed -n 's/.*exit with non-zero exit code \\([0-9][0-9]*\\).*/\\1/p' | head -n 1)
      if [ -z "$code" ]; then if [ -z "$err" ]; then code=0; else code=unknown; fi; fi
      c containers label "$id" "${INTERNAL_LABELS.exitCode}=$code" "${INTERNAL_LABELS.finishedAt}=\${now}000" >/dev/null 2>&1
    fi
  fi
  info=$(c containers info "$id" 2>/dev/null) || continue
  printf 'clusterctl-container %s %s %s %s\\n' "$id" "$st" "$pid" "$code"
  printf '%s\\n' "$info" | sed '/^    "Spec": /,$d'
done
echo 'clusterctl-end'
`

/**
 * $1 namespace, $2 name, $3 log file, $4 tail argument (N or +1), $5 follow (1/0).
 * Following ends when the task ends (GNU tail --pid), like podman logs -f.
 */
export const CTR_LOGS_SCRIPT = `${COMMON}n=$2 log=$3 t=$4 f=$5
if [ ! -f "$log" ]; then
  has_container "$n"
  case $? in
    0) exit 0 ;;
    1) echo "no container named $n in namespace $ns" >&2; exit 1 ;;
    *) exit 1 ;;
  esac
fi
if [ "$f" = 1 ]; then
  ti=$(task_info "$n") || exit 1
  if [ "\${ti%% *}" = RUNNING ]; then
    pid=\${ti#* }
    if tail --pid="$pid" -n 0 /dev/null >/dev/null 2>&1; then exec tail -n "$t" -f --pid="$pid" "$log"; fi
    exec tail -n "$t" -f "$log"
  fi
fi
exec tail -n "$t" "$log"
`

/** $1 namespace, $2 image reference. Exit 0 present, 1 absent, 2 ctr failed. */
export const CTR_IMAGE_EXISTS_SCRIPT = `set -u
out=$(ctr -n "$1" images ls -q) || exit 2
printf '%s\\n' "$out" | grep -qxF -e "$2"
`

/**
 * docker's normalisation, which podman load and ctr image import both apply to archive
 * tags: `busybox` -> `docker.io/library/busybox:latest`, `me/app` -> `docker.io/me/app:latest`.
 * ctr needs the full reference; podman resolves short names itself.
 */
export function normalizeImageRef(ref: string): string {
  let name = ref
  let digest = ''
  const at = ref.indexOf('@')
  if (at >= 0) {
    name = ref.slice(0, at)
    digest = ref.slice(at)
  }
  const slash = name.indexOf('/')
  const first = slash < 0 ? '' : name.slice(0, slash)
  if (slash < 0) name = `docker.io/library/${name}`
  else if (!(first.includes('.') || first.includes(':') || first === 'localhost')) name = `docker.io/${name}`
  else if (first === 'docker.io' && !name.slice(slash + 1).includes('/')) name = `docker.io/library/${name.slice(slash + 1)}`
  const last = name.slice(name.lastIndexOf('/') + 1)
  if (digest === '' && !last.includes(':')) name += ':latest'
  return name + digest
}

/** A containerd filter value or key, quoted (Go strconv syntax, which JSON strings are a subset of). */
function quoteFilter(value: string): string {
  return JSON.stringify(value)
}

/** `labels."k"=="v",labels."k2"=="v2"`: one filter, its comma-separated parts ANDed. */
export function labelFilter(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `labels.${quoteFilter(k)}==${quoteFilter(v)}`)
    .join(',')
}

function stateOf(taskStatus: string, hasExitLabel: boolean): ContainerState {
  switch (taskStatus) {
    case 'RUNNING':
      return 'running'
    case 'PAUSED':
    case 'PAUSING':
      return 'paused'
    case 'CREATED':
      return 'created'
    case 'STOPPED':
      return 'exited'
    case 'none':
      return hasExitLabel ? 'exited' : 'created'
    default:
      return 'unknown'
  }
}

function intOrNull(text: string | undefined): number | null {
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : null
}

/** `ctr containers info` cut before "Spec": close the object again. */
function parseInfo(lines: string[]): Record<string, unknown> | null {
  const text = lines.join('\n').trim()
  if (text === '') return null
  const whole = parseJson(text) ?? parseJson(`${text.replace(/,\s*$/, '')}\n}`)
  return whole !== null && typeof whole === 'object' && !Array.isArray(whole) ? (whole as Record<string, unknown>) : null
}

const HEADER = /^clusterctl-container (\S+) (\S+) (\S+) (\S+)\s*$/

export function parseCtrList(stdout: string): ContainerList {
  const lines = stdout.split('\n')
  const start = lines.findIndex((l) => l.trim() === 'clusterctl-list 1')
  const end = lines.findIndex((l, i) => i > start && l.trim() === 'clusterctl-end')
  const containers: ObservedContainer[] = []
  let complete = start >= 0 && end > start
  const body = start >= 0 ? lines.slice(start + 1, end > start ? end : lines.length) : []
  let header: RegExpExecArray | null = null
  let block: string[] = []
  const flush = (): void => {
    if (!header) return
    const [, id, taskStatus, , harvested] = header as unknown as [string, string, string, string, string]
    const info = parseInfo(block)
    if (!info) complete = false
    const allLabels = asRecordOfStrings(info?.Labels)
    // A reaped task whose status ctr did not report is still exited: code `unknown`.
    const reaped = allLabels[INTERNAL_LABELS.exitCode] !== undefined || harvested !== '-'
    const exitCode = intOrNull(harvested) ?? intOrNull(allLabels[INTERNAL_LABELS.exitCode])
    const state = stateOf(taskStatus, reaped)
    const internal = new Set<string>(Object.values(INTERNAL_LABELS))
    const hostPorts = parseHostPorts(allLabels[INTERNAL_LABELS.hostPorts])
    containers.push({
      name: id,
      id,
      state,
      exitCode: state === 'exited' ? exitCode : null,
      startedAt: intOrNull(allLabels[INTERNAL_LABELS.startedAt]),
      finishedAt: state === 'exited' ? intOrNull(allLabels[INTERNAL_LABELS.finishedAt]) : null,
      labels: Object.fromEntries(Object.entries(allLabels).filter(([k]) => !internal.has(k))),
      image: asString(info?.Image),
      ...(hostPorts.length > 0 ? {hostPorts} : {}),
    })
  }
  for (const line of body) {
    const m = HEADER.exec(line)
    if (m) {
      flush()
      header = m
      block = []
    } else if (header) {
      block.push(line)
    } else if (line.trim() !== '') {
      complete = false
    }
  }
  flush()
  return {containers, complete}
}

export function createContainerdRuntime(options: RuntimeOptions = {}): ContainerRuntime {
  const ns = options.namespace ?? DEFAULT_NAMESPACE
  const logDir = (options.logDir ?? DEFAULT_LOG_DIR).replace(/\/+$/, '')
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(ns)) throw new UserError(`Invalid containerd namespace ${JSON.stringify(ns)}.`)
  if (!/^\/[A-Za-z0-9._/-]*$/.test(logDir)) throw new UserError(`Invalid containerd log directory ${JSON.stringify(logDir)}: use an absolute path of letters, digits and . _ - /.`)
  const logOf = (name: string): string => `${logDir}/${name}.log`

  return {
    name: 'containerd',

    startArgv(spec: ContainerSpec): string[] {
      validateSpec(spec)
      if (spec.network) throw new UserError(`Container ${spec.name} cannot join network ${spec.network.name}: ${CONTAINERD_NETWORK_REASON}.`, {code: 'invalid-spec'})
      const hash = effectiveSpecHash(spec)
      const same = `id==${quoteFilter(spec.name)},labels.${quoteFilter(LABELS.specHash)}==${quoteFilter(hash)}`
      const run = ctrRunArgs(spec)
      // The init goes before the command, so only a spec that names its command can have one.
      const command = spec.command ?? []
      const initAt = spec.init !== false && command.length > 0 ? run.length - command.length : 0
      return withVolumePrep(spec, 'containerd', ['sh', '-c', CTR_START_SCRIPT, 'clusterctl-start', ns, spec.name, hash, String(spec.stopGraceSeconds ?? 10), logOf(spec.name), same, normalizeImageRef(spec.image), String(initAt), ...run])
    },

    parseStart(stdout: string): StartResult | null {
      return parseStartLine(stdout)
    },

    listArgv(labelSelector: Record<string, string>): string[] {
      for (const k of Object.keys(labelSelector)) if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(k)) throw new UserError(`Invalid label key in a selector: ${JSON.stringify(k)}.`, {code: 'invalid-selector'})
      return ['sh', '-c', CTR_LIST_SCRIPT, 'clusterctl-list', ns, labelFilter(labelSelector)]
    },

    parseList: parseCtrList,

    stopArgv(name: string, graceSeconds: number): string[] {
      assertContainerName(name)
      assertGraceSeconds(graceSeconds)
      return ['sh', '-c', CTR_STOP_SCRIPT, 'clusterctl-stop', ns, name, String(graceSeconds), logOf(name)]
    },

    removeArgv(name: string): string[] {
      assertContainerName(name)
      return ['sh', '-c', CTR_STOP_SCRIPT, 'clusterctl-remove', ns, name, '0', logOf(name)]
    },

    execArgv(name: string, argv: readonly string[], execId: string): string[] {
      assertContainerName(name)
      if (argv.length === 0) throw new UserError('An exec needs a command.', {code: 'empty-command'})
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,75}$/.test(execId)) throw new UserError(`Invalid exec id ${JSON.stringify(execId)}.`, {code: 'invalid-argument'})
      return ['ctr', '-n', ns, 'task', 'exec', '--exec-id', execId, name, ...argv]
    },

    logsArgv(name: string, options: LogsOptions): string[] {
      assertContainerName(name)
      const tail = options.tail === undefined ? '+1' : String(checkTail(options.tail))
      return ['sh', '-c', CTR_LOGS_SCRIPT, 'clusterctl-logs', ns, name, logOf(name), tail, options.follow ? '1' : '0']
    },

    loadImageArgv(): string[] {
      return ['ctr', '-n', ns, 'images', 'import', '-']
    },

    parseLoad(stdout: string): string[] {
      const names: string[] = []
      for (const line of stdout.split('\n')) {
        const m = /^unpacking (\S+) \(/.exec(line.trim())
        if (m) names.push(m[1]!)
      }
      return uniqueSorted(names)
    },

    imageExistsArgv(image: string): string[] {
      assertImage(image)
      return ['sh', '-c', CTR_IMAGE_EXISTS_SCRIPT, 'clusterctl-image-exists', ns, normalizeImageRef(image)]
    },

    listImagesArgv(): string[] {
      return ['ctr', '-n', ns, 'images', 'ls', '-q']
    },

    parseImages(stdout: string): string[] {
      return uniqueSorted(
        stdout
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !/\s/.test(l)),
      )
    },
  }
}

export function ctrRunArgs(spec: ContainerSpec): string[] {
  const args = ['--detach', '--net-host']
  for (const [k, v] of containerLabels(spec)) args.push('--label', `${k}=${v}`)
  // Host networking publishes nothing a listing could show: the ports are kept in a label.
  if (spec.ports.length > 0) args.push('--label', `${INTERNAL_LABELS.hostPorts}=${spec.ports.map((p) => p.hostPort).join(',')}`)
  for (const [k, v] of containerEnv(spec)) args.push('--env', `${k}=${v}`)
  if (spec.cpuMilli > 0) args.push('--cpus', cpusOf(spec.cpuMilli))
  if (spec.memBytes > 0) args.push('--memory-limit', String(spec.memBytes))
  for (const v of spec.volumes) args.push('--mount', `type=bind,src=${v.source},dst=${v.target},options=rbind:${v.readOnly ? 'ro' : 'rw'}`)
  args.push(normalizeImageRef(spec.image), spec.name, ...(spec.command ?? []))
  return args
}
