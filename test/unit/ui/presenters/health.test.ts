import {expect} from 'chai'

import type {NodeCondition} from '../../../../src/core/model/health.js'
import {doctorVerdict, type DoctorResult} from '../../../../src/core/services/health.js'
import {conditionsCell, conditionToJson, renderDoctor} from '../../../../src/ui/presenters/health.js'
import {nodeToJson, renderNodesTable} from '../../../../src/ui/presenters/nodes.js'
import {aSample} from '../../core/health/fixtures.js'
import {aNode, NOW} from '../dashboard/fixtures.js'

const disk: NodeCondition = {type: 'DiskPressure', severity: 'warning', reason: 'LowDiskSpace', message: '/ 4% free (4Gi of 100Gi)', since: NOW - 120_000, lastSeen: NOW}
const smart: NodeCondition = {type: 'SMARTFailing', severity: 'critical', reason: 'HealthCheckFailed', message: '/dev/sda: SMART overall-health self-assessment FAILED', since: NOW - 60_000, lastSeen: NOW}

describe('ui/presenters/health', () => {
  it('a condition as JSON says whether it blocks work, recommends a drain, and what to do', () => {
    expect(conditionToJson(disk)).to.deep.equal({type: 'DiskPressure', severity: 'warning', reason: 'LowDiskSpace', message: '/ 4% free (4Gi of 100Gi)', since: new Date(NOW - 120_000).toISOString(), lastSeen: new Date(NOW).toISOString(), blocksWork: true, recommendsDrain: false, advice: 'Free space on the filesystem named (old images: `podman image prune`; logs); new work is kept off meanwhile.'})
    expect(conditionToJson(smart)).to.deep.include({blocksWork: true, recommendsDrain: true})
  })

  it('nodes shows the conditions (critical marked !), node JSON carries them', () => {
    const nodes = [aNode('h1'), aNode('h2', {conditions: [smart, disk]})]
    expect(conditionsCell(nodes[1]!, false)).to.equal('SMARTFailing!,DiskPressure')
    const table = renderNodesTable(nodes, NOW, false)
    expect(table).to.match(/CONDITIONS/)
    expect(table.split('\n').find((l) => l.includes('h2'))).to.include('SMARTFailing!,DiskPressure')
    expect(nodeToJson(nodes[1]!).conditions.map((c) => c.type)).to.deep.equal(['SMARTFailing', 'DiskPressure'])
    expect(nodeToJson(nodes[0]!)).to.deep.include({conditions: [], healthProbedAt: null})
  })

  it('doctor: a verdict per node, the figures, each condition with what to do; exit 0/1/2 by the worst', () => {
    const r = (conditions: NodeCondition[], error: Error | null = null): DoctorResult => ({node: aNode('h1', {conditions}), conditions, sample: error ? null : aSample(), probeMs: error ? null : 850, error})
    const text = renderDoctor([r([smart, disk])], NOW, false)
    expect(text).to.match(/^Node h1: critical \(probed in 850 ms\)/)
    expect(text).to.include('memory    4Gi available of 8Gi')
    expect(text).to.include('disks     / 50% free (50Gi)')
    expect(text).to.match(/SMARTFailing\s+critical\s+HealthCheckFailed\s+1m ago/)
    expect(text).to.include('drain the node and replace the disk')
    expect(renderDoctor([r([])], NOW, false)).to.include('No conditions: the health probe found nothing wrong.')
    expect(renderDoctor([r([disk], new Error('could not connect'))], NOW, false)).to.match(/Node h1: not probed: could not connect\nStored conditions:/)
    expect(doctorVerdict([r([])])).to.equal(0)
    expect(doctorVerdict([r([]), r([disk])])).to.equal(1)
    expect(doctorVerdict([r([disk]), r([smart])])).to.equal(2)
  })
})
