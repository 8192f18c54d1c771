/**
 * The test bed: real "hosts" on this machine, each one a Linux network namespace
 * with its own sshd, podman storage and containerd, reached from the machine over
 * a bridge. Everything end-to-end (SSH, podman, containerd, crash and partition
 * tests) runs against these hosts. Facts behind the choices: shared/TESTBED.md.
 *
 * A host is a network namespace (`cctl-<name>`, veth `cctl-<name>-o` on bridge
 * `cctl-br0`) plus a private mount namespace and a UTS namespace (hostname =
 * host name), held open by a `sleep infinity` "holder" process. sshd and
 * containerd run in all three (nsenter --target <holder>), so every command run
 * over SSH, and every conmon, shim and container, lives in the host's mount
 * namespace. In there, bind mounts give the host its own copy of the
 * machine-wide runtime directories that podman, runc and containerd hard-code:
 *
 *   /run/netns                 podman's container network namespaces
 *   /run/runc                  runc's state for podman containers
 *   /run/containerd/runc       runc's state for containerd tasks
 *   /run/containerd/s          containerd shim sockets
 *   /run/containers/networks   netavark's IPAM database and aardvark-dns state
 *   /run/containers/cni        the CNI dnsname plugin's dnsmasq state (job networks, docs/networks.md)
 *
 * all of them under `<host dir>/run/`, the host's emulated /run. One directory is the
 * host's own on its emulated disk instead, kept across a crash as a real disk is:
 *
 *   /var/lib/cni               the CNI plugins' host-local IPAM store (podman 4.3 with CNI)
 *
 * (shared, the hosts' allocations would pile up in the machine's store run after run). Without this,
 * hosts clash: the same container ID on two hosts collides in runc's state, and a
 * crashed host leaves runc state behind that makes `podman start` fail with
 * "container with given ID already exists". A crash therefore works like a power
 * cut: every process of the host is killed, the mount namespace (and with it every
 * overlay, shm and netns mount of the host) disappears, and `<host dir>/run/` is
 * emptied, so podman and containerd see a reboot when the host comes back.
 * (So podman's netns-* entries never land in the machine's /run/netns, and its
 * netavark bridge and iptables rules live in the host's network namespace: there
 * is nothing of either to clean up on the machine.) Processes are found through
 * /proc (namespaces, parentage), not by asking podman or ctr, so a crash works
 * even when a runtime hangs.
 *
 * Realistic by default, ideal on request (HostSpec):
 * - root's start-up files (~/.bashrc, ~/.profile) are replaced in the host's mount
 *   namespace by ones whose ~/.bashrc sleeps `shellDelayMs` (+ up to `shellJitterMs`):
 *   bash sources it for every command sshd runs, as real servers whose ~/.bashrc runs
 *   a version manager's init do (1-1.5 s). Default 1 s ($CLUSTERCTL_TESTBED_SHELL_MS);
 *   0 is an ideal host, and a test that needs one says so. `setShellDelay` changes it
 *   on a running host.
 * - `latencyMs` / `jitterMs`: a userspace relay (relay.mjs; this kernel has no netem)
 *   listens on the host's SSH address inside its network namespace and delays every
 *   chunk; sshd then listens on 127.0.0.1 only.
 * - `sudoUser`: a non-root user `cctl` (uid 4242) with passwordless sudo. Its passwd,
 *   group, shadow and sudoers entries live in files bind-mounted over /etc/... in the
 *   host's mount namespace: the machine's /etc is never touched.
 * - `bastion`: the host's sshd is reachable only from that other host (iptables in its
 *   network namespace drops SSH from anywhere else): it is reached through a ProxyJump.
 *
 * A bare host (no runtimes) hides podman, ctr, containerd and friends in its mount
 * namespace with a read-only overlay over /usr/bin whose upper layer holds overlayfs
 * whiteouts for those names: `command -v podman` finds nothing, in bash and in
 * dash. (A bind-mounted non-executable file is not enough: bash's `command -v`
 * still prints a non-executable match.)
 *
 * The machine keeps a permanent ARP entry for every host, so a crashed or
 * partitioned host answers nothing at all (connections time out) instead of
 * failing fast with "no route to host" once ARP gives up.
 *
 * Limits of one kernel: all hosts share the cgroup tree, so two containerd tasks
 * with the same namespace and ID on two hosts share the cgroup /clusterctl/<id>
 * (ctr's default cgroup path); podman containers do not (their IDs are random).
 *
 * The library keeps no state in memory: everything needed to find and end the
 * test bed's processes is in `<base>/state.json`, and teardown also finds leftovers
 * without it (processes in any cctl-* network namespace, in a mount namespace they
 * share, descending from those, or mentioning the base dir on their command line).
 */
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'

import {execa} from 'execa'

export type Runtime = 'podman' | 'containerd'

export interface TestbedHost {
  name: string
  ip: string
  port: 22 | number
  /** Network namespace name, e.g. `cctl-h1` (in /run/netns). */
  netns: string
  /** The machine-side end of the host's veth pair, e.g. `cctl-h1-o`. */
  vethOuter: string
  /** `<base>/hosts/<name>`: configs, keys, logs, storage. */
  dir: string
  runtimes: Runtime[]
  hostKeyPath: string
  /** CLUSTERCTL_KERNEL_LOG (the health probe's kernel log), and CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERD_ADDRESS, CONTAINERD_NAMESPACE (those of its runtimes). */
  env: Record<string, string>
  /** Login shell start-up (ms): root's ~/.bashrc sleeps this long plus up to `jitterMs`. */
  shell?: {delayMs: number; jitterMs: number}
  /** Extra round-trip latency on the SSH path (a relay in front of sshd), or null. */
  relay?: {latencyMs: number; jitterMs: number} | null
  /** The non-root user with passwordless sudo (`cctl`), or null. */
  sudoUser?: string | null
  /** The host (name) that is the only one allowed to reach this one's sshd, or null. */
  bastion?: string | null
}

export interface Testbed {
  baseDir: string
  /** Client private key (ed25519), authorized for root on every host. */
  keyPath: string
  publicKey: string
  bridge: string
  gatewayIp: string
  /** 'localhost/clusterctl-test:latest', under that name in podman and in containerd (namespace clusterctl). */
  image: string
  /** docker-archive tar of the image. */
  imageArchive: string
  hosts: TestbedHost[]
}

export interface HostSpec {
  name: string
  /** Defaults to both. `[]` makes a bare host: sshd only, no runtime binaries on PATH. */
  runtimes?: Runtime[]
  /** Login shell start-up in ms. Default $CLUSTERCTL_TESTBED_SHELL_MS or 1000; 0 is an ideal host. */
  shellDelayMs?: number
  /** Up to this much more, at random per command. Default 0. */
  shellJitterMs?: number
  /** Extra round-trip latency on the SSH path, through a relay. Default 0 (no relay). */
  latencyMs?: number
  jitterMs?: number
  /** Add the non-root user `cctl` with passwordless sudo. */
  sudoUser?: boolean
  /** Reachable only from this host (a bastion): connect with ProxyJump through it. */
  bastion?: string
}

export const SUDO_USER = 'cctl'
const SUDO_UID = 4242
const RELAY_SCRIPT = path.join(path.dirname(new URL(import.meta.url).pathname), 'relay.mjs')

/** The default login shell start-up of a host: $CLUSTERCTL_TESTBED_SHELL_MS, or 1 s. */
export function defaultShellDelayMs(): number {
  const raw = process.env.CLUSTERCTL_TESTBED_SHELL_MS
  if (raw === undefined || raw.trim() === '') return 1_000
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new TestbedError(`CLUSTERCTL_TESTBED_SHELL_MS=${raw} is not a whole number of milliseconds`)
  return n
}

export class TestbedError extends Error {
  override name = 'TestbedError'
}

export const DEFAULT_BASE_DIR = '/tmp/clusterctl-testbed'
export const TEST_IMAGE = 'localhost/clusterctl-test:latest'
export const CONTAINERD_NAMESPACE = 'clusterctl'
export const BRIDGE = 'cctl-br0'
const PREFIX = 'cctl-'
const SUBNET = '192.168.240'
export const GATEWAY_IP = `${SUBNET}.1`
const FULL_FIRST = 11
const FULL_LAST = 99
const BARE_FIRST = 101
const BARE_LAST = 254
const ALL_RUNTIMES: readonly Runtime[] = ['podman', 'containerd']
/** Machine-wide runtime directories that each host gets its own copy of (see the header). */
const PRIVATE_RUN_DIRS = [
  ['netns', '/run/netns'],
  ['runc', '/run/runc'],
  ['containerd-runc', '/run/containerd/runc'],
  ['containerd-s', '/run/containerd/s'],
  ['networks', '/run/containers/networks'],
  ['cni-dnsname', '/run/containers/cni'],
] as const
/** Machine-wide persistent directories each host gets its own copy of, under `<host dir>/disk/` (kept across crashes). */
const PRIVATE_DISK_DIRS = [['cni', '/var/lib/cni']] as const
/** Binaries a host without that runtime must not have on PATH. */
const RUNTIME_BINARIES: Record<Runtime, readonly string[]> = {
  podman: ['podman', 'podman-remote', 'conmon', 'crun'],
  containerd: ['ctr', 'containerd', 'containerd-shim', 'containerd-shim-runc-v1', 'containerd-shim-runc-v2', 'containerd-stress'],
}
const BIN_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']
/**
 * root's start-up files on the machine, replaced on the hosts: this machine's
 * /root/.bashrc runs pyenv's init, which bash sources for every command run over
 * SSH (Debian's bash does that for sshd) and which costs up to seconds per command.
 */
