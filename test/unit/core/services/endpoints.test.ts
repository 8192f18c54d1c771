import {expect} from 'chai'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import {NotFoundError, UnreachableError} from '../../../../src/core/errors.js'
import type {ConnectSpec} from '../../../../src/core/context.js'
import type {ExecOptions, Transport} from '../../../../src/core/transport.js'
import {type EdgeReading, EDGE_READ_TIMEOUT_MS, getEndpoints, getLiveEndpoints, withReadings} from '../../../../src/core/services/endpoints.js'
import {insertJob, insertTask} from '../../../../src/core/state/jobs.js'
import {insertNode} from '../../../../src/core/state/nodes.js'
import {Store} from '../../../../src/core/state/store.js'
import {endpointToJson, renderEndpoints} from '../../../../src/ui/presenters/endpoints.js'
import {makeTempDir} from '../../../helpers/tmp.js'
import {aJob, aNode, aTask, NOW} from '../../ui/dashboard/fixtures.js'

describe('core/services/endpoints: where services are reached, from the state file', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store

  beforeEach(() => {
    tmp = makeTempDir()
    store = Store.open(path.join(tmp.dir, 'state.db'), new ManualClock(NOW))
    const web = aJob('web', {servicePort: 10_000})
    const api = aJob('api', {servicePort: 8443})
    const etl = aJob('etl', {kind: 'batch', servicePort: null})
    store.write(() => {
      insertNode(store, aNode('lb-1', {edge: true, resolvedAddress: 'root@192.0.2.10:22'}))
      insertNode(store, aNode('lb-2', {edge: true, resolvedAddress: 'root@[2001:db8::2]:22', state: 'down'}))
      insertNode(store, aNode('w1', {resolvedAddress: 'root@10.0.0.5:22'}))
      insertNode(store, aNode('w2', {resolvedAddress: 'root@10.0.0.6:22', state: 'unreachable'}))
      for (const j of [web, api, etl]) insertJob(store, j)
      insertTask(store, aTask(web, 0, 'w1'))
      insertTask(store, aTask(web, 1, 'w2'))
      insertTask(store, aTask(web, 2, 'w1', {desired: 'stop'}))
      insertTask(store, aTask(web, 3, 'w1', {state: 'starting', health: 'unknown'}))
      insertTask(store, aTask(web, 4, null))
      insertTask(store, aTask(api, 0, 'w1', {state: 'killed'}))
    })
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  it('each service: its port on every edge node, and its backends with the state the edges hold them in', () => {
    const json = getEndpoints({store}).map(endpointToJson)
    expect(json).to.deep.equal([
      {job: 'api', servicePort: 8443, containerPort: 8080, addresses: ['192.0.2.10:8443', '[2001:db8::2]:8443'], edges: [{node: 'lb-1', address: '192.0.2.10:8443', nodeState: 'ready', read: null, error: null}, {node: 'lb-2', address: '[2001:db8::2]:8443', nodeState: 'down', read: null, error: null}], ready: 0, live: false, mismatch: null, backends: [], stale: []},
      {
        job: 'web', servicePort: 10_000, containerPort: 8080, addresses: ['192.0.2.10:10000', '[2001:db8::2]:10000'],
        edges: [{node: 'lb-1', address: '192.0.2.10:10000', nodeState: 'ready', read: null, error: null}, {node: 'lb-2', address: '[2001:db8::2]:10000', nodeState: 'down', read: null, error: null}],
        ready: 1,
        live: false,
        mismatch: null,
        backends: [
          {taskId: 'task-web-0-w1', instance: 0, node: 'w1', address: '10.0.0.5:31000', state: 'ready', expected: 'up', mismatch: null, edges: []},
          {taskId: 'task-web-1-w2', instance: 1, node: 'w2', address: '10.0.0.6:31001', state: 'maint', expected: 'maint', mismatch: null, edges: []},
          {taskId: 'task-web-2-w1', instance: 2, node: 'w1', address: '10.0.0.5:31002', state: 'drain', expected: 'drain', mismatch: null, edges: []},
          {taskId: 'task-web-3-w1', instance: 3, node: 'w1', address: '10.0.0.5:31003', state: 'maint', expected: 'maint', mismatch: null, edges: []},
        ],
        stale: [],
      },
    ])
    const text = renderEndpoints(getEndpoints({store}), false)
    expect(text).to.match(/web +10000->8080 +192\.0\.2\.10:10000 \[2001:db8::2\]:10000 \(down\) +1\/4 +10\.0\.0\.5:31000 ready 10\.0\.0\.6:31001 maint/)
    expect(text).to.not.contain('not run by clusterctl')
    expect(text).to.contain('the state clusterctl holds each server in on the edges')
  })

  it('one job: its endpoint; a job that does not exist or has no service port is not found (exit 3)', () => {
    expect(getEndpoints({store}, 'web').map((e) => e.job.name)).to.deep.equal(['web'])
    expect(() => getEndpoints({store}, 'nope')).to.throw(NotFoundError, 'No job named nope.')
    expect(() => getEndpoints({store}, 'etl')).to.throw(NotFoundError, 'Job etl has no service address: only a service with a TCP port has a service port (it is a batch job).')
  })

  it('without an edge node the addresses are empty, and the text says how to mark one', () => {
    store.write(() => store.db.prepare(`UPDATE nodes SET edge = 0`).run())
    expect(getEndpoints({store}, 'web').map(endpointToJson)[0]!.addresses).to.deep.equal([])
    expect(renderEndpoints(getEndpoints({store}), false)).to.contain('No edge node: mark one with `clusterctl node edge NAME`.')
  })

  it('live: each backend on each edge beside what is expected; a mismatch, a stale server and an edge that was not read are shown', () => {
    const up = (name: string, port: number, extra: Record<string, unknown> = {}) => ({name, address: '10.0.0.5', port, state: 'up' as const, status: 'UP', connections: 0, ...extra})
    const readings: EdgeReading[] = [
      {node: 'lb-1', read: true, error: null, unreachable: false, servers: new Map([['be_web', [up('task-web-0-w1', 31_000), up('task-web-2-w1', 31_002, {state: 'drain', connections: 2}), up('task-web-3-w1', 31_003), up('gone', 31_009)]]])},
      {node: 'lb-2', read: false, error: 'not asked: the node is down', unreachable: false, servers: null},
    ]
    const [, web] = withReadings(getEndpoints({store}), readings)
    const json = endpointToJson(web!)
    expect(json.live).to.equal(true)
    expect(json.mismatch).to.equal(true)
    expect(json.edges.map((e) => [e.node, e.read, e.error])).to.deep.equal([['lb-1', true, null], ['lb-2', false, 'not asked: the node is down']])
    expect(json.backends.map((b) => [b.instance, b.expected, b.mismatch, b.edges.map((x) => x.actual)])).to.deep.equal([
      [0, 'up', false, ['up', 'unknown']],
      [1, 'maint', false, ['absent', 'unknown']],
      [2, 'drain', false, ['drain', 'unknown']],
      [3, 'maint', true, ['up', 'unknown']],
    ])
    expect(json.stale).to.deep.equal([{node: 'lb-1', server: 'gone', address: '10.0.0.5:31009', actual: 'up', connections: 0}])
    const text = renderEndpoints(withReadings(getEndpoints({store}), readings), false, {stray: [{node: 'lb-1', backend: 'be_old', servers: 2}]})
    expect(text).to.match(/SERVICE +INST +TASK +BACKEND +EXPECTED +LB-1 +LB-2/)
    expect(text).to.match(/web +2 +task-web +10\.0\.0\.5:31002 +drain +drain \(2\) +unknown/)
    expect(text).to.match(/web +3 +task-web +10\.0\.0\.5:31003 +maint +up +unknown +MISMATCH/)
    expect(text).to.match(/web +- +gone +10\.0\.0\.5:31009 +absent +up +STALE/)
    expect(text).to.contain('lb-2: not asked: the node is down')
    expect(text).to.contain('lb-1: HAProxy has backend be_old (2 servers) of no service')
    expect(text).to.contain('the next pass (the daemon\'s, or `clusterctl schedule`) repairs it')
  })

  it('live: every edge asked in parallel with the read-only commands and a short timeout; one that does not answer is shown so (never waited for past it), down edges not asked', async () => {
    store.write(() => {
      store.db.prepare(`UPDATE nodes SET state = 'ready' WHERE name = 'lb-2'`).run()
      insertNode(store, aNode('lb-3', {edge: true, resolvedAddress: 'root@192.0.2.13:22', state: 'unreachable'}))
      insertNode(store, aNode('lb-4', {edge: true, resolvedAddress: 'root@192.0.2.14:22', runtime: 'containerd'}))
    })
    const stateText = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port\n3 be_web 1 task-web-0-w1 10.0.0.5 2 0 1 1 1 1 0 0 2 0 0 0 - 31000\n'
    const stat = '# pxname,svname,scur,status\nbe_web,task-web-0-w1,0,UP\n'
    const asked: Array<{node: string; argv: readonly string[]; options: ExecOptions | undefined}> = []
    const connect = (spec: ConnectSpec): Transport => ({
      target: spec.nodeName,
      hostKey: () => undefined,
      close: async () => undefined,
      async exec(argv, options) {
        asked.push({node: spec.nodeName, argv, options})
        if (spec.nodeName === 'lb-2') throw new UnreachableError(spec.host, `lb-2 did not answer within ${options?.timeoutMs}ms`, {code: 'timeout'})
        return {stdout: `clusterctl-cmd show servers state\n${stateText}clusterctl-end\nclusterctl-cmd show stat -1 4 -1\n${stat}clusterctl-end\n`, stderr: '', code: 0, signal: null}
      },
    })
    const live = await getLiveEndpoints({store, connect}, 'web')
    expect(asked.map((a) => a.node).sort()).to.deep.equal(['lb-1', 'lb-2'])
    for (const a of asked) {
      expect(a.options?.timeoutMs).to.equal(EDGE_READ_TIMEOUT_MS)
      expect(a.options?.stdin).to.equal('show servers state\nshow stat -1 4 -1\n')
      expect(a.argv.join(' ')).to.contain('podman exec -i clusterctl-edge perl')
    }

    expect(live.readings.map((r) => [r.node, r.read, r.unreachable, r.error])).to.deep.equal([
      ['lb-1', true, false, null],
      ['lb-2', false, true, 'lb-2 did not answer within 8000ms'],
      ['lb-3', false, false, 'not asked: the node is unreachable'],
      ['lb-4', false, false, 'not served: edge proxies run under podman, lb-4 runs containerd'],
    ])
    const web = endpointToJson(live.endpoints[0]!)
    expect(web.backends[0]!.edges.map((x) => [x.node, x.actual, x.mismatch])).to.deep.equal([['lb-1', 'up', false], ['lb-2', 'unknown', false], ['lb-3', 'unknown', false], ['lb-4', 'unknown', false]])
    await getLiveEndpoints({store, connect}, 'nope').then(() => expect.fail('a job that does not exist'), (error: Error) => expect(error).to.be.instanceOf(NotFoundError))
    expect(asked).to.have.length(2)
  })
})
