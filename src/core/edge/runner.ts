/**
 * Running the edge proxy on a node (docs/endpoints.md, decision 0011), pure: the shell
 * scripts the reconcile pass sends over SSH and the parsers of what they print.
 *
 * - The proxy is one podman container per edge node, `clusterctl-edge`: host networking,
 *   `--restart on-failure`, HAProxy in master-worker mode (`-W -db`), its run directory
 *   (`/var/lib/clusterctl/edge/NODE`: haproxy.cfg, the admin socket) bind-mounted at the
 *   same path, so the file's paths are the node's. The pass starts it when it is missing
 *   or stopped, and recreates it when the edge image setting changed.
 * - A new configuration is written beside the current one, checked with `haproxy -c`
 *   inside the image (in the running container, else a throw-away one), and only then
 *   swapped in with `mv` (an atomic rename); the one it replaces is kept as
 *   `haproxy.cfg.good`. A file HAProxy refuses is never installed: the proxy keeps
 *   serving with the last good one, and the pass reports the error.
 * - A reload (SIGUSR2 to the master: a new worker takes the listeners over through the
 *   admin socket's `expose-fd listeners`, old workers end within hard-stop-after) happens
 *   only when the frontends changed: the digest of `frontendsOf` is kept in the run
 *   directory. Membership changes go through the runtime API.
 * - Runtime-API commands reach the admin socket through the image's own perl
 *   (`podman exec -i clusterctl-edge perl`: perl-base is in every Debian-based image,
 *   the official `haproxy` one included; it has no socat): one connection per command,
 *   each answer framed by marker lines.
 */
import {BugError} from '../errors.js'
import {READ_COMMANDS} from './haproxy.js'

export const EDGE_CONTAINER = 'clusterctl-edge'
/** The official image, at the HAProxy version whose runtime-API semantics were checked (2.6). */
export const DEFAULT_EDGE_IMAGE = 'docker.io/library/haproxy:2.6'
/** A drain's bound when the job names none: the stop goes on after it even with connections left. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** The edge proxy's run directory on a node (one per node name: names of one machine never share it). */
export function edgeRunDir(nodeName: string): string {
  if (!NODE_NAME.test(nodeName)) throw new BugError(`edge: node name ${JSON.stringify(nodeName)} cannot name a directory`)
  return `/var/lib/clusterctl/edge/${nodeName}`
}

/** Reads command lines on stdin; sends each on its own connection to the admin socket ($ARGV[0]); prints each answer between markers. */
export const ADMIN_CLIENT = `use IO::Socket::UNIX;
my $p = shift;
while (my $c = <STDIN>) {
  chomp $c;
  next if $c eq "";
  my $s;
  for (1 .. 50) { $s = IO::Socket::UNIX->new(Peer => $p) and last; select(undef, undef, undef, 0.1); }
  die "admin socket $p: $!\\n" unless $s;
  print $s "$c\\n";
  my $a = do { local $/; <$s> };
  $a = "" unless defined $a;
  $a .= "\\n" unless $a eq "" || $a =~ /\\n$/;
  print "clusterctl-cmd $c\\n$a" . "clusterctl-end\\n";
  close $s;
}`

/**
 * $1 run dir, $2 image, $3 digest of the frontends; the configuration on stdin. Writes and
 * checks it, swaps it in, starts or reloads the proxy as needed, then reads its backends.
 * Prints `clusterctl-edge EVENT` lines and the answers of READ_COMMANDS. Exit 3: the run
 * directory cannot be written; 4: HAProxy refused the file (its words follow; the proxy
 * goes on with the last good one, read as usual); 5: the proxy did not start (it serves
 * nothing); 6: its admin socket did not answer.
 */
