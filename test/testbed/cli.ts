/**
 * Shell entry to the test bed: `npm run testbed -- <command>`.
 *
 *   up N [--bare K]     N full hosts h1..hN (podman + containerd + test image), K bare hosts bare1..bareK
 *   down                end everything, delete everything, check nothing is left
 *   status              hosts, addresses, pids, links, ssh port
 *   crash NAME          power cut: link down, every process killed, /run emptied
 *   restart NAME        bring a crashed host back (same host key), or restart its dead sshd/containerd
 *   partition NAME      link down, processes keep running
 *   heal NAME           link up again
 *   kill-sshd NAME      sshd dead, link up: connections are refused
 *   rekey NAME          new host key, sshd restarted
 *   env NAME            export lines for podman/ctr against that host (eval "$(npm run -s testbed -- env h1)")
 *   ssh NAME [-- CMD...]
 */
import {spawn} from 'node:child_process'

import {
  crashHost,
  downTestbed,
  healHost,
  hostByName,
  killSshd,
  loadTestbed,
  partitionHost,
  rekeyHost,
  restartHost,
  sshArgs,
  testbedBaseDir,
  testbedStatus,
  upTestbed,
  type Testbed,
} from './testbed.js'

const USAGE = 'usage: npm run testbed -- up N [--bare K] | down | status | crash NAME | restart NAME | partition NAME | heal NAME | kill-sshd NAME | rekey NAME | env NAME | ssh NAME [-- CMD...]'

class UsageError extends Error {}

function count(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`${what} must be a whole number, not ${value ?? 'nothing'}`)
  return Number(value)
}

async function current(): Promise<Testbed> {
  const tb = await loadTestbed()
  if (!tb) throw new Error(`no test bed is up (no state file in ${testbedBaseDir()}): run \`npm run testbed -- up 3 --bare 1\``)
  return tb
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  const name = (): string => {
    if (rest[0] === undefined || rest[0].startsWith('-')) throw new UsageError(`${cmd} needs a host name`)
    return rest[0]
  }
  const t0 = Date.now()
  switch (cmd) {
    case 'up': {
      const hosts = count(rest[0], 'the host count')
      const i = rest.indexOf('--bare')
      const bare = i >= 0 ? count(rest[i + 1], '--bare') : 0
      const tb = await upTestbed({hosts, bare})
      for (const h of tb.hosts) console.log(`${h.name}\t${h.ip}\t${h.runtimes.join(',') || 'bare'}`)
      console.log(`test bed up in ${seconds(t0)}: ssh -i ${tb.keyPath} root@${tb.hosts[0]?.ip ?? ''} (or npm run testbed -- ssh ${tb.hosts[0]?.name ?? ''})`)
      return 0
    }
    case 'down':
      await downTestbed()
      console.log(`test bed down in ${seconds(t0)}: nothing left`)
      return 0
    case 'status': {
      const tb = await current()
      console.log(`base ${tb.baseDir}  bridge ${tb.bridge} ${tb.gatewayIp}/24  image ${tb.image}`)
      console.log(['host', 'ip', 'runtimes', 'link', 'holder', 'sshd', 'containerd', 'ssh:22'].join('\t'))
      const pid = (p: {pid: number | undefined; alive: boolean} | undefined) => (p === undefined ? '-' : `${p.pid ?? '?'}${p.alive ? '' : ' dead'}`)
      for (const s of await testbedStatus(tb)) {
        console.log([s.name, s.ip, s.runtimes.join(',') || 'bare', s.link, pid(s.holder), pid(s.sshd), pid(s.containerd), s.ssh].join('\t'))
      }
      return 0
    }
    case 'crash':
      await crashHost(await current(), name())
      console.log(`${name()} crashed`)
      return 0
    case 'restart':
      await restartHost(await current(), name())
      console.log(`${name()} is running (${seconds(t0)})`)
      return 0
    case 'partition':
      await partitionHost(await current(), name())
      console.log(`${name()} is partitioned`)
      return 0
    case 'heal':
      await healHost(await current(), name())
      console.log(`${name()} is healed`)
      return 0
    case 'kill-sshd':
      await killSshd(await current(), name())
      console.log(`sshd of ${name()} is dead; connections are refused`)
      return 0
    case 'rekey':
      await rekeyHost(await current(), name())
      console.log(`${name()} has a new host key`)
      return 0
    case 'env': {
      const host = hostByName(await current(), name())
      if (Object.keys(host.env).length === 0) {
        console.log(`# ${host.name} is bare: it has no container runtime`)
        return 0
      }
      console.log(`# ${host.name} (${host.ip}): podman/ctr from this shell use its storage and containerd.`)
      console.log(`# Commands that mount or make network namespaces (podman run/start/exec) belong on the host: npm run testbed -- ssh ${host.name} -- podman ...`)
      for (const [k, v] of Object.entries(host.env)) console.log(`export ${k}=${v}`)
      return 0
    }
    case 'ssh': {
      const tb = await current()
      const host = hostByName(tb, name())
      const sep = rest.indexOf('--')
      const command = sep >= 0 ? rest.slice(sep + 1) : rest.slice(1)
      const args = [...(command.length === 0 ? ['-t'] : []), ...sshArgs(tb, host), ...command]
      return new Promise((resolve) => {
        const child = spawn('ssh', args, {stdio: 'inherit'})
        child.on('error', (e) => {
          console.error(`testbed: could not run ssh: ${e.message}`)
          resolve(1)
        })
        child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1)))
      })
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE)
      return cmd === undefined ? 2 : 0
    default:
      throw new UsageError(`unknown command ${cmd}`)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e)
    console.error(`testbed: ${msg.split('\n').join(' ')}`)
    if (e instanceof UsageError) console.error(USAGE)
    process.exitCode = e instanceof UsageError ? 2 : 1
  },
)
