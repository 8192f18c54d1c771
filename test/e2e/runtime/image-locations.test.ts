/**
 * Nodes as their admins left them: a containerd image imported the usual way (`ctr image
 * import`, nerdctl: the `default` namespace; kubelet: `k8s.io`) is found and copied into
 * clusterctl's namespace; an image that is nowhere fails with one sentence naming the
 * namespaces searched and the fix. podman says whose storage it searched.
 */
import {expect} from 'chai'
import {randomUUID} from 'node:crypto'

import {RuntimeClient} from '../../../src/runtime/client.js'
import {runtimeFor} from '../../../src/runtime/index.js'
import {containerName, specHashOf, taskLabels} from '../../../src/runtime/naming.js'
import type {ContainerSpec} from '../../../src/runtime/types.js'
import type {SshPool, Transport} from '../../../src/ssh/index.js'
import {getTestbed} from '../fixture.js'
import {sh, testPool, transportTo} from './helpers.js'

describe('e2e: images where admins put them', function () {
  this.timeout(300_000)
  let pool: SshPool
  let transport: Transport
  const cluster = `e2e-img-${randomUUID().slice(0, 8)}`
  const tag = `localhost/admin-imported:${randomUUID().slice(0, 8)}`

  function spec(runtimeName: string, image: string): ContainerSpec {
    const taskId = randomUUID()
    const jobName = `${runtimeName}-img`
    const base: Omit<ContainerSpec, 'labels'> = {name: containerName({clusterId: cluster, jobName, instance: 0, taskId}), image, env: {}, cpuMilli: 0, memBytes: 0, ports: [], volumes: [], command: ['sleep', '300']}
    return {...base, labels: taskLabels({clusterId: cluster, jobName, instance: 0, taskId, specHash: specHashOf(base)})}
  }

  before(() => {
    pool = testPool()
    ;({transport} = transportTo(getTestbed(), pool, 'h2'))
  })
  after(async () => {
    await sh(transport, 'for ns in clusterctl default k8s.io; do ctr -n "$ns" images rm "$1" >/dev/null 2>&1; done; true', tag).catch(() => {})
    for (const name of ['podman', 'containerd'] as const) {
      const client = new RuntimeClient(runtimeFor(name), transport)
      for (const c of await client.list({'io.clusterctl.cluster': cluster}).catch(() => [])) await client.remove(c.name).catch(() => {})
    }
    await pool.closeAll()
  })

  it('containerd: an image imported into `default` (plain `ctr image import`) is found and copied into clusterctl\'s namespace', async () => {
    const tb = getTestbed()
    // The admin's way: an archive imported with plain ctr, under a name clusterctl never loaded.
    await sh(
      transport,
      'set -e; ctr -n clusterctl images export - "$1" | ctr -n default images import - >/dev/null; ctr -n default images tag "$1" "$2" >/dev/null; ctr -n clusterctl images rm "$2" >/dev/null 2>&1 || true',
      tb.image,
      tag,
    )
    expect((await sh(transport, 'ctr -n clusterctl images ls -q')).split('\n')).to.not.include(tag)
    const client = new RuntimeClient(runtimeFor('containerd'), transport)
    const started = await client.start(spec('containerd', tag))
    expect(started.outcome).to.equal('started')
    expect((await sh(transport, 'ctr -n clusterctl images ls -q')).split('\n')).to.include(tag)
  })

  it('containerd: an image in no namespace fails with one sentence naming the namespaces searched and the command that fixes it', async () => {
    const client = new RuntimeClient(runtimeFor('containerd'), transport)
    const missing = `localhost/nowhere:${randomUUID().slice(0, 8)}`
    const error = await client.start(spec('containerd', missing)).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.message).to.match(new RegExp(`image ${missing.replace(/[.:/]/g, '\\$&')} is in none of the containerd namespaces searched \\(clusterctl, default[^)]*\\): load it with \`clusterctl image push ARCHIVE\`, or on the node \`ctr -n clusterctl images import ARCHIVE\`\\.`))
  })

  it('podman: an image that is not in its storage says whose storage was searched', async () => {
    const client = new RuntimeClient(runtimeFor('podman'), transport)
    const missing = `localhost/nowhere:${randomUUID().slice(0, 8)}`
    const error = await client.start(spec('podman', missing)).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.message).to.match(/image localhost\/nowhere:\S+ is not in podman's rootful storage at \/\S+ as user root: load it as that user/)
  })
})