export const EDGE_SYNC_SCRIPT = `set -u
d=$1 img=$2 fe=$3 c=${EDGE_CONTAINER} client=$4 bad=0
say() { printf 'clusterctl-edge %s\\n' "$*"; }
mkdir -p "$d" || exit 3
cat > "$d/haproxy.cfg.new" || exit 3
ask() { podman exec -i "$c" perl -e "$client" "$d/admin.sock"; }
worker() { printf 'show info\\n' | ask 2>/dev/null | grep '^Pid:'; }
st=$(podman container inspect --format '{{.State.Status}} {{index .Config.Labels "io.clusterctl.edge-image"}}' "$c" 2>/dev/null) || st=absent
now=\${st#* }
st=\${st%% *}
if [ "$st" != absent ] && [ "$now" != "$img" ]; then
  podman rm --force --time 5 "$c" >/dev/null || exit 5
  st=absent
  say recreated for image "$img"
fi
if [ "$st" != running ] && ! podman image exists "$img" 2>/dev/null; then
  podman pull --quiet "$img" >/dev/null 2>&1 || { say image "$img" is missing and could not be pulled; exit 5; }
fi
if [ -f "$d/haproxy.cfg" ] && cmp -s "$d/haproxy.cfg.new" "$d/haproxy.cfg"; then
  rm -f "$d/haproxy.cfg.new"
else
  if [ "$st" = running ]; then
    out=$(podman exec "$c" haproxy -c -f "$d/haproxy.cfg.new" 2>&1)
  else
    out=$(podman run --rm --network none --user 0 --volume "$d:$d" --entrypoint haproxy "$img" -c -f "$d/haproxy.cfg.new" 2>&1)
  fi
  rc=$?
  if [ "$rc" != 0 ]; then
    rm -f "$d/haproxy.cfg.new"
    say invalid
    printf '%s\\n' "$out" | tail -n 8
    bad=4
  else
    if [ -f "$d/haproxy.cfg" ]; then cp -p "$d/haproxy.cfg" "$d/haproxy.cfg.good"; fi
    mv -f "$d/haproxy.cfg.new" "$d/haproxy.cfg" || exit 3
    say written
  fi
fi
case $st in
  running)
    if [ "$bad" = 0 ] && [ "$(cat "$d/frontends" 2>/dev/null)" != "$fe" ]; then
      old=$(worker)
      podman kill --signal USR2 "$c" >/dev/null || exit 5
      i=0
      while [ "$(worker)" = "$old" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
      say reloaded
    fi ;;
  absent)
    rm -f "$d/admin.sock"
    podman run --detach --name "$c" --label io.clusterctl.edge=1 --label "io.clusterctl.edge-image=$img" --network host --user 0 --restart on-failure --log-driver k8s-file --volume "$d:$d" --entrypoint haproxy "$img" -W -db -f "$d/haproxy.cfg" >/dev/null || exit 5
    say started ;;
  *)
    rm -f "$d/admin.sock"
    podman start "$c" >/dev/null || exit 5
    say started ;;
esac
if [ "$bad" = 0 ]; then printf '%s' "$fe" > "$d/frontends"; fi
i=0
while [ ! -S "$d/admin.sock" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
printf '%s\\n' ${READ_COMMANDS.map((c) => `'${c}'`).join(' ')} | ask || exit 6
exit "$bad"
`

/** $1 run dir, $2 the client; command lines on stdin, sent to the admin socket in order. */
export const EDGE_COMMANDS_SCRIPT = `set -u
podman exec -i ${EDGE_CONTAINER} perl -e "$2" "$1/admin.sock"
`

/** The sync (EDGE_SYNC_SCRIPT), its stdin the configuration. */
export function edgeSyncArgv(runDir: string, image: string, frontendsDigest: string): string[] {
  return ['sh', '-c', EDGE_SYNC_SCRIPT, 'clusterctl-edge', runDir, image, frontendsDigest, ADMIN_CLIENT]
}

/** Runtime-API commands, its stdin the command lines (the READ_COMMANDS after them read the result). */
export function edgeCommandsArgv(runDir: string): string[] {
  return ['sh', '-c', EDGE_COMMANDS_SCRIPT, 'clusterctl-edge', runDir, ADMIN_CLIENT]
}

