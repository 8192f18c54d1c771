/**
 * The foundation's figures, on a testbed of 10 real hosts (sshd + podman + containerd):
 * - inventory (add-node: connect, probe, save) of 1 host, and of 10 in parallel, through
 *   the built CLI, beside OpenSSH's `ssh HOST true` per host run in the same process;
 * - `clusterctl nodes --json` (10 nodes in the state file) beside `node -e 0`.
 * Medians of several runs; ratios against the baselines, because the machine is shared.
 */
import {execa} from 'execa'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {downTestbed, sshArgs, type Testbed, upTestbed} from '../test/testbed/testbed.js'
import type {BenchSection} from './types.js'

export const name = 'foundation'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'run.js')
const HOSTS = 10
const RUNS = 5

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t) / 1e6
}

export async function run(): Promise<BenchSection> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'commands'))) throw new Error('build first: npm run build')
  const tb = await upTestbed({hosts: HOSTS})
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'clusterctl-bench-'))
  try {
    return await measure(tb, home)
  } finally {
    fs.rmSync(home, {recursive: true, force: true})
    await downTestbed()
  }
}

async function measure(tb: Testbed, home: string): Promise<BenchSection> {
  let round = 0
  const cli = async (args: string[]): Promise<{stdout: string}> => {
    const r = await execa(process.execPath, [BIN, ...args], {env: {HOME: home, CLUSTERCTL_DB: path.join(home, `state-${round}.db`), NO_COLOR: '1', SSH_AUTH_SOCK: ''}})
    return {stdout: r.stdout}
  }

  const ssh = (host: Testbed['hosts'][number]) => execa('ssh', [...sshArgs(tb, host), 'true'])
  const one: number[] = []
  const ten: number[] = []
  const sshOne: number[] = []
  const sshTen: number[] = []
  const probes: number[] = []
  for (let i = 0; i < RUNS; i++) {
    round = i * 2
    sshOne.push(await timed(() => ssh(tb.hosts[0]!)))
    one.push(await timed(() => cli(['add-node', `root@${tb.hosts[0]!.ip}`, '--key', tb.keyPath])))
    round = i * 2 + 1
    sshTen.push(await timed(() => Promise.all(tb.hosts.map((h) => ssh(h)))))
    ten.push(await timed(() => cli(['add-node', ...tb.hosts.map((h) => `root@${h.ip}`), '--key', tb.keyPath])))
    const inv = JSON.parse((await cli(['node', 'inventory', '--all', '--json'])).stdout) as {nodes: Array<{inventory: {probeMs: number}}>}
    probes.push(...inv.nodes.map((n) => n.inventory.probeMs))
  }

  // nodes --json with 10 nodes recorded, beside a bare node start
  round = 1
  const list: number[] = []
  const bare: number[] = []
  for (let i = 0; i < 15; i++) {
    bare.push(await timed(() => execa(process.execPath, ['-e', '0'])))
    list.push(await timed(() => cli(['nodes', '--json'])))
  }

  const f = (ms: number) => `${Math.round(ms)} ms`
  const r = (a: number, b: number) => `${(a / b).toFixed(1)}x`
  return {
    title: 'Foundation: inventory and start-up',
    body: `
Testbed of ${HOSTS} hosts (network namespaces on this machine, each with its own sshd,
podman and containerd). Medians of ${RUNS} runs; \`add-node\` is the whole command: start,
connect, one probe round trip (including \`podman info\` and \`ctr version\` on the host),
host-key pinning and the write to a fresh state file.

| what | clusterctl | baseline | ratio |
|---|---|---|---|
| inventory of 1 host (\`add-node\`) vs \`ssh HOST true\` | ${f(median(one))} | ${f(median(sshOne))} | ${r(median(one), median(sshOne))} |
| inventory of ${HOSTS} hosts in parallel (one \`add-node\`) vs ${HOSTS} \`ssh HOST true\` in parallel | ${f(median(ten))} | ${f(median(sshTen))} | ${r(median(ten), median(sshTen))} |
| ${HOSTS} in parallel vs 1 (clusterctl) | ${f(median(ten))} | ${f(median(one))} | ${r(median(ten), median(one))} |
| \`clusterctl nodes --json\` (${HOSTS} nodes) vs \`node -e 0\` | ${f(median(list))} | ${f(median(bare))} | ${r(median(list), median(bare))} |

The probe's round trip as recorded in each inventory (\`probeMs\`) during
\`node inventory --all\` over the ${HOSTS} hosts at once (${HOSTS} \`podman info\` sharing this
machine's ${os.cpus().length} cores): median ${f(median(probes))}, max ${f(Math.max(...probes))} over ${probes.length} probes.
`,
  }
}
