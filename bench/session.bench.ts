/**
 * Shell sessions (src/ssh/session.ts) on slow-shell hosts: one observation pass's wall
 * time and the CPU it costs the nodes, with one exec per command (the baseline) and with
 * long-lived shell sessions, in the same run on the same testbed.
 *
 * Each host gets a ~/.bashrc like a version manager's init (conda, pyenv, nvm...): a
 * sleep and a CPU-bound loop, sourced by bash for every command sshd runs. Node CPU is
 * the growth of user+system time (own and reaped children) summed over every process in
 * the hosts' network namespaces (sshd and everything it ran), read from /proc.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {randomUUID} from 'node:crypto'

import {systemClock} from '../src/core/clock.js'
import type {ServiceContext} from '../src/core/context.js'
import {type PassOptions, runPass} from '../src/core/reconcile/pass.js'
import type {PassReport} from '../src/core/reconcile/report.js'
import {addNodes} from '../src/core/services/nodes.js'
import {Store} from '../src/core/state/store.js'
import {createConnector, SshPool} from '../src/ssh/index.js'
import {downTestbed, loadTestbed, type Testbed, testbedBaseDir, upTestbed} from '../test/testbed/testbed.js'
import type {BenchSection} from './types.js'

export const name = 'session'

const HOSTS = 3
const PASSES = 8
const GIB = 1024 ** 3
/** The slow shell: what bash sources for every exec on these hosts. */
const SLOW_BASHRC = '# a version manager\'s init, as on many real servers\nsleep 0.5\ni=0; while [ $i -lt 60000 ]; do i=$((i+1)); done\n'
/** Generous deadlines: the baseline's slow shells must not read as missed heartbeats here. */
const PASS: PassOptions = {seed: 42, observe: {heartbeatTimeoutMs: 60_000, timeoutMs: 120_000}}
const TICK_MS = 1000 / 100 // USER_HZ: /proc counts CPU time in 1/100 s on Linux

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** CPU ms (utime+stime+cutime+cstime) of every live process in these network namespaces. */
function nodeCpuMs(tb: Testbed): number {
  const inodes = new Set(tb.hosts.map((h) => `net:[${fs.statSync(path.join('/run/netns', h.netns)).ino}]`))
  let ticks = 0
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      if (!inodes.has(fs.readlinkSync(`/proc/${pid}/ns/net`))) continue
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks * TICK_MS
}

function assertQuiet(report: PassReport): void {
  const problems = [...report.unobserved.map((u) => `unobserved ${u.node}: ${u.error}`), ...report.nodes.map((n) => `node ${n.node} ${n.from} -> ${n.to}`), ...report.actions.map((a) => `${a.kind} ${a.detail}`)]
  if (problems.length > 0) throw new Error(`session bench: the pass was expected to change nothing: ${problems.slice(0, 5).join('; ')}`)
}

export async function run(): Promise<BenchSection> {
  const existing = await loadTestbed()
  if (existing) throw new Error(`a testbed is already up in ${testbedBaseDir()}: run under \`flock /tmp/cctl-e2e.lock npm run bench -- session\`.`)
  const tb = await upTestbed({hosts: HOSTS})
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'clusterctl-bench-session-'))
  try {
    for (const host of tb.hosts) fs.appendFileSync(path.join(host.dir, 'home', '.bashrc'), SLOW_BASHRC)
    return await measure(tb, home)
  } finally {
    fs.rmSync(home, {recursive: true, force: true})
    await downTestbed()
  }
}

