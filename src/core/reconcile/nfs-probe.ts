/**
 * NFS exports checked at placement (docs/volumes.md): before a task with an NFS volume
 * is placed on a node, the pass has that node mount the export read-only in a temporary
 * directory (soft, short timeouts, the whole mount bounded by `timeout`), then unmount
 * it and remove the directory, so an export a node cannot mount keeps the task off that
 * node with mount's own words instead of failing the container's start there.
 *
 * Results are kept per (node, export) in the state file's `meta` table for a while (an
 * export that mounted for 10 minutes, one that did not for 30 s), so a pass probes only
 * the pairs it has no fresh answer for: its SSH cost is at most one short round trip per
 * machine and export that a pending task may go to, and none when every answer is fresh.
 * Only the probe's plumbing (argv, parsing, which pairs, what they mean for placement)
 * is here and pure; the pass runs the round trips.
 */
import type {Node} from '../model/node.js'
import type {NfsSource} from '../model/job.js'
import type {Job, Task} from '../model/task.js'
import {nfsDevice} from '../model/volume.js'
import type {ExecResult} from '../transport.js'
import type {VolumePlacement} from './volumes.js'

/** How long mount may take on the node (seconds); the round trip gets a few more. */
export const NFS_PROBE_MOUNT_SECONDS = 5
export const NFS_PROBE_TIMEOUT_MS = (NFS_PROBE_MOUNT_SECONDS + 5) * 1000
/** How long an answer is trusted: a mountable export for 10 minutes, one that failed for 30 s (a fixed export is soon seen). */
export const NFS_PROBE_OK_TTL_MS = 10 * 60_000
export const NFS_PROBE_FAILED_TTL_MS = 30_000
/** The `meta` key of the answers (one JSON object, pruned of stale answers on every write). */
export const NFS_PROBES_META_KEY = 'nfs:probes'

/**
 * $1 SERVER:/EXPORT, $2 mount options, $3 seconds. Mounts read-only (the user's options
 * first: later ones win, so ro, soft and the short timeouts hold) in a fresh temporary
 * directory; whatever happens, the trap unmounts it (lazily if need be: it never
 * hangs) and removes it. Prints `ok`, or mount's first line on stderr and exits 1.
 */
export const NFS_PROBE_SCRIPT = `dev=$1 opts=$2 t=$3
d=$(mktemp -d /tmp/clusterctl-nfs-probe.XXXXXX) || { echo "cannot make a temporary directory" >&2; exit 1; }
trap 'umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null; rmdir "$d" 2>/dev/null' EXIT
err=$(timeout -k 1 "$t" mount -t nfs -o "$opts,ro,soft,timeo=20,retrans=1" "$dev" "$d" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then echo ok; exit 0; fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then err="mount did not finish within \${t}s"; fi
printf '%s\\n' "$err" | sed -n '/[^[:space:]]/{p;q;}' >&2
exit 1
`

/** The probe's argv: server, export and options are positional arguments, never part of the script (the transport quotes each). */
export function nfsProbeArgv(nfs: NfsSource): string[] {
  return ['sh', '-c', NFS_PROBE_SCRIPT, 'clusterctl-nfs-probe', nfsDevice(nfs), nfs.options, String(NFS_PROBE_MOUNT_SECONDS)]
}

export interface NfsProbeAnswer {
  ok: boolean
  /** The first line of mount's error (or of the failure to reach the node). */
  error: string | null
  at: number
}

