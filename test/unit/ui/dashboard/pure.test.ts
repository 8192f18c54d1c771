import {expect} from 'chai'

import {nodeFindings} from '../../../../src/ui/dashboard/findings.js'
import {bar, contentWidth, fit, layoutColumns, portsText, windowStart, wrapWords} from '../../../../src/ui/dashboard/format.js'
import {clusterSummary, matches, nodeRows, taskRows} from '../../../../src/ui/dashboard/selectors.js'
import {specLines} from '../../../../src/ui/dashboard/components/details.js'
import {aCluster, aJob, aNode, Gi} from './fixtures.js'

describe('ui/dashboard: pure helpers', () => {
  it('bar draws an htop-like meter in exactly the width given', () => {
    expect(bar(1, 4, 16)).to.equal('[||       ]  25%')
    for (const w of [5, 8, 12, 30]) expect(bar(3, 7, w)).to.have.length(w)
    expect(bar(0, 0, 12)).to.equal('[      ] n/a')
    expect(bar(9, 4, 13)).to.equal('[||||||] 225%')
  })

  it('wrapWords breaks between words, within the width, and cuts a word longer than a line', () => {
    expect(wrapWords('at most 0 unavailable, 1 extra', 12)).to.deep.equal(['at most 0', 'unavailable,', '1 extra'])
    expect(wrapWords('abcdefghij k', 4)).to.deep.equal(['abcd', 'efgh', 'ij k'])
    expect(wrapWords('short', 80)).to.deep.equal(['short'])
  })

  it('fit cuts with an ellipsis, pads, aligns right, and never lets control characters through', () => {
    expect(fit('cordoned', 5)).to.equal('cord…')
    expect(fit('7', 3, 'right')).to.equal('  7')
    expect(fit('a\u001B[31mb\n', 8)).to.equal('a [31mb ')
  })

  it('layoutColumns gives minimums, shares the rest by weight, and shrinks the last columns when narrow', () => {
    const cols = [{header: 'A', min: 4, grow: 1}, {header: 'B', min: 6}, {header: 'C', min: 4, grow: 3}]
    expect(layoutColumns(cols, 30)).to.deep.equal([7, 6, 15])
    expect(layoutColumns(cols, 12)).to.deep.equal([4, 6, 0])
  })

  it('contentWidth fits the longest value, within its bounds', () => {
    expect(contentWidth(['a', 'abcdefghij', 'abc'], 4, 30)).to.equal(10)
    expect(contentWidth(['a'], 4, 30)).to.equal(4)
    expect(contentWidth(['x'.repeat(50)], 4, 30)).to.equal(30)
    expect(contentWidth([], 4, 30)).to.equal(4)
  })

  it('windowStart keeps the selected row visible', () => {
    expect(windowStart(0, 100, 10)).to.equal(0)
    expect(windowStart(50, 100, 10)).to.equal(45)
    expect(windowStart(99, 100, 10)).to.equal(90)
    expect(windowStart(3, 5, 10)).to.equal(0)
  })

  it('portsText', () => {
    expect(portsText([])).to.equal('-')
    expect(portsText([{containerPort: 80, hostPort: 31000, protocol: 'tcp'}, {containerPort: 53, hostPort: 31001, protocol: 'udp'}])).to.equal('31000->80,31001->53/udp')
  })

  it('nodeFindings: heartbeat failures, load above threads, low memory, an unusable runtime', () => {
    expect(nodeFindings(aNode('ok'))).to.deep.equal([])
    const bad = aNode('bad', {heartbeatError: 'connect ETIMEDOUT', missedHeartbeats: 3, usage: {load1: 9.5, memAvailableBytes: 100 * 1024 ** 2, at: 0}})
    expect(nodeFindings(bad).map((f) => f.text)).to.deep.equal(['heartbeat: connect ETIMEDOUT', 'missed 3 heartbeats', 'load 9.5 > 4 threads', 'low memory: 100Mi of 8Gi free'])
    expect(nodeFindings(bad).map((f) => f.severity)).to.deep.equal(['error', 'error', 'warn', 'warn'])
    const noRuntime = aNode('x')
    noRuntime.inventory = {...noRuntime.inventory, runtimes: {...noRuntime.inventory.runtimes, podman: {version: '4', usable: false, problem: 'cannot connect'}}}
    expect(nodeFindings(noRuntime).map((f) => f.text)).to.deep.equal(['podman not usable: cannot connect'])
    const sick = aNode('sick', {conditions: [
      {type: 'SMARTFailing', severity: 'critical', reason: 'HealthCheckFailed', message: '/dev/sda: SMART overall-health self-assessment FAILED', since: 0, lastSeen: 0},
      {type: 'DiskPressure', severity: 'warning', reason: 'LowDiskSpace', message: '/ 4% free (4Gi of 100Gi)', since: 0, lastSeen: 0},
    ]})
    expect(nodeFindings(sick)).to.deep.equal([
      {severity: 'error', text: 'SMARTFailing: /dev/sda: SMART overall-health self-assessment FAILED'},
      {severity: 'warn', text: 'DiskPressure: / 4% free (4Gi of 100Gi)'},
    ])
  })

  it('clusterSummary counts nodes by state and what placed tasks hold against what nodes can give', () => {
    const s = clusterSummary(aCluster())
    expect(s.byState).to.deep.equal([['ready', 2], ['cordoned', 1]])
    expect(s.allocated).to.deep.include({cpuMilli: 4000, memBytes: 6 * Gi})
    expect(s.allocatable).to.deep.include({cpuMilli: 12_000, memBytes: 24 * Gi})
    expect(s.pending).to.deep.equal(['web.2: 0/2 nodes fit: 2 insufficient mem (need 64Gi, max free 7Gi)'])
    const down = {...aCluster(), nodes: [aNode('h1', {state: 'down'})]}
    expect(clusterSummary(down).allocatable.cpuMilli).to.equal(0)
  })

  it('rows per node carry allocation and task count; filters match every word', () => {
    const rows = nodeRows(aCluster(), '')
    expect(rows.map((r) => [r.node.name, r.tasks, r.allocated.cpuMilli])).to.deep.equal([['h1', 2, 3000], ['h2', 1, 1000], ['h3', 0, 0]])
    expect(nodeRows(aCluster(), 'cordoned').map((r) => r.node.name)).to.deep.equal(['h3'])
    expect(taskRows(aCluster(), 'web h2').map((t) => `${t.jobName}.${t.instance}`)).to.deep.equal(['web.1'])
    expect(taskRows(aCluster(), 'pending').map((t) => `${t.jobName}.${t.instance}`)).to.deep.equal(['web.2'])
    expect(matches('WEB', 'web.1 h1')).to.equal(true)
  })

  it('a job\'s spec lines give its service port and the services it uses', () => {
    const web = aJob('web', {servicePort: 10_000})
    expect(specLines({...web, spec: {...web.spec, uses: ['db', 'cache']}})).to.include('service 10000->8080 on every edge node  uses db cache')
    const worker = aJob('worker', {servicePort: null})
    expect(specLines({...worker, spec: {...worker.spec, ports: [], uses: ['db']}})).to.include('uses db')
    expect(specLines(worker).join('\n')).to.not.match(/service|uses/)
    expect(specLines(web, {servicePort: 10_000, address: '192.0.2.10:10000', addresses: ['192.0.2.10:10000', '192.0.2.11:10000']})).to.include('service 10000->8080 at 192.0.2.10:10000 192.0.2.11:10000')
    expect(specLines(web, {servicePort: 10_000, address: null, addresses: []})).to.include('service 10000->8080 on every edge node (none yet: `clusterctl node edge NAME`)')
  })
})