const ROOT_DOTFILES: Record<string, string> = {
  '.bashrc': '',
  '.profile': '# root\'s ~/.profile on a clusterctl test bed host\nif [ -n "$BASH" ] && [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n',
  '.bash_profile': '# clusterctl test bed host\nif [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n',
  '.bash_login': '# clusterctl test bed host\nif [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n',
}
const ROOT_HOME = '/root'
const IMAGE_TOOLS = [
  'sh', 'ash', 'sleep', 'echo', 'cat', 'httpd', 'nc', 'wget', 'ls', 'mkdir', 'env', 'true', 'false', 'printf', 'kill', 'ps', 'id',
  'hostname', 'rm', 'cp', 'mv', 'touch', 'grep', 'sed', 'awk', 'head', 'tail', 'wc', 'date', 'uname', 'test', '[', 'pwd', 'seq', 'tr',
  'cut', 'sort', 'uniq', 'dd', 'df', 'du', 'free', 'top', 'ip', 'ifconfig', 'netstat', 'ping', 'nslookup', 'stat', 'find', 'xargs',
  'whoami', 'md5sum', 'sha256sum', 'tee', 'timeout', 'nohup', 'chmod', 'ln', 'readlink', 'basename', 'dirname', 'yes', 'uptime', 'vi',
]

// ---------------------------------------------------------------------------
// Paths and names

/** The base dir: $CLUSTERCTL_TESTBED_DIR or /tmp/clusterctl-testbed, absolute (sshd needs absolute paths). */
export function testbedBaseDir(): string {
  const raw = process.env.CLUSTERCTL_TESTBED_DIR?.trim() || DEFAULT_BASE_DIR
  const abs = path.resolve(raw)
  if (!/^\/[A-Za-z0-9._/-]+$/.test(abs) || abs.split('/').filter(Boolean).length < 2) {
    throw new TestbedError(`CLUSTERCTL_TESTBED_DIR=${raw} is not usable: use an absolute path at least two levels deep, of letters, digits and . _ - /`)
  }
  return abs
}

function statePath(baseDir: string): string {
  return path.join(baseDir, 'state.json')
}

function markerPath(baseDir: string): string {
  return path.join(baseDir, '.clusterctl-testbed')
}

function sockPath(host: TestbedHost): string {
  return path.join(host.dir, 'containerd.sock')
}

function runDir(host: TestbedHost): string {
  return path.join(host.dir, 'run')
}

function containerdConfigPath(host: TestbedHost): string {
  return path.join(host.dir, 'containerd', 'config.toml')
}

function sshdConfigPath(host: TestbedHost): string {
  return path.join(host.dir, 'sshd_config')
}

export function hostByName(tb: Testbed, name: string): TestbedHost {
  const host = tb.hosts.find((h) => h.name === name)
  if (!host) throw new TestbedError(`no host named ${name} in the test bed (hosts: ${tb.hosts.map((h) => h.name).join(', ') || 'none'})`)
  return host
}

// ---------------------------------------------------------------------------
// Running commands

interface RunOptions {
  env?: Record<string, string>
  timeoutMs?: number
  input?: string
}

interface RunResult {
  code: number
  stdout: string
  stderr: string
  timedOut: boolean
  message: string
}

async function tryRun(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await execa(file, args, {
    reject: false,
    env: opts.env ?? {},
    extendEnv: true,
    timeout: opts.timeoutMs ?? 60_000,
    ...(opts.input === undefined ? {stdin: 'ignore' as const} : {input: opts.input}),
  })
  return {
    code: r.exitCode ?? -1,
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    stderr: typeof r.stderr === 'string' ? r.stderr : '',
    timedOut: r.timedOut,
    message: r.shortMessage ?? '',
  }
}

async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await tryRun(file, args, opts)
  if (r.code !== 0) {
    const what = r.timedOut ? `timed out after ${opts.timeoutMs ?? 60_000} ms` : r.code === -1 ? `could not run (${r.message})` : `exited ${r.code}`
    throw new TestbedError(`\`${[file, ...args].slice(0, 5).join(' ')}\` ${what}${tailText(r.stderr || r.stdout) ? `: ${tailText(r.stderr || r.stdout)}` : ''}`)
  }
  return r.stdout
}

function tailText(text: string, max = 400): string {
  const lines = text.trim().split('\n').filter(Boolean).slice(-3).join(' | ')
  return lines.length > max ? `…${lines.slice(-max)}` : lines
}

function logTail(file: string): string {
  try {
    const t = tailText(fs.readFileSync(file, 'utf8'))
    return t ? ` (${path.basename(file)}: ${t})` : ''
  } catch {
    return ''
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Poll `check` until it returns true; throw `failure()` at the deadline. `check` may throw to fail fast. */
async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, failure?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let delay = 20
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new TestbedError(failure ? failure() : `${what} did not happen within ${timeoutMs} ms`)
    await sleep(delay)
    delay = Math.min(delay * 2, 200)
  }
}

/** Start a daemon detached from this process (it outlives it) and return its pid. */
function spawnDaemon(file: string, args: readonly string[], logFile?: string, env?: Record<string, string>): number {
  const fd = logFile === undefined ? 'ignore' : fs.openSync(logFile, 'a')
  try {
    const child = spawn(file, [...args], {detached: true, stdio: ['ignore', fd, fd], env: {...process.env, ...env}})
    child.on('error', () => {})
    child.unref()
    if (child.pid === undefined) throw new TestbedError(`could not start ${file} ${args.slice(0, 3).join(' ')}`)
    return child.pid
  } finally {
    if (typeof fd === 'number') fs.closeSync(fd)
  }
}

// ---------------------------------------------------------------------------
// Processes (read from /proc: fast, and works when the runtimes do not answer)

interface Proc {
  pid: number
  ppid: number
  state: string
  comm: string
  net: string | undefined
  mnt: string | undefined
  cmdline: string
}

function readlinkOr(p: string): string | undefined {
  try {
    return fs.readlinkSync(p)
  } catch {
    return undefined
  }
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const close = stat.lastIndexOf(')')
    const comm = stat.slice(stat.indexOf('(') + 1, close)
    const rest = stat.slice(close + 2).split(' ')
    let cmdline = ''
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
    } catch {
      // gone or a kernel thread
    }
    return {pid, ppid: Number(rest[1]), state: rest[0] ?? '?', comm, net: readlinkOr(`/proc/${pid}/ns/net`), mnt: readlinkOr(`/proc/${pid}/ns/mnt`), cmdline}
  } catch {
    return undefined
  }
}

function listProcs(): Proc[] {
  const out: Proc[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const p = readProc(Number(name))
    if (p) out.push(p)
  }
  return out
}

function isDead(p: Proc | undefined): boolean {
  return p === undefined || p.state === 'Z' || p.state === 'X' || p.state === 'x'
}

function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** Alive and not a zombie (PID 1 here reaps orphans lazily). */
export function pidAlive(pid: number | undefined): boolean {
  return pid !== undefined && pid > 0 && !isDead(readProc(pid))
}

/** What marks a process as belonging to a host (or to the whole test bed). */
interface ProcMatch {
  netNs: Set<string>
  mntNs: Set<string>
  /** Directories whose mention on a command line marks a process as ours. */
  dirs: string[]
  /** Also take every process sharing a (non-machine) mount namespace with a match. Default true. */
  expandMnt?: boolean
}

function mentions(cmdline: string, dir: string): boolean {
  let i = cmdline.indexOf(dir)
  while (i >= 0) {
    const next = cmdline[i + dir.length]
    if (next === undefined || next === '/' || next === ' ' || next === '"' || next === "'") return true
    i = cmdline.indexOf(dir, i + 1)
  }
  return false
}

/**
 * The live processes matched by `m`: in one of its network or mount namespaces
 * or mentioning one of its dirs, everything sharing a mount namespace with a
 * process in those namespaces (never the machine's), and all their descendants.
 * Never this process or its ancestors.
 */
function selectProcs(procs: Proc[], m: ProcMatch, extra: Iterable<number> = []): Map<number, Proc> {
  const byPid = new Map(procs.map((p) => [p.pid, p]))
  const own = new Set<number>()
  for (let p = byPid.get(process.pid); p && !own.has(p.pid); p = byPid.get(p.ppid)) own.add(p.pid)
  const selfMnt = readlinkOr('/proc/self/ns/mnt')
  const selfNet = readlinkOr('/proc/self/ns/net')
  const live = procs.filter((p) => !isDead(p) && !own.has(p.pid) && p.pid > 2 && p.ppid !== 2)
  const picked = new Map<number, Proc>()
  // only processes inside a host's namespaces lead to the rest of their mount namespace
  const expandFrom = new Set<string>()
  for (const p of live) {
    const inNet = p.net !== undefined && p.net !== selfNet && m.netNs.has(p.net)
    const inMnt = p.mnt !== undefined && p.mnt !== selfMnt && m.mntNs.has(p.mnt)
    if (inNet || inMnt || m.dirs.some((d) => mentions(p.cmdline, d))) picked.set(p.pid, p)
    if ((inNet || inMnt) && p.mnt !== undefined) expandFrom.add(p.mnt)
  }
  for (const pid of extra) {
    const p = byPid.get(pid)
    if (p && !isDead(p) && !own.has(pid)) picked.set(pid, p)
  }
  if (m.expandMnt !== false) {
    // never the machine's own mount namespace (ours, or init's)
    expandFrom.delete(selfMnt as string)
    expandFrom.delete(byPid.get(1)?.mnt as string)
    for (const p of live) if (p.mnt !== undefined && expandFrom.has(p.mnt)) picked.set(p.pid, p)
  }
  const children = new Map<number, Proc[]>()
  for (const p of live) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p])
  const queue = [...picked.keys()]
  while (queue.length > 0) {
    const pid = queue.pop() as number
    for (const c of children.get(pid) ?? []) {
      if (!picked.has(c.pid)) {
        picked.set(c.pid, c)
        queue.push(c.pid)
      }
    }
  }
  return picked
}