/** A probe's result: `ok` on stdout and exit 0, else the first non-empty line it wrote (without the temporary directory's name). */
export function parseNfsProbe(result: ExecResult, at: number): NfsProbeAnswer {
  if (result.code === 0 && result.stdout.trim() === 'ok') return {ok: true, error: null, at}
  // The temporary directory's name is left out: the same failure reads the same on every probe (one event, not one a probe).
  const line = `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.replace(/\/tmp\/clusterctl-nfs-probe\.\w+:? ?/g, '').trim()).find((l) => l.length > 0)
  return {ok: false, error: line ?? (result.code === null ? `mount ended by ${result.signal ?? 'a signal'}` : `mount exited ${result.code}`), at}
}

/** The key of one answer: the node and the export. */
export function probeKey(nodeId: string, nfs: Pick<NfsSource, 'server' | 'export'>): string {
  return `${nodeId} ${nfsDevice(nfs as NfsSource)}`
}

export type NfsProbes = ReadonlyMap<string, NfsProbeAnswer>

/** Answers still fresh at `now` (the rest are probed again). */
export function freshProbes(stored: string | undefined, now: number): Map<string, NfsProbeAnswer> {
  const out = new Map<string, NfsProbeAnswer>()
  if (!stored) return out
  let parsed: unknown
  try {
    parsed = JSON.parse(stored)
  } catch {
    return out
  }
  if (parsed === null || typeof parsed !== 'object') return out
  for (const [key, a] of Object.entries(parsed as Record<string, NfsProbeAnswer>)) {
    if (a && typeof a.at === 'number' && typeof a.ok === 'boolean' && now - a.at < (a.ok ? NFS_PROBE_OK_TTL_MS : NFS_PROBE_FAILED_TTL_MS)) out.set(key, {ok: a.ok, error: a.error ?? null, at: a.at})
  }
  return out
}

export function storedProbes(probes: NfsProbes): string {
  return JSON.stringify(Object.fromEntries(probes))
}

/** The NFS sources of a job, deduplicated by export. */
function exportsOf(job: Job): NfsSource[] {
  const seen = new Map<string, NfsSource>()
  for (const v of job.spec.volumes) if (v.nfs && !seen.has(nfsDevice(v.nfs))) seen.set(nfsDevice(v.nfs), v.nfs)
  return [...seen.values()]
}

/** The nodes a pending task may go to: the ready nodes, or only the node its local volume pins it to. */
function candidatesOf(task: Task, nodes: readonly Node[], volumes: VolumePlacement): Node[] {
  const pin = volumes.pins.get(task.id)
  return nodes.filter((n) => n.state === 'ready' && (pin === undefined || n.name === pin.value))
}

export interface ProbeWanted {
  node: Node
  nfs: NfsSource
  /** The other nodes of the same machine the answer is for. */
  alsoFor: string[]
}

/**
 * The probes a pass must run: each (machine, export) that a pending, unblocked task with
 * an NFS volume may be placed on and that has no fresh answer, once per address and sudo
 * choice (names of one machine reached the same way mount the same way).
 */
export function probesWanted(pending: readonly Task[], jobsById: ReadonlyMap<string, Job>, nodes: readonly Node[], volumes: VolumePlacement, known: NfsProbes, machineOf: (n: Node) => string): ProbeWanted[] {
  const out = new Map<string, ProbeWanted>()
  for (const task of pending) {
    const job = jobsById.get(task.jobId)
    if (!job || volumes.blocked.has(task.id)) continue
    for (const nfs of exportsOf(job)) {
      for (const node of candidatesOf(task, nodes, volumes)) {
        if (known.has(probeKey(node.id, nfs))) continue
        const key = `${machineOf(node)} ${String(node.sudo)} ${nfsDevice(nfs)}`
        const wanted = out.get(key)
        if (wanted === undefined) out.set(key, {node, nfs, alsoFor: []})
        else if (wanted.node.id !== node.id && !wanted.alsoFor.includes(node.id)) wanted.alsoFor.push(node.id)
      }
    }
  }
  return [...out.values()]
}

/** `nfs export 10.0.0.5:/srv/data cannot be mounted on h1, h2: mount: ...` (nodes grouped by their error). */
export function nfsRefusal(device: string, failures: ReadonlyArray<{node: string; error: string}>): string {
  const byError = new Map<string, string[]>()
  for (const f of failures) byError.set(f.error, [...(byError.get(f.error) ?? []), f.node])
  return `nfs export ${device} cannot be mounted on ${[...byError].map(([error, on]) => `${on.join(', ')}: ${error}`).join('; on ')}`
}

/**
 * What the answers mean for placement, added to the volumes' placement: a task is kept
 * off every node that could not mount one of its exports (`avoid`, with the reason as a
 * `note` for its pending reason); when that is every node it may go to, it is not
 * offered at all and waits with that reason (`blocked`). A pair with no answer (a
 * dry run does not probe) does not keep a task off.
 */
export function nfsPlacement(pending: readonly Task[], jobsById: ReadonlyMap<string, Job>, nodes: readonly Node[], volumes: VolumePlacement, probes: NfsProbes): VolumePlacement {
  const out: VolumePlacement = {...volumes, blocked: new Map(volumes.blocked), avoid: new Map(volumes.avoid), notes: new Map(volumes.notes)}
  for (const task of pending) {
    const job = jobsById.get(task.jobId)
    if (!job || out.blocked.has(task.id)) continue
    const candidates = candidatesOf(task, nodes, volumes)
    const refused = new Set<string>()
    const reasons: string[] = []
    for (const nfs of exportsOf(job)) {
      const failures = candidates.flatMap((n) => {
        const a = probes.get(probeKey(n.id, nfs))
        return a && !a.ok ? [{node: n.name, error: a.error ?? 'mount failed'}] : []
      })
      if (failures.length === 0) continue
      for (const f of failures) refused.add(f.node)
      reasons.push(nfsRefusal(nfsDevice(nfs), failures))
    }
    if (refused.size === 0) continue
    const reason = reasons.join('; ')
    if (candidates.every((n) => refused.has(n.name))) out.blocked.set(task.id, reason)
    else {
      out.avoid!.set(task.id, [...refused])
      out.notes!.set(task.id, reason)
    }
  }
  return out
}
