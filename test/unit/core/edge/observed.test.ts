import {expect} from 'chai'
import fc from 'fast-check'

import type {ServerState} from '../../../../src/core/edge/haproxy.js'
import {agrees, compareService, EXPECTED, type HaproxyState, type ObservedServer, observedServers, strayBackends} from '../../../../src/core/edge/observed.js'

const SERVERS_STATE = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 be_web 1 t1 10.0.0.5 0 1 1 1 2 8 2 0 6 0 0 0 - 31000 - 0 0 - - 0
3 be_web 2 t2 10.0.0.5 2 8 1 1 1 1 0 0 2 0 0 0 - 31001 - 0 0 - - 0
3 be_web 3 t3 10.0.0.6 2 0 1 1 1 1 0 0 2 0 0 0 - 31002 - 0 0 - - 0
3 be_web 4 t4 10.0.0.6 0 4 1 1 0 1 0 2 6 0 0 0 - 31003 - 0 0 - - 0
`
const STAT = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight
be_web,t1,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1
be_web,t2,0,0,2,2,,5,0,0,,0,,0,0,0,0,DRAIN,1
be_web,t3,0,0,1,1,,9,0,0,,0,,0,0,0,0,UP,1
be_web,t4,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN 1/2,1
be_web,BACKEND,0,0,3,3,,14,0,0,0,0,,0,0,0,0,UP,2
`

describe('core/edge/observed: HAProxy\'s view beside clusterctl\'s', () => {
  it('reads the runtime API\'s answers: administrative state first, then the check (DOWN...), with connections', () => {
    const servers = observedServers(SERVERS_STATE, STAT).get('be_web')!
    expect(servers.map((s) => [s.name, s.state, s.connections, s.status, `${s.address}:${s.port}`])).to.deep.equal([
      ['t1', 'maint', 0, 'MAINT', '10.0.0.5:31000'],
      ['t2', 'drain', 2, 'DRAIN', '10.0.0.5:31001'],
      ['t3', 'up', 1, 'UP', '10.0.0.6:31002'],
      ['t4', 'down', 0, 'DOWN 1/2', '10.0.0.6:31003'],
    ])
    expect(observedServers('', '').size).to.equal(0)
  })

  it('expects ready -> up, drain -> drain, maint -> maint; a server not in rotation may be absent (it is never added)', () => {
    expect(EXPECTED).to.deep.equal({ready: 'up', drain: 'drain', maint: 'maint'})
    const table: Array<[ServerState, HaproxyState[]]> = [
      ['ready', ['up']],
      ['drain', ['drain', 'absent']],
      ['maint', ['maint', 'absent']],
    ]
    for (const [wanted, ok] of table) {
      for (const actual of ['up', 'drain', 'maint', 'down', 'absent'] as HaproxyState[]) expect(agrees(wanted, actual), `${wanted} vs ${actual}`).to.equal(ok.includes(actual))
    }
  })

  it('compares each wanted server on every edge: agreement, a mismatch, a moved address, an unread edge, and stale servers', () => {
    const live = (servers: Array<Partial<ObservedServer> & {name: string}>): Map<string, ObservedServer[]> => new Map([['be_web', servers.map((s) => ({address: '10.0.0.5', port: 31_000, state: 'up' as const, status: 'UP', connections: 0, ...s}))]])
    const service = {name: 'web', servers: [{name: 'a', address: '10.0.0.5', port: 31_000, state: 'ready' as const}, {name: 'b', address: '10.0.0.6', port: 31_001, state: 'drain' as const}]}
    const {servers, stale} = compareService(service, [
      {node: 'lb-1', servers: live([{name: 'a'}, {name: 'b', address: '10.0.0.6', port: 31_001, state: 'drain', connections: 1}])},
      {node: 'lb-2', servers: live([{name: 'a', state: 'maint'}, {name: 'old', address: '10.0.0.7', port: 31_009, connections: 3}])},
      {node: 'lb-3', servers: live([{name: 'a', address: '10.0.0.9'}, {name: 'b', address: '10.0.0.6', port: 31_001, state: 'up'}])},
      {node: 'lb-4', servers: null},
    ])
    expect(servers.get('a')).to.deep.equal([
      {node: 'lb-1', expected: 'up', actual: 'up', connections: 0, address: null, mismatch: false},
      {node: 'lb-2', expected: 'up', actual: 'maint', connections: 0, address: null, mismatch: true},
      {node: 'lb-3', expected: 'up', actual: 'up', connections: 0, address: '10.0.0.9:31000', mismatch: true},
      {node: 'lb-4', expected: 'up', actual: 'unknown', connections: null, address: null, mismatch: false},
    ])
    expect(servers.get('b')!.map((x) => [x.node, x.actual, x.mismatch])).to.deep.equal([['lb-1', 'drain', false], ['lb-2', 'absent', false], ['lb-3', 'up', true], ['lb-4', 'unknown', false]])
    expect(stale).to.deep.equal([{node: 'lb-2', backend: 'be_web', server: 'old', address: '10.0.0.7:31009', state: 'up', connections: 3}])
    expect(strayBackends([{name: 'web'}], [{node: 'lb-1', servers: new Map([['be_web', []], ['be_gone', [{name: 'x', address: '10.0.0.1', port: 1, state: 'up', status: 'UP', connections: 0}]]])}, {node: 'lb-2', servers: null}])).to.deep.equal([{node: 'lb-1', backend: 'be_gone', servers: 1}])
  })

  it('a mismatch is exactly a disagreement or a moved address; an edge that was not read never is one (property)', () => {
    const wanted = fc.constantFrom<ServerState>('ready', 'drain', 'maint')
    const actual = fc.option(fc.constantFrom<Exclude<HaproxyState, 'absent'>>('up', 'drain', 'maint', 'down'), {nil: undefined})
    fc.assert(
      fc.property(wanted, actual, fc.boolean(), fc.boolean(), (w, a, moved, read) => {
        const servers = read ? new Map([['be_s', a === undefined ? [] : [{name: 't', address: moved ? '10.0.0.2' : '10.0.0.1', port: 1, state: a, status: '', connections: 0}]]]) : null
        const [x] = compareService({name: 's', servers: [{name: 't', address: '10.0.0.1', port: 1, state: w}]}, [{node: 'e', servers}]).servers.get('t')!
        if (!read) return x!.actual === 'unknown' && !x!.mismatch
        return x!.actual === (a ?? 'absent') && x!.mismatch === ((moved && a !== undefined) || !agrees(w, a ?? 'absent'))
      }),
    )
  })
})