function signal(pids: Iterable<number>, sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig)
    } catch {
      // already gone
    }
  }
}

function describeProcs(procs: Iterable<Proc>): string {
  return [...procs].map((p) => `${p.pid} (${(p.cmdline || p.comm).slice(0, 80)})`).join(', ')
}

/**
 * End every process matched by `m`, like pulling the plug: freeze them all first
 * (so nothing forks or gets reparented out of reach between scan and kill), then
 * SIGKILL, then wait until they are gone.
 */
async function killMatching(m: ProcMatch, what: string, extra: Iterable<number> = []): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const victims = selectProcs(listProcs(), m, round === 0 ? extra : [])
    if (victims.size === 0) return
    signal(victims.keys(), 'SIGSTOP')
    for (let i = 0; i < 5; i++) {
      const again = selectProcs(listProcs(), m, victims.keys())
      const fresh = [...again.keys()].filter((pid) => !victims.has(pid))
      if (fresh.length === 0) break
      for (const pid of fresh) victims.set(pid, again.get(pid) as Proc)
      signal(fresh, 'SIGSTOP')
    }
    signal(victims.keys(), 'SIGKILL')
    await waitFor(`${what} to exit`, 10_000, () => [...victims.keys()].every((pid) => !pidAlive(pid)), () => {
      const left = [...victims.values()].filter((p) => pidAlive(p.pid))
      return `could not end ${what}: still alive after SIGKILL: ${describeProcs(left)}`
    })
  }
  const left = selectProcs(listProcs(), m)
  if (left.size > 0) throw new TestbedError(`could not end ${what}: they keep coming back: ${describeProcs(left.values())}`)
}

// ---------------------------------------------------------------------------
// Mounts

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))
}

/** Mount points at or under `dir` in this process's mount namespace, in mount order. */
function mountsUnder(dir: string): string[] {
  const out: string[] = []
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4]
    if (field === undefined) continue
    const mp = unescapeMount(field)
    if (mp === dir || mp.startsWith(`${dir}/`)) out.push(mp)
  }
  return out
}

async function unmountUnder(dir: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(dir)
    if (mounts.length === 0) return
    // deepest first; for stacked mounts on one path, the last mounted first
    const order = mounts.map((mp, i) => ({mp, i, depth: mp.split('/').length})).sort((a, b) => b.depth - a.depth || b.i - a.i)
    for (const {mp} of order) {
      const r = await tryRun('umount', [mp], {timeoutMs: 10_000})
      if (r.code !== 0) await tryRun('umount', ['-l', mp], {timeoutMs: 10_000})
    }
  }
  const left = mountsUnder(dir)
  if (left.length > 0) throw new TestbedError(`could not unmount under ${dir}: ${left.join(', ')}`)
}

// ---------------------------------------------------------------------------
// Network objects

function linkExists(name: string): boolean {
  return fs.existsSync(`/sys/class/net/${name}`)
}

function cctlLinks(): string[] {
  try {
    return fs.readdirSync('/sys/class/net').filter((n) => n.startsWith(PREFIX))
  } catch {
    return []
  }
}

function cctlNetns(): string[] {
  try {
    return fs.readdirSync('/run/netns').filter((n) => n.startsWith(PREFIX))
  } catch {
    return []
  }
}

function netnsId(name: string): string | undefined {
  try {
    return `net:[${fs.statSync(`/run/netns/${name}`).ino}]`
  } catch {
    return undefined
  }
}

/** 'up', 'down' (administratively, e.g. crashed or partitioned) or 'missing'. */
export function linkState(name: string): 'up' | 'down' | 'missing' {
  try {
    const flags = parseInt(fs.readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16)
    return flags & 1 ? 'up' : 'down'
  } catch {
    return 'missing'
  }
}

function hostMac(ip: string): string {
  const last = Number(ip.split('.')[3])
  return `02:cc:c0:a8:f0:${last.toString(16).padStart(2, '0')}`
}

async function ensureBridge(): Promise<void> {
  if (!linkExists(BRIDGE)) await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge'])
  await run('ip', ['addr', 'replace', `${GATEWAY_IP}/24`, 'dev', BRIDGE])
  await run('ip', ['link', 'set', BRIDGE, 'up'])
}

async function createHostNetwork(host: TestbedHost): Promise<void> {
  const inner = `${PREFIX}${host.name}-i`
  const ns = host.netns
  const mac = hostMac(host.ip)
  await run('ip', ['netns', 'add', ns])
  await run('ip', ['link', 'add', host.vethOuter, 'type', 'veth', 'peer', 'name', inner])
  await run('ip', ['link', 'set', inner, 'netns', ns])
  await run('ip', ['-n', ns, 'link', 'set', inner, 'name', 'eth0', 'address', mac])
  await run('ip', ['-n', ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0'])
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
  await run('ip', ['link', 'set', host.vethOuter, 'master', BRIDGE])
  await run('ip', ['link', 'set', host.vethOuter, 'up'])
  // A permanent neighbour entry: a host whose link is down answers nothing (timeout), never "no route to host".
  await run('ip', ['neigh', 'replace', host.ip, 'lladdr', mac, 'dev', BRIDGE, 'nud', 'permanent'])
}

/**
 * A reboot's network: the host's namespace is made again, as a rebooted machine's kernel
 * starts with no firewall rule, route, conntrack entry or interface but its own. Without
 * this a crashed host kept the NAT rules of its dead containers' published ports (CNI's
 * portmap) through the restart, and a new container given the same host port was
 * unreachable behind them (EHOSTUNREACH): a state no real machine comes back from a
 * power cut with. Every process of the host is gone when this runs.
 */
async function resetHostNetwork(host: TestbedHost): Promise<void> {
  await tryRun('ip', ['netns', 'del', host.netns])
  await tryRun('ip', ['link', 'del', host.vethOuter])
  await createHostNetwork(host)
}

async function setLink(host: TestbedHost, state: 'up' | 'down'): Promise<void> {
  if (!linkExists(host.vethOuter)) throw new TestbedError(`link ${host.vethOuter} of ${host.name} is missing: the test bed is broken, run \`npm run testbed -- down\` and up again`)
  await run('ip', ['link', 'set', host.vethOuter, state])
}

/** TCP probe from the machine: 'open' (and, for SSH, a banner), 'refused', 'timeout' or 'unreachable'. */
export function probePort(ip: string, port: number, timeoutMs = 1000): Promise<'open' | 'refused' | 'timeout' | 'unreachable'> {
  return new Promise((resolve) => {
    const sock = net.connect({host: ip, port})
    const done = (r: 'open' | 'refused' | 'timeout' | 'unreachable') => {
      clearTimeout(timer)
      sock.destroy()
      resolve(r)
    }
    const timer = setTimeout(() => done('timeout'), timeoutMs)
    sock.once('connect', () => done('open'))
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ETIMEDOUT' ? 'timeout' : 'unreachable'))
  })
}

/** Resolves true once `ip:port` sends an SSH banner. */
function sshBanner(ip: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({host: ip, port})
    let buf = ''
    const done = (ok: boolean) => {
      clearTimeout(timer)
      sock.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1')
      if (buf.includes('\n')) done(buf.startsWith('SSH-'))
    })
    sock.once('error', () => done(false))
    sock.once('close', () => done(false))
  })
}

