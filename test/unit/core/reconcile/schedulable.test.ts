import {expect} from 'chai'

import type {NodeCondition} from '../../../../src/core/model/health.js'
import type {NodeObservation} from '../../../../src/core/reconcile/diff.js'
import {schedulableNodes} from '../../../../src/core/reconcile/plan.js'
import {aNode} from '../../ui/dashboard/fixtures.js'

const readOnly: NodeCondition = {type: 'ReadOnlyFilesystem', severity: 'warning', reason: 'MountedReadOnly', message: '/var/lib/containers is mounted read-only', since: 0, lastSeen: 0}
const failed = {ok: false, error: 'podman ps: read-only file system', containers: []} as unknown as NodeObservation

describe('core/reconcile/schedulableNodes', () => {
  it('a ready node not observed this pass takes no work as unreachable; one with a condition that blocks work keeps its state, so the condition is the reason given', () => {
    const nodes = [aNode('h1'), aNode('h2', {conditions: [readOnly]}), aNode('h3')]
    const observed = new Map([[nodes[0]!.id, failed], [nodes[1]!.id, failed]])
    expect(schedulableNodes(nodes, observed).map((n) => [n.name, n.state])).to.deep.equal([['h1', 'unreachable'], ['h2', 'ready'], ['h3', 'ready']])
  })
})
