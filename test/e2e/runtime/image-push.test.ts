/**
 * `clusterctl image push` end to end: a second tiny image, built here without a
 * registry, pushed through the built CLI to a podman node and a containerd node
 * registered with add-node, then listed by both runtimes and run on each.
 */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {RuntimeClient, containerName, runtimeFor, specHashOf, taskLabels, type ContainerSpec, type RuntimeName} from '../../../src/runtime/index.js'
import type {SshPool, Transport} from '../../../src/ssh/index.js'
import {hostByName} from '../../testbed/testbed.js'
import {CliSandbox} from '../cli.js'
import {getTestbed} from '../fixture.js'
import {sh, testPool, transportTo, waitFor} from './helpers.js'

interface PushJson {
  archive: string
  bytes: number
  nodes: Array<{node: string; runtime: RuntimeName; ok: boolean; images?: string[]; error?: {code: string; message: string; exitCode: number}; durationMs: number}>
}

/** busybox rootfs -> podman import (scratch storage of its own) -> docker-archive. */
function buildArchive(dir: string, image: string): string {
  const root = path.join(dir, 'rootfs')
  fs.mkdirSync(path.join(root, 'bin'), {recursive: true})
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'))
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755)
  for (const tool of ['sh', 'echo', 'cat', 'sleep']) fs.symlinkSync('busybox', path.join(root, 'bin', tool))
  fs.writeFileSync(path.join(root, 'pushed.txt'), `${image}\n`)
  const layer = path.join(dir, 'layer.tar')
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', layer, '.'])
  const env = {
    ...process.env,
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
  }
  fs.writeFileSync(env.CONTAINERS_CONF, `[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\ntmp_dir = "${dir}/tmp"\nlock_type = "file"\n`)
  fs.writeFileSync(env.CONTAINERS_STORAGE_CONF, `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/storage"\nrunroot = "${dir}/run"\n`)
  execFileSync('podman', ['import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', layer, image], {env, stdio: 'pipe'})
  const archive = path.join(dir, 'pushed image.tar')
  execFileSync('podman', ['save', '--format', 'docker-archive', '-o', archive, image], {env, stdio: 'pipe'})
  return archive
}

describe('e2e: clusterctl image push', function () {
  this.timeout(300_000)
  const image = `localhost/cctl-push-${randomUUID().slice(0, 8)}:v1`
  const targets: Array<{host: string; runtime: RuntimeName}> = [
    {host: 'h2', runtime: 'containerd'},
    {host: 'h3', runtime: 'podman'},
  ]
  let work: string
  let archive: string
  let cli: CliSandbox
  let pool: SshPool
  const transports = new Map<string, Transport>()

  before(async () => {
    const tb = getTestbed()
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cctl-push-'))
    archive = buildArchive(work, image)
    cli = new CliSandbox('clusterctl-e2e-push-')
    pool = testPool()
    for (const t of targets) {
      transports.set(t.host, transportTo(tb, pool, t.host).transport)
      const add = await cli.run(['add-node', `root@${hostByName(tb, t.host).ip}`, '--name', t.host, '--runtime', t.runtime, '--key', tb.keyPath, '--json'])
      expect(add.exitCode, add.stderr).to.equal(0)
    }
  })

  after(async () => {
    for (const t of targets) {
      const transport = transports.get(t.host)
      if (!transport) continue
      const rm = t.runtime === 'podman' ? ['podman', 'rmi', '--ignore', image] : ['ctr', '-n', 'clusterctl', 'images', 'rm', image]
      await transport.exec(rm, {timeoutMs: 30_000}).catch(() => undefined)
    }
    await pool?.closeAll()
    cli?.cleanup()
    if (work) fs.rmSync(work, {recursive: true, force: true})
  })

  it('loads the archive into podman and containerd nodes, which then list and run it', async () => {
    const push = await cli.run(['image', 'push', archive, '--json'])
    expect(push.exitCode, push.stderr).to.equal(0)
    const result = push.json<PushJson>()
    expect(result.bytes).to.equal(fs.statSync(archive).size)
    expect(result.nodes.map((n) => [n.node, n.runtime, n.ok, n.images])).to.deep.equal(targets.map((t) => [t.host, t.runtime, true, [image]]))

    for (const t of targets) {
      const client = new RuntimeClient(runtimeFor(t.runtime), transports.get(t.host)!)
      expect(await client.images(), `${t.runtime} on ${t.host}`).to.include(image)
      expect(await client.imageExists(image)).to.equal(true)
      const taskId = randomUUID()
      const base = {name: containerName({clusterId: 'e2e-push', jobName: 'pushed', instance: 0, taskId}), image, command: ['sh', '-c', 'cat /pushed.txt'], env: {}, cpuMilli: 0, memBytes: 0, ports: [], volumes: []}
      const spec: ContainerSpec = {...base, labels: taskLabels({clusterId: 'e2e-push', jobName: 'pushed', instance: 0, taskId, specHash: specHashOf(base)})}
      await client.start(spec)
      try {
        await waitFor('the pushed image to run', async () => (await client.logs(spec.name, {follow: false})).stdout === `${image}\n`)
      } finally {
        await client.remove(spec.name)
      }
    }
  })

  it('pushes to the named nodes only, and says what is wrong with bad input', async () => {
    const one = await cli.run(['image', 'push', archive, '--nodes', 'h3', '--json'])
    expect(one.exitCode, one.stderr).to.equal(0)
    expect(one.json<PushJson>().nodes.map((n) => n.node)).to.deep.equal(['h3'])

    const plain = await cli.run(['image', 'push', archive, '--nodes', 'h2'])
    expect(plain.exitCode, plain.stderr).to.equal(0)
    expect(plain.stdout).to.match(/h2 \(containerd\): localhost\/cctl-push-/)
    expect(plain.stdout).to.match(/loaded on 1 of 1 node/)

    const unknown = await cli.run(['image', 'push', archive, '--nodes', 'h2,nope', '--json'])
    expect(unknown.exitCode).to.equal(3)
    expect(unknown.json<{error: {message: string}}>().error.message).to.match(/nope/)

    const notArchive = path.join(work, 'notes.txt')
    fs.writeFileSync(notArchive, 'not an image')
    const bad = await cli.run(['image', 'push', notArchive])
    expect(bad.exitCode).to.equal(2)
    expect(bad.stderr).to.match(/not an image archive/)
    expect(bad.stderr).to.match(/podman save/)

    const missing = await cli.run(['image', 'push', path.join(work, 'missing.tar'), '--json'])
    expect(missing.exitCode).to.equal(2)
  })

  it('a load that fails is exit 1 with the runtime error, and changes nothing', async () => {
    // A tar that is no image: it passes the local check, the runtimes refuse it.
    const junk = path.join(work, 'junk.tar')
    execFileSync('tar', ['-C', work, '-cf', junk, 'layer.tar'])
    const push = await cli.run(['image', 'push', junk, '--json'])
    expect(push.exitCode).to.equal(1)
    const result = push.json<PushJson>()
    expect(result.nodes.every((n) => !n.ok && n.error?.code === 'load-failed')).to.equal(true)
    expect(result.nodes.map((n) => n.error!.message).join('\n')).to.match(/podman exited|containerd exited/)
    // Still fine afterwards.
    expect(await sh(transports.get('h3')!, 'podman image exists "$1" && echo yes', image)).to.equal('yes\n')
  })
})
