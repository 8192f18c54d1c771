/**
 * The foundation end to end: real sshd hosts of the testbed, the built CLI,
 * a real state file. Nothing here is mocked.
 */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import {crashHost, killSshd, rekeyHost, restartHost} from '../testbed/testbed.js'
import {CliSandbox} from './cli.js'
import {getTestbed} from './fixture.js'

interface NodeJson {
  id: string
  name: string
  state: string
  address: {host: string; port: number | null; user: string | null}
  resolvedAddress: string
  runtime: string
  sudo: boolean
  labels: Record<string, string>
  hostKey: {algorithm: string; fingerprint: string} | null
  capacity: {cpus: number; memBytes: number; diskBytes: number; gpus: number}
  reserved: {cpus: number; memBytes: number; diskBytes: number; gpus: number}
  allocatable: {cpus: number; memBytes: number; diskBytes: number; gpus: number}
  declared: Record<string, number>
  createdAt: string
  inventoriedAt: string
  lastSeenAt: string | null
  inventory?: {
    hostname: string | null
    cpu: {threads: number | null; cores: number | null; sockets: number | null; model: string | null}
    memory: {totalBytes: number | null; availableBytes: number | null}
    runtimes: {podman: {usable: boolean; version: string | null}; containerd: {usable: boolean; version: string | null}}
    network: Array<{name: string; addresses: string[]}>
    clockOffsetMs: number | null
    probeMs: number
  }
}

interface ErrorJson {
  error: {code: string; message: string; hint?: string; exitCode: number}
}

const NODE_KEYS = ['id', 'name', 'state', 'adminState', 'missedHeartbeats', 'heartbeatError', 'heartbeatLatency', 'stateSince', 'usage', 'address', 'resolvedAddress', 'runtime', 'sudo', 'labels', 'hostKey', 'capacity', 'reserved', 'allocatable', 'declared', 'createdAt', 'inventoriedAt', 'lastSeenAt', 'conditions', 'healthProbedAt', 'edge']