async function measure(tb: Testbed, home: string): Promise<BenchSection> {
  const store = Store.open(path.join(home, 'state.db'), systemClock)
  const pools: SshPool[] = []
  const newPool = (sessions: boolean) => {
    const pool = new SshPool({homeDir: home, agentSocket: null, knownHostsFiles: [], sessions})
    pools.push(pool)
    return pool
  }
  const ctxOf = (pool: SshPool): ServiceContext => ({store, clock: systemClock, newId: () => randomUUID(), connect: createConnector(pool, {homeDir: home})})
  try {
    const adding = newPool(false)
    const added = await addNodes(
      tb.hosts.map((h) => ({target: `root@${h.ip}`, name: h.name, keyPath: tb.keyPath, runtime: 'podman' as const, resources: {cpuMilli: 16_000, memBytes: 64 * GIB}})),
      ctxOf(adding),
    )
    if (added.failed.length > 0) throw new Error(`add-node failed: ${added.failed.map((f) => `${f.target}: ${(f.error as Error).message}`).join('; ')}`)
    await adding.closeAll()

    // One shell start-up alone, for scale: `true` over an exec on a warm connection.
    const probe = newPool(false)
    const endpoint = {host: tb.hosts[0]!.ip, port: tb.hosts[0]!.port, user: 'root', keyPath: tb.keyPath, identityFiles: []}
    await probe.exec(endpoint, ['true'])
    const shellCpu0 = nodeCpuMs(tb)
    const shellT0 = performance.now()
    for (let i = 0; i < 4; i++) await probe.exec(endpoint, ['true'])
    const shell = {wall: (performance.now() - shellT0) / 4, cpu: (nodeCpuMs(tb) - shellCpu0) / 4}
    await probe.closeAll()

    const modes: Record<'exec' | 'session', {cold: number; wall: number[]; cpu: number[]; opened: number; commands: number}> = {
      exec: {cold: 0, wall: [], cpu: [], opened: 0, commands: 0},
      session: {cold: 0, wall: [], cpu: [], opened: 0, commands: 0},
    }
    // Interleaved rounds, so both modes see the same machine load.
    for (let round = 0; round < 2; round++) {
      for (const mode of ['exec', 'session'] as const) {
        const pool = newPool(mode === 'session')
        const ctx = ctxOf(pool)
        const t0 = performance.now()
        assertQuiet(await runPass(ctx, PASS))
        if (round === 0) modes[mode].cold = performance.now() - t0
        for (let i = 0; i < PASSES / 2; i++) {
          const cpu0 = nodeCpuMs(tb)
          const t = performance.now()
          assertQuiet(await runPass(ctx, PASS))
          modes[mode].wall.push(performance.now() - t)
          modes[mode].cpu.push((nodeCpuMs(tb) - cpu0) / HOSTS)
        }
        const stats = pool.stats()
        modes[mode].opened += stats.sessionsOpened
        modes[mode].commands += stats.sessionCommands
        await pool.closeAll()
      }
    }

    const ms = (v: number) => `${Math.round(v).toLocaleString('en-US')} ms`
    const e = modes.exec
    const s = modes.session
    const [ew, sw, ec, sc] = [median(e.wall), median(s.wall), median(e.cpu), median(s.cpu)]
    return {
      title: 'Shell sessions: one pass on slow-shell hosts',
      body: [
        `Testbed of ${HOSTS} hosts whose root ~/.bashrc imitates a version manager's init (\`sleep 0.5\` and a 60,000-step shell loop), which bash`,
        'sources for every command sshd runs. One shell start-up alone (`true` over an exec on an open connection, median of 4):',
        `${ms(shell.wall)} and ${ms(shell.cpu)} of the node's CPU.`,
        '',
        `A pass here is the daemon's quiet pass: one observation per node (heartbeat, usage, \`podman ps\`), no jobs. The same state file and`,
        `hosts; baseline: one exec per command (\`CLUSTERCTL_SSH_SESSIONS=0\`), against long-lived shell sessions (the default). Warm passes`,
        `(open connections, the daemon's case): medians of ${PASSES}, the two modes interleaved in two rounds. Node CPU: user+system time of`,
        'every process in the hosts\' network namespaces (sshd, the shells, podman), per host and pass, from /proc.',
        '',
        '| what | one exec per command | shell sessions | ratio |',
        '|---|---|---|---|',
        `| pass wall time, warm | ${ms(ew)} | ${ms(sw)} | ${(ew / sw).toFixed(1)}x faster |`,
        `| node CPU per host per pass | ${ms(ec)} | ${ms(sc)} | ${(ec / Math.max(sc, TICK_MS)).toFixed(1)}x less |`,
        `| first pass (new connections${'; sessions: opening them'}) | ${ms(e.cold)} | ${ms(s.cold)} | ${(e.cold / s.cold).toFixed(1)}x |`,
        '',
        `Sessions opened over the ${PASSES + 2} session passes: ${s.opened} for ${HOSTS} hosts (${s.commands} commands through them); the exec mode opened ${e.opened}.`,
      ].join('\n'),
    }
  } finally {
    await Promise.all(pools.map((p) => p.closeAll().catch(() => {})))
    store.close()
  }
}