/** The stdin of edgeCommandsArgv: the commands, then the reads. */
export function edgeCommandsInput(commands: readonly string[]): string {
  for (const c of commands) if (/[\n\r]/.test(c)) throw new BugError(`edge: command ${JSON.stringify(c)} spans lines`)
  return [...commands, ...READ_COMMANDS].map((c) => `${c}\n`).join('')
}

/** The proxy container's removal (an edge mark taken off). */
export function edgeRemoveArgv(): string[] {
  return ['podman', 'rm', '--force', '--ignore', '--time', '5', EDGE_CONTAINER]
}

export interface EdgeOutput {
  /** `clusterctl-edge` lines: written, reloaded, started, recreated..., invalid. */
  events: string[]
  /** Each command sent to the admin socket with HAProxy's answer, in order. */
  answers: Array<{command: string; answer: string}>
  /** Lines outside both (HAProxy's words on a refused file). */
  other: string[]
}

export function parseEdgeOutput(stdout: string): EdgeOutput {
  const out: EdgeOutput = {events: [], answers: [], other: []}
  let current: {command: string; lines: string[]} | null = null
  for (const line of stdout.split('\n')) {
    if (current) {
      if (line === 'clusterctl-end') {
        out.answers.push({command: current.command, answer: current.lines.join('\n')})
        current = null
      } else current.lines.push(line)
      continue
    }

    if (line.startsWith('clusterctl-cmd ')) current = {command: line.slice('clusterctl-cmd '.length), lines: []}
    else if (line.startsWith('clusterctl-edge ')) out.events.push(line.slice('clusterctl-edge '.length))
    else if (line.trim() !== '') out.other.push(line)
  }

  return out
}

/** The answers of the READ_COMMANDS at the end of an output (the last of each), or null when one is missing. */
export function readAnswers(output: EdgeOutput): {serversState: string; stat: string} | null {
  const last = (command: string): string | undefined => [...output.answers].reverse().find((a) => a.command === command)?.answer
  const serversState = last(READ_COMMANDS[0])
  const stat = last(READ_COMMANDS[1])
  return serversState === undefined || stat === undefined ? null : {serversState, stat}
}

/** Answers of HAProxy that say a command failed (it answers an empty line, or a sentence, on success). */
export function failedAnswers(output: EdgeOutput): Array<{command: string; answer: string}> {
  const reads = new Set<string>(READ_COMMANDS)
  return output.answers.filter((a) => !reads.has(a.command) && /^(No such|Unknown|Require|Only servers|.*\b(failed|error|invalid|cannot|not found|refused)\b)/im.test(a.answer.trim()))
}

/** What one edge says of one server after a sync: null when the edge does not have it. */
export interface EdgeServerView {
  state: 'ready' | 'drain' | 'maint'
  connections: number
}

/**
 * Whether a task's backend has drained on every edge that is up: each has it out of
 * rotation (drain or maint) with no connection attached, or does not have it. An edge
 * whose backends could not be read ('unknown') may still send it traffic: not drained
 * (the drain timeout bounds the wait). Down edges are not asked (they serve no one).
 */
export function drainedEverywhere(views: ReadonlyArray<EdgeServerView | null | 'unknown'>): boolean {
  return views.every((v) => v === null || (v !== 'unknown' && v.state !== 'ready' && v.connections === 0))
}

/** A job's drain timeout: its spec's `drainTimeout`, else DEFAULT_DRAIN_TIMEOUT_MS. */
export function drainTimeoutOf(spec: {drainTimeoutMs?: number}): number {
  return spec.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS
}

/** Whether a drain that began at `since` has run out of time (`timeoutMs`) at `now`. */
export function drainTimedOut(since: number, now: number, timeoutMs: number = DEFAULT_DRAIN_TIMEOUT_MS): boolean {
  return now - since >= timeoutMs
}