function unixSocketReady(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({path: sock})
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

// ---------------------------------------------------------------------------
// State file

interface HostProcs {
  holderPid?: number
  /** `mnt:[inode]` of the host's mount namespace. */
  mntNs?: string
  sshdPid?: number
  containerdPid?: number
  relayPid?: number
}

interface StateFile {
  version: 1
  createdAt: string
  /** The process that brought the test bed up, while it lives (a mocha run owns its test bed). */
  owner?: {pid: number; startTime: string}
  testbed: Testbed
  procs: Record<string, HostProcs>
}

async function readState(baseDir: string): Promise<StateFile | undefined> {
  let text: string
  try {
    text = await fsp.readFile(statePath(baseDir), 'utf8')
  } catch {
    return undefined
  }
  try {
    const s = JSON.parse(text) as StateFile
    if (s.version !== 1 || !s.testbed || !Array.isArray(s.testbed.hosts)) return undefined
    s.procs ??= {}
    return s
  } catch {
    return undefined
  }
}

async function writeState(s: StateFile): Promise<void> {
  const file = statePath(s.testbed.baseDir)
  const tmp = `${file}.${process.pid}.tmp`
  await fsp.writeFile(tmp, `${JSON.stringify(s, null, 2)}\n`)
  await fsp.rename(tmp, file)
}

async function mustState(tb: Testbed): Promise<StateFile> {
  const s = await readState(tb.baseDir)
  if (!s) throw new TestbedError(`no test bed state at ${statePath(tb.baseDir)}: is the test bed up? (npm run testbed -- up 3)`)
  return s
}

async function updateState(tb: Testbed, change: (s: StateFile) => void): Promise<void> {
  const s = await mustState(tb)
  change(s)
  await writeState(s)
}

/** The test bed described by the state file, or undefined if none is up. */
export async function loadTestbed(): Promise<Testbed | undefined> {
  return (await readState(testbedBaseDir()))?.testbed
}

// ---------------------------------------------------------------------------
// Host files

function validateName(name: string): void {
  // cctl-<name>-o must fit IFNAMSIZ (15 characters)
  if (!/^[a-z][a-z0-9]{0,7}$/.test(name)) {
    throw new TestbedError(`host name ${JSON.stringify(name)} is not usable: use 1 to 8 lower-case letters and digits, starting with a letter`)
  }
}

/**
 * A host's ~/.bashrc: the start-up of a real server's login shell (a version manager's
 * init) as a controlled sleep. bash sources it for every command sshd runs.
 */
export function bashrc(shell: {delayMs: number; jitterMs: number}): string {
  const head = '# ~/.bashrc on a clusterctl test bed host (the machine\'s own is hidden)\n'
  if (shell.delayMs <= 0 && shell.jitterMs <= 0) return `${head}# an ideal host: no start-up cost\n`
  return [
    head + `# a realistic host: every command pays ${shell.delayMs} ms${shell.jitterMs > 0 ? ` + up to ${shell.jitterMs} ms` : ''} of shell start-up, as real ones do`,
    `__cctl_ms=$(( ${shell.delayMs} + RANDOM % ${shell.jitterMs + 1} ))`,
    'sleep "$(( __cctl_ms / 1000 )).$(printf %03d $(( __cctl_ms % 1000 )))"',
    'unset __cctl_ms',
    '',
  ].join('\n')
}

function nonNegative(n: number | undefined, fallback: number, what: string): number {
  if (n === undefined) return fallback
  if (!Number.isInteger(n) || n < 0) throw new TestbedError(`${what} must be a whole number of milliseconds, not ${n}`)
  return n
}

function makeHost(baseDir: string, spec: HostSpec, ip: string): TestbedHost {
  validateName(spec.name)
  const runtimes = [...(spec.runtimes ?? ALL_RUNTIMES)]
  for (const r of runtimes) if (!ALL_RUNTIMES.includes(r)) throw new TestbedError(`unknown runtime ${String(r)} for host ${spec.name}: use podman or containerd`)
  const dir = path.join(baseDir, 'hosts', spec.name)
  // The kernel log the health probe reads instead of dmesg: a file the tests may write to
  // (never the machine's /dev/kmsg). docs/health.md.
  const env: Record<string, string> = {CLUSTERCTL_KERNEL_LOG: path.join(baseDir, 'hosts', spec.name, 'kmsg.log')}
  if (runtimes.includes('podman')) {
    env.CONTAINERS_CONF = path.join(dir, 'containers.conf')
    env.CONTAINERS_STORAGE_CONF = path.join(dir, 'storage.conf')
  }
  if (runtimes.includes('containerd')) {
    env.CONTAINERD_ADDRESS = path.join(dir, 'containerd.sock')
    env.CONTAINERD_NAMESPACE = CONTAINERD_NAMESPACE
  }
  const ttrpc = `${path.join(dir, 'containerd.sock')}.ttrpc`
  if (ttrpc.length > 100) throw new TestbedError(`base dir ${baseDir} is too long: the socket path ${ttrpc} must stay under 100 characters`)
  return {
    name: spec.name,
    ip,
    port: 22,
    netns: `${PREFIX}${spec.name}`,
    vethOuter: `${PREFIX}${spec.name}-o`,
    dir,
    runtimes,
    hostKeyPath: path.join(dir, 'ssh_host_ed25519_key'),
    env,
    shell: {delayMs: nonNegative(spec.shellDelayMs, defaultShellDelayMs(), 'shellDelayMs'), jitterMs: nonNegative(spec.shellJitterMs, 0, 'shellJitterMs')},
    relay: spec.latencyMs || spec.jitterMs ? {latencyMs: nonNegative(spec.latencyMs, 0, 'latencyMs'), jitterMs: nonNegative(spec.jitterMs, 0, 'jitterMs')} : null,
    sudoUser: spec.sudoUser ? SUDO_USER : null,
    bastion: spec.bastion ?? null,
  }
}

function allocateIp(used: Set<string>, bare: boolean): string {
  const [first, last] = bare ? [BARE_FIRST, BARE_LAST] : [FULL_FIRST, FULL_LAST]
  for (let i = first; i <= last; i++) {
    const ip = `${SUBNET}.${i}`
    if (!used.has(ip)) {
      used.add(ip)
      return ip
    }
  }
  throw new TestbedError(`no free address left for a ${bare ? 'bare' : 'full'} host in ${SUBNET}.${first}-${last}`)
}

function sshdConfig(tb: Testbed, host: TestbedHost): string {
  const d = host.dir
  const setEnv = Object.entries(host.env).map(([k, v]) => `${k}=${v}`).join(' ')
  return [
    `# clusterctl test bed host ${host.name}; sshd runs in network namespace ${host.netns}`,
    // behind a relay, sshd listens on loopback only and the relay holds the host's address
    host.relay ? `ListenAddress 127.0.0.1:${host.port}` : `ListenAddress ${host.ip}:${host.port}`,
    `HostKey ${host.hostKeyPath}`,
    `PidFile ${path.join(d, 'run', 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // authorized_keys lies under /tmp (world-writable): sshd refuses it with StrictModes
    'StrictModes no',
    `AuthorizedKeysFile ${path.join(d, 'authorized_keys')}`,
    'UseDNS no',
    'PrintMotd no',
    // sshd.log records every accepted session and its key
    'LogLevel VERBOSE',
    // clusterctl opens many connections and channels at once
    'MaxStartups 100:30:200',
    'MaxSessions 64',
    'Subsystem sftp internal-sftp',
    ...(setEnv ? [`SetEnv ${setEnv}`] : []),
    `# client key: ${tb.keyPath}`,
    '',
  ].join('\n')
}

function containersConf(host: TestbedHost): string {
  const d = host.dir
  return [
    '# podman of test bed host ' + host.name + ' (shared/TESTBED.md: runc, lowered ulimits, own tmp_dir and file locks)',
    '[containers]',
    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
    'log_driver = "k8s-file"',
    '',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `tmp_dir = "${path.join(d, 'run', 'podman-tmp')}"`,
    'lock_type = "file"',
    '',
    '[network]',
    `network_config_dir = "${path.join(d, 'podman', 'networks')}"`,
    '',
  ].join('\n')
}

function storageConf(host: TestbedHost): string {
  const d = host.dir
  return ['[storage]', 'driver = "overlay"', `graphroot = "${path.join(d, 'podman', 'root')}"`, `runroot = "${path.join(d, 'run', 'podman-run')}"`, ''].join('\n')
}

function containerdConfig(host: TestbedHost): string {
  const d = host.dir
  const sock = sockPath(host)
  return [
    '# containerd of test bed host ' + host.name + ': own root, state, sockets; no CRI, no debug or metrics listener',
    'version = 2',
    `root = "${path.join(d, 'containerd', 'root')}"`,
    `state = "${path.join(d, 'run', 'containerd-state')}"`,
    `temp = "${path.join(d, 'run', 'containerd-tmp')}"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]',
    '',
    '[grpc]',
    `  address = "${sock}"`,
    '',
    '[ttrpc]',
    `  address = "${sock}.ttrpc"`,
    '',
    '[debug]',
    '  address = ""',
    '',
    '[metrics]',
    '  address = ""',
    '',
    '[plugins]',
    '  [plugins."io.containerd.internal.v1.opt"]',
    `    path = "${path.join(d, 'containerd', 'opt')}"`,
    '',
  ].join('\n')
}

async function sshKeygen(file: string, comment: string): Promise<void> {
  await fsp.rm(file, {force: true})
  await fsp.rm(`${file}.pub`, {force: true})
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file])
}

async function writeHostFiles(tb: Testbed, host: TestbedHost): Promise<void> {
  const d = host.dir
  await fsp.mkdir(path.join(d, 'run'), {recursive: true})
  await sshKeygen(host.hostKeyPath, `${host.name}@clusterctl-testbed`)
  await fsp.writeFile(path.join(d, 'authorized_keys'), `${tb.publicKey}\n`)
  await fsp.writeFile(sshdConfigPath(host), sshdConfig(tb, host))
  await fsp.mkdir(path.join(d, 'home'), {recursive: true})
  for (const [name, text] of Object.entries(ROOT_DOTFILES)) await fsp.writeFile(path.join(d, 'home', name), name === '.bashrc' ? bashrc(shellOf(host)) : text)
  if (host.sudoUser) await writeSudoFiles(host)
  if (host.runtimes.includes('podman')) {
    await fsp.mkdir(path.join(d, 'podman', 'root'), {recursive: true})
    await fsp.mkdir(path.join(d, 'podman', 'networks'), {recursive: true})
    await fsp.writeFile(path.join(d, 'containers.conf'), containersConf(host))
    await fsp.writeFile(path.join(d, 'storage.conf'), storageConf(host))
  }
  if (host.runtimes.includes('containerd')) {
    await fsp.mkdir(path.join(d, 'containerd', 'root'), {recursive: true})
    await fsp.writeFile(containerdConfigPath(host), containerdConfig(host))
  }
}

function shellOf(host: TestbedHost): {delayMs: number; jitterMs: number} {
  return host.shell ?? {delayMs: defaultShellDelayMs(), jitterMs: 0}
}

/** The files bind-mounted over /etc in the host's mount namespace for its sudo user. */
const SUDO_ETC = ['passwd', 'group', 'shadow', 'sudoers', 'hosts'] as const

async function writeSudoFiles(host: TestbedHost): Promise<void> {
  const user = host.sudoUser!
  const etc = path.join(host.dir, 'etc')
  const home = path.join(host.dir, `home-${user}`)
  await fsp.mkdir(etc, {recursive: true})
  await fsp.mkdir(home, {recursive: true})
  const machine = (name: string): string => {
    const text = fs.readFileSync(path.join('/etc', name), 'utf8')
    return text.endsWith('\n') || text === '' ? text : `${text}\n`
  }
  await fsp.writeFile(path.join(etc, 'passwd'), `${machine('passwd')}${user}:x:${SUDO_UID}:${SUDO_UID}:clusterctl test bed sudo user:${home}:/bin/bash\n`)
  await fsp.writeFile(path.join(etc, 'group'), `${machine('group')}${user}:x:${SUDO_UID}:\n`)
  // `*`: no password (key login only), but not locked (sshd refuses locked accounts)
  await fsp.writeFile(path.join(etc, 'shadow'), `${machine('shadow')}${user}:*:20000:0:99999:7:::\n`, {mode: 0o640})
  await fsp.writeFile(path.join(etc, 'hosts'), `${machine('hosts')}127.0.1.1 ${host.name}\n`)
  // sudo's own defaults (env_reset included): the runtime's environment does not survive it unless passed explicitly
  const sudoers = path.join(etc, 'sudoers')
  await fsp.writeFile(sudoers, ['# sudoers of test bed host ' + host.name + ' (bind-mounted over /etc/sudoers in its mount namespace only)', 'Defaults env_reset', 'Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"', 'root ALL=(ALL:ALL) ALL', `${user} ALL=(ALL:ALL) NOPASSWD: ALL`, ''].join('\n'))
  await fsp.chmod(sudoers, 0o440)
  for (const [name, text] of Object.entries(ROOT_DOTFILES)) await fsp.writeFile(path.join(home, name), name === '.bashrc' ? bashrc(shellOf(host)) : text)
  await fsp.chown(home, SUDO_UID, SUDO_UID)
  for (const name of Object.keys(ROOT_DOTFILES)) await fsp.chown(path.join(home, name), SUDO_UID, SUDO_UID)
}

/**
 * Change a running host's login shell start-up (its ~/.bashrc is rewritten in place,
 * so the bind mount shows the new one at once). `{delayMs: 0}` makes it ideal.
 */
export async function setShellDelay(tb: Testbed, name: string, shell: {delayMs: number; jitterMs?: number}): Promise<void> {
  const host = hostByName(tb, name)
  const next = {delayMs: nonNegative(shell.delayMs, 0, 'delayMs'), jitterMs: nonNegative(shell.jitterMs, 0, 'jitterMs')}
  await fsp.writeFile(path.join(host.dir, 'home', '.bashrc'), bashrc(next))
  if (host.sudoUser) await fsp.writeFile(path.join(host.dir, `home-${host.sudoUser}`, '.bashrc'), bashrc(next))
  host.shell = next
  await updateState(tb, (s) => {
    const h = s.testbed.hosts.find((x) => x.name === name)
    if (h) h.shell = next
  })
}

/** Binaries to hide on this host, by directory (real directories only: /bin is a link to /usr/bin). */
function hiddenBinaries(host: TestbedHost): Map<string, string[]> {
  const names = ALL_RUNTIMES.filter((r) => !host.runtimes.includes(r)).flatMap((r) => RUNTIME_BINARIES[r])
  if (host.runtimes.length === 0) names.push('runc')
  const out = new Map<string, string[]>()
  if (names.length === 0) return out
  for (const dir of BIN_DIRS) {
    let st: fs.Stats
    try {
      st = fs.lstatSync(dir)
    } catch {
      continue
    }
    if (!st.isDirectory()) continue
    const present = names.filter((n) => fs.existsSync(path.join(dir, n)))
    if (present.length > 0) out.set(dir, present)
  }
  return out
}

/** The shell script that sets up a freshly unshared host mount namespace. */
function mountScript(host: TestbedHost): string {
  const run = runDir(host)
  const lines = ['set -e', `hostname ${host.name}`, 'umount -R /run/netns 2>/dev/null || true']
  for (const [sub, target] of PRIVATE_RUN_DIRS) lines.push(`mount --bind ${path.join(run, sub)} ${target}`)
  for (const [sub, target] of PRIVATE_DISK_DIRS) lines.push(`mkdir -p ${path.join(host.dir, 'disk', sub)}`, `mount --bind ${path.join(host.dir, 'disk', sub)} ${target}`)
  for (const name of Object.keys(ROOT_DOTFILES)) {
    if (fs.existsSync(path.join(ROOT_HOME, name))) lines.push(`mount --bind ${path.join(host.dir, 'home', name)} ${path.join(ROOT_HOME, name)}`)
  }
  if (host.sudoUser) for (const name of SUDO_ETC) lines.push(`mount --bind ${path.join(host.dir, 'etc', name)} /etc/${name}`)
  for (const [dir, names] of hiddenBinaries(host)) {
    const wo = path.join(host.dir, 'hide', dir.replace(/\//g, '_'))
    lines.push(`rm -rf ${wo}`, `mkdir -p ${wo}`)
    for (const n of names) lines.push(`mknod ${path.join(wo, n)} c 0 0`)
    lines.push(`mount -t overlay cctl-hide -o ro,lowerdir=${wo}:${dir} ${dir}`)
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------
// Booting, stopping and inspecting hosts

function nsenterArgs(holderPid: number): string[] {
  return ['--target', String(holderPid), '--mount', '--uts', '--net', '--']
}

function hostMatch(host: TestbedHost, procs: HostProcs | undefined): ProcMatch {
  const netNs = netnsId(host.netns)
  return {netNs: new Set(netNs ? [netNs] : []), mntNs: new Set(procs?.mntNs ? [procs.mntNs] : []), dirs: [host.dir]}
}

/** The holder is alive and still holds the recorded mount namespace. */
function holderAlive(procs: HostProcs | undefined): procs is HostProcs & {holderPid: number; mntNs: string} {
  if (!procs?.holderPid || !procs.mntNs || !pidAlive(procs.holderPid)) return false
  return readlinkOr(`/proc/${procs.holderPid}/ns/mnt`) === procs.mntNs
}

function daemonAlive(pid: number | undefined, marker: string): boolean {
  if (!pidAlive(pid)) return false
  return (readProc(pid as number)?.cmdline ?? '').includes(marker)
}

async function ensureMachineDirs(): Promise<void> {
  for (const [, target] of [...PRIVATE_RUN_DIRS, ...PRIVATE_DISK_DIRS]) await fsp.mkdir(target, {recursive: true})
  await fsp.mkdir('/run/sshd', {recursive: true})
}

async function clearRunDir(host: TestbedHost): Promise<void> {
  const run = runDir(host)
  await unmountUnder(run)
  await fsp.rm(run, {recursive: true, force: true, maxRetries: 3})
  for (const [sub] of PRIVATE_RUN_DIRS) await fsp.mkdir(path.join(run, sub), {recursive: true})
}

/** Start the holder: a process in a new mount namespace and the host's network namespace. */
async function startHolder(host: TestbedHost): Promise<{holderPid: number; mntNs: string}> {
  const net = netnsId(host.netns)
  if (!net) throw new TestbedError(`network namespace ${host.netns} is missing`)
  const selfMnt = readlinkOr('/proc/self/ns/mnt')
  const pid = spawnDaemon('unshare', ['--mount', '--uts', '--propagation', 'private', '--', 'nsenter', `--net=/run/netns/${host.netns}`, '--', 'sleep', 'infinity'], path.join(host.dir, 'holder.log'))
  let mntNs: string | undefined
  await waitFor(`holder of ${host.name}`, 10_000, () => {
    const p = readProc(pid)
    if (isDead(p)) throw new TestbedError(`the namespace holder of ${host.name} died at start${logTail(path.join(host.dir, 'holder.log'))}`)
    if (p?.comm !== 'sleep' || p.net !== net || p.mnt === selfMnt) return false
    mntNs = p.mnt
    return true
  })
  await run('nsenter', ['--target', String(pid), '--mount', '--uts', '--', 'sh', '-c', mountScript(host)], {timeoutMs: 20_000})
  return {holderPid: pid, mntNs: mntNs as string}
}

async function startSshd(host: TestbedHost, holderPid: number): Promise<number> {
  const log = path.join(host.dir, 'sshd.log')
  const pid = spawnDaemon('nsenter', [...nsenterArgs(holderPid), '/usr/sbin/sshd', '-D', '-f', sshdConfigPath(host), '-E', log])
  await waitFor(`sshd of ${host.name}`, 20_000, async () => {
    if (!pidAlive(pid)) throw new TestbedError(`sshd of ${host.name} exited at start${logTail(log)}`)
    return sshBanner(host.ip, host.port, 1000)
  }, () => `sshd of ${host.name} does not answer on ${host.ip}:${host.port}${logTail(log)}`)
  return pid
}

/** The latency relay on the host's SSH address, inside its network namespace. */
async function startRelay(host: TestbedHost, holderPid: number): Promise<number | undefined> {
  if (!host.relay) return undefined
  const log = path.join(host.dir, 'relay.log')
  const pid = spawnDaemon('nsenter', [...nsenterArgs(holderPid), process.execPath, RELAY_SCRIPT, host.ip, String(host.port), '127.0.0.1', String(host.port), String(host.relay.latencyMs), String(host.relay.jitterMs)], log)
  await waitFor(`the relay of ${host.name}`, 10_000, async () => {
    if (!pidAlive(pid)) throw new TestbedError(`the relay of ${host.name} exited at start${logTail(log)}`)
    return (await probePort(host.ip, host.port, 500)) === 'open'
  })
  return pid
}

/** Only the bastion may reach the host's sshd: everyone else's SSH packets are dropped (a timeout, as behind a firewall). */
async function restrictToBastion(tb: Testbed, host: TestbedHost, holderPid: number): Promise<void> {
  if (!host.bastion) return
  const bastion = hostByName(tb, host.bastion)
  await run('nsenter', ['--target', String(holderPid), '--net', '--', 'iptables', '-w', '-A', 'INPUT', '-i', 'eth0', '-p', 'tcp', '--dport', String(host.port), '!', '-s', bastion.ip, '-j', 'DROP'])
}

async function startContainerd(host: TestbedHost, holderPid: number): Promise<number> {
  const log = path.join(host.dir, 'containerd.log')
  const sock = sockPath(host)
  const pid = spawnDaemon('nsenter', [
    ...nsenterArgs(holderPid),
    'containerd',
    '--config', containerdConfigPath(host),
    '--root', path.join(host.dir, 'containerd', 'root'),
    '--state', path.join(runDir(host), 'containerd-state'),
    '--address', sock,
    '--log-level', 'warn',
  ], log)
  await waitFor(`containerd of ${host.name}`, 20_000, async () => {
    if (!pidAlive(pid)) throw new TestbedError(`containerd of ${host.name} exited at start${logTail(log)}`)
    return unixSocketReady(sock)
  }, () => `containerd of ${host.name} does not answer on ${sock}${logTail(log)}`)
  return pid
}

/** A cold boot: fresh /run, new mount namespace, (relay,) sshd and (if a runtime) containerd. */
async function bootHost(tb: Testbed, host: TestbedHost): Promise<HostProcs> {
  await ensureMachineDirs()
  await clearRunDir(host)
  await setLink(host, 'up')
  const {holderPid, mntNs} = await startHolder(host)
  const relayPid = await startRelay(host, holderPid)
  const [sshdPid, containerdPid] = await Promise.all([
    startSshd(host, holderPid),
    host.runtimes.includes('containerd') ? startContainerd(host, holderPid) : Promise.resolve(undefined),
  ])
  // last: until here the machine checks that sshd answers
  await restrictToBastion(tb, host, holderPid)
  return {holderPid, mntNs, sshdPid, ...(containerdPid === undefined ? {} : {containerdPid}), ...(relayPid === undefined ? {} : {relayPid})}
}

function podmanEnv(host: TestbedHost): Record<string, string> {
  return {CONTAINERS_CONF: host.env.CONTAINERS_CONF ?? '', CONTAINERS_STORAGE_CONF: host.env.CONTAINERS_STORAGE_CONF ?? ''}
}

/**
 * Load the test image into the host's runtimes. Both list it as
 * localhost/clusterctl-test:latest: podman keeps the archive's RepoTag, and
 * `ctr image import` of a docker-archive whose tag is a fully qualified name
 * (localhost/...) keeps it as is (it only adds docker.io/ to short names).
 */
async function loadImage(tb: Testbed, host: TestbedHost, holderPid: number): Promise<void> {
  const jobs: Array<Promise<unknown>> = []
  if (host.runtimes.includes('podman')) {
    jobs.push((async () => {
      await run('nsenter', [...nsenterArgs(holderPid), 'podman', 'load', '-q', '-i', tb.imageArchive], {env: podmanEnv(host), timeoutMs: 120_000})
      await run('nsenter', [...nsenterArgs(holderPid), 'podman', 'image', 'exists', tb.image], {env: podmanEnv(host)})
    })())
  }
  if (host.runtimes.includes('containerd')) {
    jobs.push((async () => {
      const ctr = ['-a', sockPath(host), '-n', CONTAINERD_NAMESPACE]
      await run('ctr', [...ctr, 'images', 'import', tb.imageArchive], {timeoutMs: 120_000})
      const names = (await run('ctr', [...ctr, 'images', 'ls', '-q'])).split('\n')
      if (!names.includes(tb.image)) throw new TestbedError(`containerd of ${host.name} imported the test image as ${names.join(', ')}, not ${tb.image}`)
    })())
  }
  await Promise.all(jobs)
}

/** Build the test image from busybox-static once: `<base>/images/clusterctl-test.tar` (docker-archive). */
async function ensureImage(tb: Testbed): Promise<void> {
  if (fs.existsSync(tb.imageArchive)) return
  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p))
  if (!busybox) throw new TestbedError('busybox is missing: apt-get install -y busybox-static')
  const work = path.join(tb.baseDir, 'images', `build-${process.pid}`)
  await fsp.rm(work, {recursive: true, force: true})
  const root = path.join(work, 'rootfs')
  for (const sub of ['bin', 'etc', 'root', 'proc', 'sys', 'dev', 'www', 'var']) await fsp.mkdir(path.join(root, sub), {recursive: true})
  await fsp.mkdir(path.join(root, 'tmp'), {mode: 0o1777})
  await fsp.chmod(path.join(root, 'tmp'), 0o1777)
  await fsp.copyFile(busybox, path.join(root, 'bin', 'busybox'))
  await fsp.chmod(path.join(root, 'bin', 'busybox'), 0o755)
  for (const tool of IMAGE_TOOLS) await fsp.symlink('busybox', path.join(root, 'bin', tool))
  await fsp.symlink('bin', path.join(root, 'sbin'))
  await fsp.writeFile(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n')
  await fsp.writeFile(path.join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n')
  await fsp.writeFile(path.join(root, 'www', 'index.html'), 'clusterctl-test\n')
  const layer = path.join(work, 'layer.tar')
  await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', layer, '.'])
  // a scratch podman storage, used only to turn the layer into a docker-archive
  const env = {CONTAINERS_CONF: path.join(work, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(work, 'storage.conf')}
  await fsp.writeFile(env.CONTAINERS_CONF, `[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\ntmp_dir = "${work}/tmp"\nlock_type = "file"\n`)
  await fsp.writeFile(env.CONTAINERS_STORAGE_CONF, `[storage]\ndriver = "vfs"\ngraphroot = "${work}/root"\nrunroot = "${work}/run"\n`)
  await run('podman', ['import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', layer, tb.image], {env, timeoutMs: 120_000})
  const tmp = `${tb.imageArchive}.${process.pid}.tmp`
  await run('podman', ['save', '--format', 'docker-archive', '-o', tmp, tb.image], {env, timeoutMs: 120_000})
  await fsp.rename(tmp, tb.imageArchive)
  await unmountUnder(work)
  await fsp.rm(work, {recursive: true, force: true, maxRetries: 3})
}

export const HAPROXY_TEST_IMAGE = 'localhost/clusterctl-haproxy:2.6'

/** The shared libraries a binary loads, as `ldd` lists them (the loader too). */
async function sharedLibs(binary: string): Promise<string[]> {
  const out = await run('ldd', [binary])
  const libs: string[] = []
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)
    if (m) libs.push(m[1]!)
  }
  return libs
}

/**
 * The edge proxy's image for the test bed (nothing can be pulled here): HAProxy 2.6 from
 * the machine's Debian package (scripts/setup.sh installs it) with its shared libraries,
 * perl with perl-base (what the official image has and clusterctl's admin-socket client
 * uses) and busybox, as `<base>/images/clusterctl-haproxy.tar` (docker-archive), built
 * once. Tests load it into the edge nodes with `clusterctl image push` and set it with
 * `clusterctl edge image`.
 */
export async function ensureHaproxyImage(tb: Pick<Testbed, 'baseDir'>): Promise<{image: string; archive: string}> {
  const archive = path.join(tb.baseDir, 'images', 'clusterctl-haproxy.tar')
  if (fs.existsSync(archive)) return {image: HAPROXY_TEST_IMAGE, archive}
  const haproxy = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => fs.existsSync(p))
  if (!haproxy) throw new TestbedError('haproxy is missing: scripts/setup.sh installs the Debian package (apt-get install -y haproxy)')
  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p))
  if (!busybox) throw new TestbedError('busybox is missing: apt-get install -y busybox-static')
  const perlBase = '/usr/lib/x86_64-linux-gnu/perl-base'
  const work = path.join(tb.baseDir, 'images', `build-haproxy-${process.pid}`)
  await fsp.rm(work, {recursive: true, force: true})
  const root = path.join(work, 'rootfs')
  for (const sub of ['bin', 'usr/sbin', 'usr/bin', 'etc', 'root', 'proc', 'sys', 'dev', 'var/lib/haproxy', 'run']) await fsp.mkdir(path.join(root, sub), {recursive: true})
  await fsp.mkdir(path.join(root, 'tmp'), {mode: 0o1777})
  await fsp.chmod(path.join(root, 'tmp'), 0o1777)
  await fsp.copyFile(busybox, path.join(root, 'bin', 'busybox'))
  await fsp.chmod(path.join(root, 'bin', 'busybox'), 0o755)
  for (const tool of ['sh', 'cat', 'ls', 'sleep', 'ps', 'kill', 'grep']) await fsp.symlink('busybox', path.join(root, 'bin', tool))
  const binaries = [[haproxy, 'usr/sbin/haproxy'], ['/usr/bin/perl', 'usr/bin/perl']] as const
  const libs = new Set<string>()
  for (const [from, to] of binaries) {
    await fsp.copyFile(from, path.join(root, to))
    await fsp.chmod(path.join(root, to), 0o755)
    for (const lib of await sharedLibs(from)) libs.add(lib)
  }
  for (const lib of libs) {
    await fsp.mkdir(path.join(root, path.dirname(lib)), {recursive: true})
    await fsp.copyFile(lib, path.join(root, lib)) // follows the symlink: the file under the name the loader asks for
  }
  await fsp.mkdir(path.dirname(path.join(root, perlBase)), {recursive: true})
  await run('cp', ['-a', perlBase, path.join(root, perlBase)])
  await fsp.writeFile(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nhaproxy:x:99:99:haproxy:/var/lib/haproxy:/bin/false\n')
  await fsp.writeFile(path.join(root, 'etc', 'group'), 'root:x:0:\nhaproxy:x:99:\n')
  const layer = path.join(work, 'layer.tar')
  await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', layer, '.'])
  const env = {CONTAINERS_CONF: path.join(work, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(work, 'storage.conf')}
  await fsp.writeFile(env.CONTAINERS_CONF, `[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\ntmp_dir = "${work}/tmp"\nlock_type = "file"\n`)
  await fsp.writeFile(env.CONTAINERS_STORAGE_CONF, `[storage]\ndriver = "vfs"\ngraphroot = "${work}/root"\nrunroot = "${work}/run"\n`)
  await run('podman', ['import', '--change', 'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]', '--change', 'ENV PATH=/usr/sbin:/usr/bin:/bin', layer, HAPROXY_TEST_IMAGE], {env, timeoutMs: 120_000})
  const tmp = `${archive}.${process.pid}.tmp`
  await run('podman', ['save', '--format', 'docker-archive', '-o', tmp, HAPROXY_TEST_IMAGE], {env, timeoutMs: 120_000})
  await fsp.rename(tmp, archive)
  await unmountUnder(work)
  await fsp.rm(work, {recursive: true, force: true, maxRetries: 3})
  return {image: HAPROXY_TEST_IMAGE, archive}
}

/** Remove every container of a running host (best effort, before teardown kills everything). */
async function removeContainers(host: TestbedHost, procs: HostProcs | undefined): Promise<void> {
  if (!holderAlive(procs)) return
  const jobs: Array<Promise<unknown>> = []
  if (host.runtimes.includes('podman')) {
    jobs.push(tryRun('nsenter', [...nsenterArgs(procs.holderPid), 'podman', 'rm', '-af', '--time', '0'], {env: podmanEnv(host), timeoutMs: 20_000}))
  }
  if (host.runtimes.includes('containerd') && daemonAlive(procs.containerdPid, containerdConfigPath(host))) {
    jobs.push((async () => {
      const a = ['-a', sockPath(host), '--timeout', '5s']
      const nss = (await tryRun('ctr', [...a, 'namespaces', 'ls', '-q'], {timeoutMs: 10_000})).stdout.split('\n').filter(Boolean)
      for (const ns of nss) {
        const tasks = (await tryRun('ctr', [...a, '-n', ns, 'tasks', 'ls', '-q'], {timeoutMs: 10_000})).stdout.split('\n').filter(Boolean)
        await Promise.all(tasks.map((t) => tryRun('ctr', [...a, '-n', ns, 'tasks', 'kill', '-s', 'SIGKILL', t], {timeoutMs: 10_000})))
        await Promise.all(tasks.map((t) => tryRun('ctr', [...a, '-n', ns, 'tasks', 'rm', '-f', t], {timeoutMs: 10_000})))
        const ctrs = (await tryRun('ctr', [...a, '-n', ns, 'containers', 'ls', '-q'], {timeoutMs: 10_000})).stdout.split('\n').filter(Boolean)
        if (ctrs.length > 0) await tryRun('ctr', [...a, '-n', ns, 'containers', 'rm', ...ctrs], {timeoutMs: 10_000})
      }
    })())
  }
  await Promise.all(jobs)
}

// ---------------------------------------------------------------------------
// Public API

/**
 * Bring up a test bed: `hosts` full hosts (h1..hN, or the given specs) plus
 * `bare` hosts bare1..bareK with sshd only. Tears down whatever a previous run
 * left first, so it is idempotent. On failure it tears down what it made.
 */
export async function upTestbed(opts: {hosts: number | HostSpec[]; bare?: number}): Promise<Testbed> {
  const baseDir = testbedBaseDir()
  const specs: HostSpec[] = typeof opts.hosts === 'number' ? Array.from({length: opts.hosts}, (_, i) => ({name: `h${i + 1}`})) : [...opts.hosts]
  if (typeof opts.hosts === 'number' && (!Number.isInteger(opts.hosts) || opts.hosts < 0)) throw new TestbedError(`host count must be a whole number, not ${opts.hosts}`)
  const bare = opts.bare ?? 0
  if (!Number.isInteger(bare) || bare < 0) throw new TestbedError(`bare host count must be a whole number, not ${bare}`)
  for (let i = 1; i <= bare; i++) specs.push({name: `bare${i}`, runtimes: []})
  if (specs.length === 0) throw new TestbedError('a test bed needs at least one host')
  const names = specs.map((s) => s.name)
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup) throw new TestbedError(`host name ${dup} is given twice`)

  const previous = await readState(baseDir)
  const owner = previous?.owner
  if (owner && owner.pid !== process.pid && pidAlive(owner.pid) && startTime(owner.pid) === owner.startTime) {
    const cmd = readProc(owner.pid)?.cmdline.slice(0, 100) ?? ''
    throw new TestbedError(`the test bed in ${baseDir} is in use by pid ${owner.pid} (${cmd}): wait for it to finish, or end it with \`npm run testbed -- down\``)
  }

  await downTestbed()

  await fsp.mkdir(baseDir, {recursive: true})
  await fsp.writeFile(markerPath(baseDir), 'made by test/testbed/testbed.ts; deleted by `npm run testbed -- down`\n')
  const keyPath = path.join(baseDir, 'client', 'id_ed25519')
  await fsp.mkdir(path.dirname(keyPath), {recursive: true, mode: 0o700})
  await sshKeygen(keyPath, 'clusterctl-testbed-client')
  await fsp.mkdir(path.join(baseDir, 'images'), {recursive: true})
  const used = new Set<string>()
  const tb: Testbed = {
    baseDir,
    keyPath,
    publicKey: (await fsp.readFile(`${keyPath}.pub`, 'utf8')).trim(),
    bridge: BRIDGE,
    gatewayIp: GATEWAY_IP,
    image: TEST_IMAGE,
    imageArchive: path.join(baseDir, 'images', 'clusterctl-test.tar'),
    hosts: specs.map((s) => makeHost(baseDir, s, allocateIp(used, (s.runtimes ?? ALL_RUNTIMES).length === 0))),
  }
  const state: StateFile = {version: 1, createdAt: new Date().toISOString(), owner: {pid: process.pid, startTime: startTime(process.pid) ?? ''}, testbed: tb, procs: {}}
  await writeState(state)
  try {
    const image = ensureImage(tb)
    image.catch(() => {})
    await ensureBridge()
    await Promise.all(tb.hosts.map((h) => writeHostFiles(tb, h)))
    for (const h of tb.hosts) await createHostNetwork(h)
    await Promise.all(tb.hosts.map(async (h) => {
      const procs = await bootHost(tb, h)
      state.procs[h.name] = procs
      if (h.runtimes.length > 0) {
        await image
        await loadImage(tb, h, procs.holderPid as number)
      }
    }))
    await image
    await writeState(state)
  } catch (e) {
    await writeState(state).catch(() => {})
    await downTestbed().catch(() => {})
    throw e
  }
  return tb
}

/**
 * Tear the test bed down: remove containers, end every process, unmount, delete
 * namespaces and links, delete the base dir, then check that nothing is left.
 * Works from the state file alone (the process that made the test bed may be
 * gone), finds leftovers without one, and is safe to run twice.
 */
export async function downTestbed(): Promise<void> {
  const baseDir = testbedBaseDir()
  const state = await readState(baseDir)
  if (state) await Promise.all(state.testbed.hosts.map((h) => removeContainers(h, state.procs[h.name]).catch(() => {})))
  const match = (): ProcMatch => ({
    netNs: new Set(cctlNetns().map(netnsId).filter((x): x is string => x !== undefined)),
    mntNs: new Set(Object.values(state?.procs ?? {}).map((p) => p.mntNs).filter((x): x is string => x !== undefined)),
    dirs: [baseDir],
  })
  await killMatching(match(), 'the test bed processes')
  await unmountUnder(baseDir)
  for (const link of cctlLinks().filter((l) => l.endsWith('-o'))) await tryRun('ip', ['link', 'del', link])
  for (const ns of cctlNetns()) await tryRun('ip', ['netns', 'del', ns])
  for (const link of cctlLinks()) await tryRun('ip', ['link', 'del', link])
  if (fs.existsSync(baseDir)) {
    const entries = await fsp.readdir(baseDir)
    if (entries.length > 0 && !entries.includes(path.basename(markerPath(baseDir))) && !entries.includes('state.json')) {
      throw new TestbedError(`refusing to delete ${baseDir}: it is not a test bed dir (no ${path.basename(markerPath(baseDir))}); point CLUSTERCTL_TESTBED_DIR elsewhere or delete it yourself`)
    }
    await fsp.rm(baseDir, {recursive: true, force: true, maxRetries: 5, retryDelay: 100})
  }
  const left: string[] = []
  const netns = cctlNetns()
  if (netns.length) left.push(`network namespaces ${netns.join(', ')}`)
  const links = cctlLinks()
  if (links.length) left.push(`links ${links.join(', ')}`)
  const mounts = mountsUnder(baseDir)
  if (mounts.length) left.push(`mounts ${mounts.join(', ')}`)
  const procs = selectProcs(listProcs(), match())
  if (procs.size) left.push(`processes ${describeProcs(procs.values())}`)
  if (fs.existsSync(baseDir)) left.push(`directory ${baseDir}`)
  if (left.length) throw new TestbedError(`teardown left things behind: ${left.join('; ')}`)
}

/**
 * Crash a host like a power cut: link down, every process of it killed
 * (sshd and its sessions, containerd and its shims, conmon and containers),
 * its /run emptied. It then answers nothing (connections time out).
 */
export async function crashHost(tb: Testbed, name: string): Promise<void> {
  const host = hostByName(tb, name)
  const state = await mustState(tb)
  await setLink(host, 'down')
  await killMatching(hostMatch(host, state.procs[name]), `the processes of ${name}`)
  await unmountUnder(host.dir)
  await clearRunDir(host)
  state.procs[name] = {}
  await writeState(state)
}

/**
 * Bring a host back: link up, and if it crashed a cold boot (fresh /run, so
 * podman and containerd see a reboot, and a fresh network namespace) with the same host key; if only sshd or
 * containerd died (killSshd), those are started again. A no-op on a running host.
 */
export async function restartHost(tb: Testbed, name: string): Promise<void> {
  const host = hostByName(tb, name)
  const state = await mustState(tb)
  const procs = state.procs[name]
  if (!holderAlive(procs)) {
    // whatever is left of the old boot goes first
    await killMatching(hostMatch(host, procs), `the remains of ${name}`)
    await resetHostNetwork(host)
    state.procs[name] = await bootHost(tb, host)
  } else {
    await setLink(host, 'up')
    if (host.relay && !daemonAlive(procs.relayPid, RELAY_SCRIPT)) procs.relayPid = await startRelay(host, procs.holderPid)
    if (!daemonAlive(procs.sshdPid, sshdConfigPath(host))) procs.sshdPid = await startSshd(host, procs.holderPid)
    if (host.runtimes.includes('containerd') && !daemonAlive(procs.containerdPid, containerdConfigPath(host))) procs.containerdPid = await startContainerd(host, procs.holderPid)
  }
  await writeState(state)
  if (!host.bastion) await waitFor(`ssh of ${name} after restart`, 10_000, () => sshBanner(host.ip, host.port, 1000))
}

/** Partition: the host's link goes down; its processes and containers keep running. */
export async function partitionHost(tb: Testbed, name: string): Promise<void> {
  await setLink(hostByName(tb, name), 'down')
}

/** Heal a partition: link up, and wait until sshd answers again if it is running. */
export async function healHost(tb: Testbed, name: string): Promise<void> {
  const host = hostByName(tb, name)
  await setLink(host, 'up')
  const state = await readState(tb.baseDir)
  if (!host.bastion && daemonAlive(state?.procs[name]?.sshdPid, sshdConfigPath(host))) {
    await waitFor(`ssh of ${name} after heal`, 10_000, () => sshBanner(host.ip, host.port, 1000))
  }
}

async function stopSshd(tb: Testbed, host: TestbedHost): Promise<void> {
  const state = await mustState(tb)
  const procs = state.procs[host.name] ?? {}
  const marker = sshdConfigPath(host)
  // the listener and its sessions, so pooled connections break too; plus any other sshd of this host
  const listeners = listProcs().filter((p) => !isDead(p) && p.comm === 'sshd' && p.cmdline.includes(marker)).map((p) => p.pid)
  if (procs.sshdPid !== undefined && daemonAlive(procs.sshdPid, marker)) listeners.push(procs.sshdPid)
  await killMatching({netNs: new Set(), mntNs: new Set(), dirs: [], expandMnt: false}, `sshd of ${host.name}`, listeners)
  delete procs.sshdPid
  state.procs[host.name] = procs
  await writeState(state)
}

/** Kill the host's sshd (and its sessions): the link stays up, so connections are refused. */
export async function killSshd(tb: Testbed, name: string): Promise<void> {
  const host = hostByName(tb, name)
  await stopSshd(tb, host)
  if (linkState(host.vethOuter) === 'up') {
    await waitFor(`port ${host.port} of ${name} to refuse`, 5000, async () => (await probePort(host.ip, host.port, 500)) === 'refused')
  }
}

/** Give the host a new host key and restart its sshd (for "a changed host key is refused" tests). */
export async function rekeyHost(tb: Testbed, name: string): Promise<void> {
  const host = hostByName(tb, name)
  const state = await mustState(tb)
  const procs = state.procs[name]
  if (!holderAlive(procs)) throw new TestbedError(`${name} is down (crashed): restart it before rekeying`)
  await stopSshd(tb, host)
  await sshKeygen(host.hostKeyPath, `${host.name}@clusterctl-testbed`)
  const pid = await startSshd(host, procs.holderPid)
  await updateState(tb, (s) => {
    s.procs[name] = {...s.procs[name], sshdPid: pid}
  })
}

/** Add one more host to a running test bed. It is also appended to `tb.hosts`. */
export async function addHost(tb: Testbed, spec: HostSpec): Promise<TestbedHost> {
  const state = await mustState(tb)
  if (state.testbed.hosts.some((h) => h.name === spec.name)) throw new TestbedError(`the test bed already has a host named ${spec.name}`)
  if (fs.existsSync(`/run/netns/${PREFIX}${spec.name}`) || linkExists(`${PREFIX}${spec.name}-o`)) {
    throw new TestbedError(`${PREFIX}${spec.name} already exists on this machine: run \`npm run testbed -- down\` first`)
  }
  const used = new Set(state.testbed.hosts.map((h) => h.ip))
  const host = makeHost(tb.baseDir, spec, allocateIp(used, (spec.runtimes ?? ALL_RUNTIMES).length === 0))
  state.testbed.hosts.push(host)
  await writeState(state)
  if (!tb.hosts.some((h) => h.name === host.name)) tb.hosts.push(host)
  await writeHostFiles(tb, host)
  await createHostNetwork(host)
  const procs = await bootHost(tb, host)
  await updateState(tb, (s) => {
    s.procs[host.name] = procs
  })
  if (host.runtimes.length > 0) {
    await ensureImage(tb)
    await loadImage(tb, host, procs.holderPid as number)
  }
  return host
}

// ---------------------------------------------------------------------------
// Conveniences for tests and the CLI

/** OpenSSH client arguments (before the command) to reach `root@host` with the test bed key. */
export function sshArgs(tb: Testbed, host: TestbedHost, opts: {connectTimeoutS?: number; user?: string} = {}): string[] {
  const common = ['-i', tb.keyPath, '-o', 'UserKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', `ConnectTimeout=${opts.connectTimeoutS ?? 5}`]
  // a host behind a bastion is reached through it (root@bastion, the same key)
  const jump = host.bastion ? hostByName(tb, host.bastion) : undefined
  const proxy = jump ? ['-o', `ProxyCommand=ssh ${common.join(' ')} -p ${jump.port} -W %h:%p root@${jump.ip}`] : []
  return [...common, ...proxy, '-p', String(host.port), `${opts.user ?? 'root'}@${host.ip}`]
}

/** Run a shell command on a host over SSH; never throws for a non-zero exit. */
export async function sshRun(tb: Testbed, name: string, command: string, opts: {timeoutMs?: number; connectTimeoutS?: number; user?: string} = {}): Promise<{code: number; stdout: string; stderr: string}> {
  const host = hostByName(tb, name)
  const r = await tryRun('ssh', [...sshArgs(tb, host, opts), command], {timeoutMs: opts.timeoutMs ?? 60_000})
  return {code: r.code, stdout: r.stdout, stderr: r.stderr}
}

export interface HostStatus {
  name: string
  ip: string
  runtimes: Runtime[]
  link: 'up' | 'down' | 'missing'
  holder: {pid: number | undefined; alive: boolean}
  sshd: {pid: number | undefined; alive: boolean}
  containerd: {pid: number | undefined; alive: boolean} | undefined
  ssh: 'open' | 'refused' | 'timeout' | 'unreachable'
}

export async function testbedStatus(tb: Testbed): Promise<HostStatus[]> {
  const state = await readState(tb.baseDir)
  return Promise.all(tb.hosts.map(async (h) => {
    const p = state?.procs[h.name] ?? {}
    return {
      name: h.name,
      ip: h.ip,
      runtimes: h.runtimes,
      link: linkState(h.vethOuter),
      holder: {pid: p.holderPid, alive: holderAlive(p)},
      sshd: {pid: p.sshdPid, alive: daemonAlive(p.sshdPid, sshdConfigPath(h))},
      containerd: h.runtimes.includes('containerd') ? {pid: p.containerdPid, alive: daemonAlive(p.containerdPid, containerdConfigPath(h))} : undefined,
      ssh: await probePort(h.ip, h.port, 700),
    }
  }))
}
