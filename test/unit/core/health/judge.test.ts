import {expect} from 'chai'

import {conditionEvent, isProbeDue, judgeProbe, probeArgsFor, runtimeStoreOf} from '../../../../src/core/health/judge.js'
import type {HealthSample} from '../../../../src/core/model/health.js'
import {aNode} from '../../ui/dashboard/fixtures.js'
import {aSample} from './fixtures.js'

const Gi = 1024 ** 3

describe('core/health/judge', () => {
  it('the probe is due on a node never probed and every 30 s after, not every pass', () => {
    expect(isProbeDue({healthProbedAt: null}, 1000)).to.equal(true)
    expect(isProbeDue({healthProbedAt: 1000}, 30_999)).to.equal(false)
    expect(isProbeDue({healthProbedAt: 1000}, 31_000)).to.equal(true)
  })

  it('watches / and the runtime store: podman graph root from the inventory, containerd default', () => {
    const node = aNode('h1')
    expect(runtimeStoreOf(node)).to.equal('/var/lib/containers/storage')
    const rootless = {...node, inventory: {...node.inventory, runtimes: {...node.inventory.runtimes, podman: {...node.inventory.runtimes.podman, storage: 'rootful (/srv/tb/h1/podman/root)'}}}}
    expect(probeArgsFor(rootless)).to.deep.equal({paths: ['/', '/srv/tb/h1/podman/root'], runtime: 'podman'})
    expect(runtimeStoreOf({...node, runtime: 'containerd'})).to.equal('/var/lib/containerd')
  })

  it('judges a probe with the history: raised conditions, a fill prediction from the trend, events', () => {
    const fs = (at: number, free: number): HealthSample => aSample({at, filesystems: [{path: '/', mount: '/', fsType: 'ext4', sizeBytes: 100 * Gi, freeBytes: free, inodes: null, inodesFree: null, readOnly: false}]})
    const history = [0, 1, 2, 3, 4].map((i) => fs(i * 30_000, (60 - i) * Gi))
    const j = judgeProbe([], history, fs(5 * 30_000, 8 * Gi))
    expect(j.conditions.map((c) => `${c.type} ${c.reason}`)).to.deep.equal(['DiskFilling PredictedFull', 'DiskPressure LowDiskSpace'])
    expect(j.changes.map((c) => c.kind)).to.deep.equal(['raised', 'raised'])
    const e = conditionEvent('h1', j.changes.find((c) => c.condition.type === 'DiskPressure')!)
    expect(e).to.deep.equal({type: 'node.condition.raised', message: 'DiskPressure raised (warning, LowDiskSpace): / 8.0% free (8.0Gi of 100.0Gi)', data: {node: 'h1', type: 'DiskPressure', severity: 'warning', reason: 'LowDiskSpace'}})
  })
})