const machineThreads = Number(execFileSync('nproc', {encoding: 'utf8'}).trim())
const machineMemBytes = Number(/MemTotal:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024

function fingerprintOfFile(publicKeyFile: string): string {
  return execFileSync('ssh-keygen', ['-lf', publicKeyFile], {encoding: 'utf8'}).split(' ')[1]!
}

/** How many sessions sshd on that host accepted so far (LogLevel VERBOSE logs each). */
function acceptedLogins(hostDir: string): number {
  const log = path.join(hostDir, 'sshd.log')
  if (!fs.existsSync(log)) return 0
  return (fs.readFileSync(log, 'utf8').match(/Accepted publickey/g) ?? []).length
}

describe('e2e: nodes (add-node, nodes, node inspect/inventory/rm)', function () {
  this.timeout(180_000)
  let cli: CliSandbox

  beforeEach(() => {
    cli = new CliSandbox()
  })
  afterEach(() => cli.cleanup())

  it('adds three hosts in parallel; inventory matches the machine; host keys are pinned; --json shapes hold', async () => {
    const tb = getTestbed()
    const hosts = tb.hosts.filter((h) => h.runtimes.length > 0).slice(0, 3)
    // When
    const add = await cli.run(['add-node', ...hosts.map((h) => `root@${h.ip}`), '--key', tb.keyPath, '--label', 'zone=lab', '--json'])
    // Then
    expect(add.exitCode, add.stderr).to.equal(0)
    const added = add.json<{added: NodeJson[]; failed: unknown[]}>()
    expect(added.failed).to.deep.equal([])
    expect(added.added.map((n) => n.name).sort()).to.deep.equal(hosts.map((h) => h.ip).sort())

    const list = await cli.run(['nodes', '--json'])
    expect(list.exitCode).to.equal(0)
    const nodes = list.json<NodeJson[]>()
    expect(nodes).to.have.length(3)
    for (const node of nodes) {
      expect(Object.keys(node).sort()).to.deep.equal([...NODE_KEYS].sort())
      const host = hosts.find((h) => h.ip === node.name)!
      expect(node.state).to.equal('ready')
      expect(node.resolvedAddress).to.equal(`root@${host.ip}:22`)
      expect(node.runtime).to.equal('podman')
      expect(node.labels).to.deep.equal({zone: 'lab'})
      expect(node.capacity.cpus).to.equal(machineThreads)
      expect(node.capacity.memBytes).to.equal(machineMemBytes)
      expect(node.allocatable).to.deep.equal(node.capacity)
      expect(node.hostKey!.fingerprint).to.equal(fingerprintOfFile(`${host.hostKeyPath}.pub`))
    }

    const inspect = await cli.run(['node', 'inspect', hosts[0]!.ip, '--json'])
    expect(inspect.exitCode).to.equal(0)
    const detail = inspect.json<NodeJson>()
    expect(Object.keys(detail).sort()).to.deep.equal([...NODE_KEYS, 'inventory'].sort())
    expect(detail.inventory!.cpu.threads).to.equal(machineThreads)
    expect(detail.inventory!.memory.totalBytes).to.equal(machineMemBytes)
    expect(detail.inventory!.runtimes.podman.usable).to.equal(true)
    expect(detail.inventory!.runtimes.containerd.usable).to.equal(true)
    expect(detail.inventory!.network.find((n) => n.name === 'eth0')!.addresses).to.include(`${hosts[0]!.ip}/24`)
    expect(Math.abs(detail.inventory!.clockOffsetMs!)).to.be.lessThan(1000)

    const table = await cli.run(['nodes'])
    expect(table.stdout).to.match(/^NAME\s+STATE\s+EDGE\s+ADDRESS\s+RUNTIME\s+CPUS\s+MEM/)
    expect(table.stdout).to.include(`root@${hosts[0]!.ip}:22`)
    expect(table.stdout).not.to.include('\u001B[') // no colour off a TTY

    const human = await cli.run(['node', 'inspect', hosts[0]!.ip])
    expect(human.stdout).to.include(`Host key:`).and.to.include(fingerprintOfFile(`${hosts[0]!.hostKeyPath}.pub`))
    expect(human.stdout).to.include('Inventory of')
  })

  it('adds a host by its ~/.ssh/config alias (HostName, User, Port, IdentityFile)', async () => {
    const tb = getTestbed()
    const host = tb.hosts[1]!
    cli.writeSshFile('config', `Host lab-web\n  HostName ${host.ip}\n  User root\n  Port 22\n  IdentityFile ${tb.keyPath}\n`)
    const add = await cli.run(['add-node', 'lab-web', '--json'])
    expect(add.exitCode, add.stderr).to.equal(0)
    const node = add.json<{added: NodeJson[]}>().added[0]!
    expect(node.name).to.equal('lab-web')
    expect(node.address).to.deep.equal({host: 'lab-web', port: null, user: null})
    expect(node.resolvedAddress).to.equal(`root@${host.ip}:22`)
    // and the alias keeps working for later commands
    const inv = await cli.run(['node', 'inventory', 'lab-web', '--json'])
    expect(inv.exitCode, inv.stderr).to.equal(0)
    expect(inv.json<{nodes: Array<{fresh: boolean}>}>().nodes[0]!.fresh).to.equal(true)
  })

  it('reaches a host through a ProxyJump from ~/.ssh/config', async () => {
    const tb = getTestbed()
    const [jump, target] = [tb.hosts[0]!, tb.hosts[1]!]
    cli.writeSshFile('config', `Host jumpbox\n  HostName ${jump.ip}\n  User root\n  IdentityFile ${tb.keyPath}\n\nHost behind\n  HostName ${target.ip}\n  User root\n  IdentityFile ${tb.keyPath}\n  ProxyJump jumpbox\n`)
    const log = path.join(target.dir, 'sshd.log')
    const before = fs.readFileSync(log, 'utf8').length
    const add = await cli.run(['add-node', 'behind', '--json'])
    expect(add.exitCode, add.stderr).to.equal(0)
    expect(add.json<{added: NodeJson[]}>().added[0]!.resolvedAddress).to.equal(`root@${target.ip}:22`)
    // The target saw the session come from the jump host, not from this machine.
    const logins = fs.readFileSync(log, 'utf8').slice(before).match(/Accepted publickey for root from (\S+)/g) ?? []
    expect(logins.length).to.be.greaterThan(0)
    for (const line of logins) expect(line).to.include(`from ${jump.ip}`)
  })

  it('refuses a changed host key before any command runs on the host', async () => {
    const tb = getTestbed()
    const host = tb.hosts[2]!
    const add = await cli.run(['add-node', `root@${host.ip}`, '--name', 'victim', '--key', tb.keyPath])
    expect(add.exitCode, add.stderr).to.equal(0)
    expect(add.stdout).to.include('host key pinned')
    expect(acceptedLogins(host.dir), 'sshd logs accepted sessions').to.be.greaterThan(0)
    // The host keeps its new key afterwards; later tests pin whatever key they find.
    await rekeyHost(tb, host.name)
    const before = acceptedLogins(host.dir)
    const inv = await cli.run(['node', 'inventory', 'victim', '--json'])
    expect(inv.exitCode).to.equal(5)
    const node = inv.json<{nodes: Array<{fresh: boolean; error: {code: string; message: string}}>}>().nodes[0]!
    expect(node.fresh).to.equal(false)
    expect(node.error.code).to.equal('host-key-changed')
    expect(node.error.message).to.include(host.ip)
    expect(acceptedLogins(host.dir)).to.equal(before) // no session: nothing ran

    // and a key listed in ~/.ssh/known_hosts must match too
    const oldPub = fs.readFileSync(`${tb.hosts[0]!.hostKeyPath}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')
    cli.writeSshFile('known_hosts', `${host.ip} ${oldPub}\n`)
    const again = await cli.run(['add-node', `root@${host.ip}`, '--name', 'victim-2', '--key', tb.keyPath])
    expect(again.exitCode).to.equal(5)
    expect(again.stderr).to.match(/host key/i)
    expect((await cli.run(['nodes', '--json'])).json<NodeJson[]>().map((n) => n.name)).to.deep.equal(['victim'])
  })

  it('--host-key must match the host', async () => {
    const tb = getTestbed()
    const host = tb.hosts[0]!
    const wrong = await cli.run(['add-node', `root@${host.ip}`, '--key', tb.keyPath, '--host-key', 'SHA256:' + 'A'.repeat(43), '--json'])
    expect(wrong.exitCode).to.equal(5)
    expect(wrong.json<ErrorJson>().error.code).to.equal('host-key-mismatch')
    const right = await cli.run(['add-node', `root@${host.ip}`, '--key', tb.keyPath, '--host-key', fingerprintOfFile(`${host.hostKeyPath}.pub`)])
    expect(right.exitCode, right.stderr).to.equal(0)
  })

  it('fails clearly within the connect timeout on an unreachable address, and saves nothing', async () => {
    const tb = getTestbed()
    const add = await cli.run(['add-node', 'root@192.168.240.250', '--key', tb.keyPath, '--json'])
    expect(add.exitCode).to.equal(5)
    const error = add.json<ErrorJson>().error
    expect(['timeout', 'unreachable']).to.include(error.code)
    expect(error.message).to.include('192.168.240.250')
    expect(add.durationMs).to.be.lessThan(15_000)
    expect((await cli.run(['nodes', '--json'])).json<NodeJson[]>()).to.deep.equal([])
  })

  it('reports a refused connection (sshd down) and a crashed host (no answer) differently', async () => {
    const tb = getTestbed()
    const host = tb.hosts.find((h) => h.runtimes.length === 0)!
    try {
      await killSshd(tb, host.name)
      const refused = await cli.run(['add-node', `root@${host.ip}`, '--key', tb.keyPath, '--json'])
      expect(refused.exitCode).to.equal(5)
      expect(refused.json<ErrorJson>().error.code).to.equal('refused')
      expect(refused.json<ErrorJson>().error.message).to.include('refused')
      expect(refused.durationMs).to.be.lessThan(10_000)

      await crashHost(tb, host.name)
      const crashed = await cli.run(['add-node', `root@${host.ip}`, '--key', tb.keyPath, '--json'])
      expect(crashed.exitCode).to.equal(5)
      expect(crashed.json<ErrorJson>().error.code).to.equal('timeout')
      expect(crashed.durationMs).to.be.greaterThan(9_000).and.lessThan(15_000) // the 10 s connect timeout
    } finally {
      await restartHost(tb, host.name)
    }
  })

  it('fails with a clear authentication error for a wrong key, and saves nothing', async () => {
    const tb = getTestbed()
    const other = path.join(cli.home, 'other_key')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other])
    const add = await cli.run(['add-node', `root@${tb.hosts[0]!.ip}`, '--key', other])
    expect(add.exitCode).to.equal(5)
    expect(add.stderr).to.match(/^Error: Authentication to root@192\.168\.240\.\d+:22 failed .*: pass --key/m)
    expect(add.stderr).not.to.match(/\n\s+at /) // no stack trace
    expect((await cli.run(['nodes', '--json'])).json<NodeJson[]>()).to.deep.equal([])
  })

  it('fails clearly on a host with neither podman nor containerd, and saves nothing', async () => {
    const tb = getTestbed()
    const bare = tb.hosts.find((h) => h.runtimes.length === 0)!
    const add = await cli.run(['add-node', `root@${bare.ip}`, '--key', tb.keyPath, '--json'])
    expect(add.exitCode).to.equal(1)
    const error = add.json<ErrorJson>().error
    expect(error.code).to.equal('no-runtime')
    expect(error.message).to.match(/has no usable container runtime: podman is not installed/)
    const explicit = await cli.run(['add-node', `root@${tb.hosts[0]!.ip}`, '--key', tb.keyPath, '--runtime', 'containerd', '--json'])
    expect(explicit.exitCode, explicit.stderr).to.equal(0)
    expect(explicit.json<{added: NodeJson[]}>().added[0]!.runtime).to.equal('containerd')
    expect((await cli.run(['nodes', '--json'])).json<NodeJson[]>().map((n) => n.name)).to.deep.equal([tb.hosts[0]!.ip])
  })

  it('adds the local node through local processes', async () => {
    const add = await cli.run(['add-node', 'local', '--json'])
    expect(add.exitCode, add.stderr).to.equal(0)
    const node = add.json<{added: NodeJson[]}>().added[0]!
    expect(node.name).to.equal('local')
    expect(node.resolvedAddress).to.equal('local')
    expect(node.hostKey).to.equal(null)
    expect(node.capacity.cpus).to.equal(machineThreads)
    expect(node.capacity.memBytes).to.equal(machineMemBytes)
  })

  it('simulates a bigger cluster: declared resources and reserves, several names for one host', async () => {
    const tb = getTestbed()
    const host = tb.hosts[0]!
    const a = await cli.run(['add-node', `root@${host.ip}`, '--name', 'big-1', '--key', tb.keyPath, '--resources', 'cpus=32,mem=128Gi,gpus=2', '--reserve', 'cpus=1,mem=1Gi', '--json'])
    const b = await cli.run(['add-node', `root@${host.ip}`, '--name', 'big-2', '--key', tb.keyPath, '--resources', 'cpus=16,mem=64Gi', '--json'])
    expect(a.exitCode, a.stderr).to.equal(0)
    expect(b.exitCode, b.stderr).to.equal(0)
    const big1 = a.json<{added: NodeJson[]}>().added[0]!
    expect(big1.capacity).to.deep.include({cpus: 32, memBytes: 128 * 1024 ** 3, gpus: 2})
    expect(big1.allocatable).to.deep.include({cpus: 31, memBytes: 127 * 1024 ** 3, gpus: 2})
    expect(big1.declared).to.deep.equal({cpus: 32, memBytes: 128 * 1024 ** 3, gpus: 2})
    // a declared capacity survives a fresh inventory
    const inv = await cli.run(['node', 'inventory', '--all', '--json'])
    expect(inv.exitCode, inv.stderr).to.equal(0)
    expect(inv.json<{nodes: NodeJson[]}>().nodes.map((n) => n.capacity.cpus).sort((x, y) => x - y)).to.deep.equal([16, 32])
  })

  it('bad input gets one clear error, exit 2, and changes nothing', async () => {
    const tb = getTestbed()
    const cases: Array<[string[], RegExp]> = [
      [['add-node', `root@${tb.hosts[0]!.ip}`, '--reserve', 'cpus=1,ram=2Gi'], /--reserve: unknown resource "ram"/],
      [['add-node', `root@${tb.hosts[0]!.ip}`, '--label', 'novalue'], /--label expects key=value/],
      [['add-node', 'h:notaport'], /port must be a number/],
      [['add-node', 'a', 'b', '--name', 'x'], /--name applies to a single target/],
      [['add-node', `root@${tb.hosts[0]!.ip}`, '--host-key', 'md5:xx'], /--host-key must be an OpenSSH SHA256 fingerprint/],
      [['add-node', `root@${tb.hosts[0]!.ip}`, '--runtime', 'docker'], /Expected --runtime=docker to be one of: auto, podman, containerd/],
      [['add-node'], /Give at least one node/],
    ]
    for (const [args, message] of cases) {
      const r = await cli.run(args)
      expect(r.exitCode, args.join(' ')).to.equal(2)
      expect(r.stderr, args.join(' ')).to.match(message)
      expect(r.stderr.trim().split('\n')[0], args.join(' ')).to.match(/^Error: /)
    }

    expect((await cli.run(['nodes', '--json'])).json<NodeJson[]>()).to.deep.equal([])
  })

  it('--from-file adds in parallel and summarises which failed and why', async () => {
    const tb = getTestbed()
    const full = tb.hosts.filter((h) => h.runtimes.length > 0)
    const bare = tb.hosts.find((h) => h.runtimes.length === 0)!
    const file = path.join(cli.home, 'hosts.txt')
    fs.writeFileSync(file, `# lab\nroot@${full[0]!.ip} one\nroot@${full[1]!.ip} two\n\nroot@${bare.ip} three  # no runtime\n`)
    const add = await cli.run(['add-node', '--from-file', file, '--key', tb.keyPath, '--json'])
    expect(add.exitCode).to.equal(1)
    const result = add.json<{added: NodeJson[]; failed: Array<{target: string; name: string; code: string; message: string; exitCode: number}>}>()
    expect(result.added.map((n) => n.name)).to.deep.equal(['one', 'two'])
    expect(result.failed).to.have.length(1)
    expect(result.failed[0]).to.deep.include({target: `root@${bare.ip}`, name: 'three', code: 'no-runtime', exitCode: 1})

    const text = await cli.run(['add-node', `root@${full[2]!.ip}`, `root@${bare.ip}`, '--key', tb.keyPath])
    expect(text.exitCode).to.equal(1)
    expect(text.stdout).to.include(`Added node ${full[2]!.ip}`)
    expect(text.stderr).to.include('1 of 2 failed:')
    expect(text.stderr).to.include(`root@${bare.ip}: Node ${bare.ip} has no usable container runtime`)
  })

  it('node rm forgets a node; unknown names exit 3; a name cannot be taken twice', async () => {
    const tb = getTestbed()
    expect((await cli.run(['add-node', `root@${tb.hosts[0]!.ip}`, '--name', 'n1', '--key', tb.keyPath])).exitCode).to.equal(0)
    const dup = await cli.run(['add-node', `root@${tb.hosts[1]!.ip}`, '--name', 'n1', '--key', tb.keyPath, '--json'])
    expect(dup.exitCode).to.equal(1)
    expect(dup.json<ErrorJson>().error).to.deep.include({code: 'exists'})
    const rm = await cli.run(['node', 'rm', 'n1', '--json'])
    expect(rm.exitCode).to.equal(0)
    expect(rm.json<{removed: NodeJson}>().removed.name).to.equal('n1')
    const missing = await cli.run(['node', 'inspect', 'n1', '--json'])
    expect(missing.exitCode).to.equal(3)
    expect(missing.json<ErrorJson>().error.code).to.equal('not-found')
    const missingText = await cli.run(['node', 'rm', 'n1'])
    expect(missingText.exitCode).to.equal(3)
    expect(missingText.stderr).to.equal('Error: No node named n1.\nRun `clusterctl nodes` to list the nodes.')
  })
})
