import {expect} from 'chai'
import fc from 'fast-check'

import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {applyCheckResult, isCheckDue, isReady} from '../../../../src/core/reconcile/health.js'
import {DEFAULT_HEARTBEAT, discountClusterWideSilence, type HeartbeatOutcome, judgeHeartbeat} from '../../../../src/core/reconcile/heartbeat.js'
import {planMoves} from '../../../../src/core/reconcile/moves.js'
import {MARK, observeArgv, parseObservation, probeArgv} from '../../../../src/core/reconcile/observation.js'
import {parseHealthProbe} from '../../../../src/core/health/parse.js'
import {healthProbeScript} from '../../../../src/core/health/probe.js'
import {execFileSync} from 'node:child_process'
import type {Node} from '../../../../src/core/model/node.js'
import {runtimeFor} from '../../../../src/runtime/index.js'
import type {SchedNode, Snapshot, TaskRequest} from '../../../../src/core/scheduler/types.js'

const T0 = 1_750_000_000_000
type Rec = Pick<Node, 'state' | 'adminState' | 'missedHeartbeats' | 'heartbeatError' | 'lastSeenAt' | 'stateSince' | 'createdAt'>
const ready: Rec = {state: 'ready', adminState: 'ready', missedHeartbeats: 0, heartbeatError: null, lastSeenAt: T0, stateSince: T0, createdAt: 0}
const miss: HeartbeatOutcome = {kind: 'missed', refused: false, error: 'no heartbeat within 1.5s'}
const answered: HeartbeatOutcome = {kind: 'answered', usage: {load1: 0.5, memAvailableBytes: 1024}}

describe('core/reconcile/heartbeat', () => {
  it('one miss: suspect; a second miss after downAfter of silence: down; an answer: back to what the operator asked', () => {
    const a = judgeHeartbeat(ready, miss, T0 + 2_000)
    expect(a.patch).to.deep.include({state: 'suspect', missedHeartbeats: 1})
    expect(a.transition).to.deep.include({from: 'ready', to: 'suspect'})
    const b = judgeHeartbeat({...ready, ...a.patch}, miss, T0 + 3_900)
    expect(b.patch.state).to.equal('suspect') // two misses but only 3.9 s of silence
    const c = judgeHeartbeat({...ready, ...b.patch}, miss, T0 + 4_000)
    expect(c.patch).to.deep.include({state: 'down', missedHeartbeats: 3})
    const d = judgeHeartbeat({...ready, ...c.patch, adminState: 'cordoned'}, answered, T0 + 9_000)
    expect(d.patch).to.deep.include({state: 'cordoned', missedHeartbeats: 0, lastSeenAt: T0 + 9_000})
    expect(d.transition!.reason).to.match(/answers its heartbeats again after 3 missed/)
  })

  it('a refusal (sshd down, auth, host key) makes the node unreachable rather than down', () => {
    const refused: HeartbeatOutcome = {kind: 'missed', refused: true, error: 'Connection refused'}
    const a = judgeHeartbeat({...ready, missedHeartbeats: 1, state: 'suspect'}, refused, T0 + 5_000)
    expect(a.patch.state).to.equal('unreachable')
  })

  it('an inconclusive observation changes nothing', () => {
    const r = judgeHeartbeat({...ready, state: 'suspect', missedHeartbeats: 1}, {kind: 'inconclusive', why: 'stalled'}, T0 + 60_000)
    expect(r.transition).to.equal(null)
    expect(r.patch).to.deep.include({state: 'suspect', missedHeartbeats: 1})
  })

  it('never declares a node down before missesToDown misses and downAfter of silence (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({min: 1, max: 3_000}), {minLength: 1, maxLength: 20}), (gaps) => {
        let node: Rec = ready
        let now = T0
        gaps.forEach((gap, i) => {
          now += gap
          node = {...node, ...judgeHeartbeat(node, miss, now).patch}
          if (node.state === 'down') expect(i + 1 >= DEFAULT_HEARTBEAT.missesToDown && now - T0 >= DEFAULT_HEARTBEAT.downAfterMs).to.equal(true)
        })
      }),
    )
  })

  it('when every node of a cluster misses at once, no miss counts (the controller is the likely fault)', () => {
    const all = discountClusterWideSilence(new Map([['a', miss], ['b', miss]]))
    expect([...all.values()].map((o) => o.kind)).to.deep.equal(['inconclusive', 'inconclusive'])
    const one = discountClusterWideSilence(new Map<string, HeartbeatOutcome>([['a', miss], ['b', answered]]))
    expect([...one.values()].map((o) => o.kind)).to.deep.equal(['missed', 'answered'])
    expect(discountClusterWideSilence(new Map([['a', miss]])).get('a')!.kind).to.equal('missed')
  })
})

describe('core/reconcile/health', () => {
  const check = validateJobSpec({name: 'w', image: 'i', ports: [80], healthCheck: {http: '80/healthz', gracePeriod: '10s', interval: '5s', maxConsecutiveFailures: 2}}, 't').healthCheck!

  it('is due when never checked or after its interval, and only for running tasks', () => {
    expect(isCheckDue({state: 'running', healthCheckedAt: null}, check, T0)).to.equal(true)
    expect(isCheckDue({state: 'running', healthCheckedAt: T0 - 4_999}, check, T0)).to.equal(false)
    expect(isCheckDue({state: 'running', healthCheckedAt: T0 - 5_000}, check, T0)).to.equal(true)
    expect(isCheckDue({state: 'staging', healthCheckedAt: null}, check, T0)).to.equal(false)
    expect(isCheckDue({state: 'running', healthCheckedAt: null}, null, T0)).to.equal(false)
  })

  it('failures in the grace period do not count; then maxConsecutiveFailures in a row make it unhealthy; a pass resets', () => {
    const fresh = {health: 'unknown' as const, healthFailures: 0, startedAt: T0}
    expect(applyCheckResult(fresh, check, false, 'failed (exit 22)', T0 + 5_000)).to.deep.include({health: 'unknown', healthFailures: 0})
    const one = applyCheckResult(fresh, check, false, 'failed (exit 22)', T0 + 11_000)
    expect(one).to.deep.include({health: 'unknown', healthFailures: 1})
    expect(applyCheckResult({...fresh, ...one}, check, false, 'x', T0 + 16_000)).to.deep.include({health: 'unhealthy', healthFailures: 2})
    expect(applyCheckResult({...fresh, ...one}, check, true, 'passed', T0 + 16_000)).to.deep.include({health: 'healthy', healthFailures: 0})
  })

  it('ready means running, and healthy when there is a check', () => {
    expect(isReady({state: 'running', health: 'unknown'}, null)).to.equal(true)
    expect(isReady({state: 'running', health: 'unknown'}, check)).to.equal(false)
    expect(isReady({state: 'running', health: 'healthy'}, check)).to.equal(true)
    expect(isReady({state: 'staging', health: 'healthy'}, check)).to.equal(false)
  })
})

describe('core/reconcile/observation', () => {
  it('prints the heartbeat first and the listing after every probe, and parses it back', () => {
    const argv = observeArgv(['podman', 'ps'], [{taskId: 't1', argv: ['true'], timeoutMs: 2_000}])
    expect(argv[0]).to.equal('sh')
    const script = argv[2]!
    expect(script.indexOf('heartbeat')).to.be.lessThan(script.indexOf('health'))
    expect(script.indexOf('wait')).to.be.lessThan(script.indexOf('list-begin'))
    const parsed = parseObservation([`${MARK} heartbeat 1750000000000000000`, `${MARK} usage 0.42 2048`, `${MARK} health 0 7`, `${MARK} list-begin`, '[{"x": 1}]', '', `${MARK} list-end 0`].join('\n'))
    expect(parsed.heartbeat).to.equal(true)
    expect(parsed.usage).to.deep.equal({load1: 0.42, memAvailableBytes: 2048 * 1024})
    expect([...parsed.health]).to.deep.equal([[0, 7]])
    expect(parsed.listing).to.deep.equal({stdout: '[{"x": 1}]\n', code: 0})
  })

  it('carries the health probe when due: it runs beside the listing, its output comes back whole before the listing (run by sh here)', () => {
    const hp = {...healthProbeScript({paths: ['/'], runtime: null, smartCache: null}), timeoutMs: 6_000}
    const argv = observeArgv(['echo', '[{"listing": true}]'], [{taskId: 't1', argv: ['true'], timeoutMs: 2_000}], hp)
    const parsed = parseObservation(execFileSync(argv[0]!, argv.slice(1), {encoding: 'utf8', timeout: 30_000}))
    expect(parsed.heartbeat).to.equal(true)
    expect([...parsed.health]).to.deep.equal([[0, 0]])
    expect(parsed.listing).to.deep.equal({stdout: '[{"listing": true}]', code: 0})
    const sample = parseHealthProbe(parsed.healthProbe!, 1)
    expect(sample.filesystems.map((f) => f.path)).to.deep.equal(['/'])
    expect(sample.memory.totalBytes).to.be.greaterThan(0)
    // Not due: no probe in the script, none parsed.
    const plain = observeArgv(['echo', '[]'], [])
    expect(plain[2]).not.to.include('clusterctl-health')
    expect(parseObservation(execFileSync(plain[0]!, plain.slice(1), {encoding: 'utf8'})).healthProbe).to.equal(null)
  })

  it('lists the cluster\'s networks beside the containers when asked (run by sh here); a failed listing teaches nothing', () => {
    const argv = observeArgv(['echo', '[]'], [], null, ['printf', 'backend\\nfront\\n'])
    const parsed = parseObservation(execFileSync(argv[0]!, argv.slice(1), {encoding: 'utf8', timeout: 30_000}))
    expect(parsed.networks).to.deep.equal(['backend', 'front'])
    expect(parsed.listing).to.deep.equal({stdout: '[]', code: 0})
    const failed = observeArgv(['echo', '[]'], [], null, ['sh', '-c', 'echo half; exit 3'])
    expect(parseObservation(execFileSync(failed[0]!, failed.slice(1), {encoding: 'utf8', timeout: 30_000})).networks).to.equal(null)
    const none = observeArgv(['echo', '[]'], [])
    expect(none[2]).not.to.include('networks')
    expect(parseObservation(execFileSync(none[0]!, none.slice(1), {encoding: 'utf8'})).networks).to.equal(null)
  })

  it('an observation cut short has no listing', () => {
    expect(parseObservation(`${MARK} heartbeat 1\n${MARK} list-begin\n[`).listing).to.equal(null)
  })

  it('builds http, tcp and cmd probes run from the node', () => {
    const spec = (hc: unknown) => validateJobSpec({name: 'w', image: 'i', ports: [80], healthCheck: hc}, 't').healthCheck!
    const target = {host: '10.0.0.5', hostPort: 31001, containerName: 'cctl-w-0-abcdef12', runtime: runtimeFor('podman'), execId: 'hc-1'}
    expect(probeArgv(spec({http: '80/healthz'}), target)!.slice(4)).to.deep.equal(['http://10.0.0.5:31001/healthz', '5'])
    expect(probeArgv(spec({tcp: 80}), target)!.slice(4)).to.deep.equal(['10.0.0.5', '31001', '5'])
    expect(probeArgv(spec({cmd: 'test -f /ok'}), target)).to.deep.equal(['podman', 'exec', 'cctl-w-0-abcdef12', 'sh', '-c', 'test -f /ok'])
    expect(probeArgv(spec({cmd: 'true'}), {...target, runtime: runtimeFor('containerd')})).to.deep.equal(['ctr', '-n', 'clusterctl', 'task', 'exec', '--exec-id', 'hc-1', 'cctl-w-0-abcdef12', 'sh', '-c', 'true'])
  })
})

describe('core/reconcile/moves', () => {
  const node = (id: string, labels: Record<string, string> = {}, state: SchedNode['state'] = 'ready'): SchedNode => ({
    id, name: id, state, labels, allocatable: {cpuMilli: 4000, memBytes: 8 * 2 ** 30, diskBytes: 0, gpus: 0}, allocated: {cpuMilli: 0, memBytes: 0, diskBytes: 0, gpus: 0}, usedPorts: [],
  })
  const request = (taskId: string, jobId = 'web'): TaskRequest => ({taskId, jobId, instance: 0, resources: {cpuMilli: 100, memBytes: 64 * 2 ** 20, diskBytes: 0, gpus: 0}, ports: 0, constraints: [], preferences: [{field: 'zone', value: 'b'}]})

  it('moves a task to a node that satisfies its preference, one per job and at most maxPerPass', () => {
    const snapshot: Snapshot = {nodes: [node('h1', {zone: 'a'}), node('h2', {zone: 'b'})], placed: [{taskId: 't1', jobId: 'web', nodeId: 'h1'}, {taskId: 't2', jobId: 'web', nodeId: 'h1'}, {taskId: 't3', jobId: 'api', nodeId: 'h1'}]}
    const moves = planMoves(snapshot, [{request: request('t1'), nodeId: 'h1', hostPorts: [], label: 'web.0'}, {request: request('t2'), nodeId: 'h1', hostPorts: [], label: 'web.1'}, {request: request('t3', 'api'), nodeId: 'h1', hostPorts: [], label: 'api.0'}], {seed: 1, settings: {maxPerPass: 1, strategyGain: 0.25, maxCandidates: 64}})
    expect(moves).to.have.length(1)
    expect(moves[0]).to.deep.include({taskId: 't1', from: {nodeId: 'h1', nodeName: 'h1'}, to: {nodeId: 'h2', nodeName: 'h2'}})
    expect(moves[0]!.why).to.match(/satisfies more of its preferences/)
  })

  it('does not move off a node that already satisfies it, nor to a node that cannot take work', () => {
    const here: Snapshot = {nodes: [node('h1', {zone: 'b'}), node('h2', {zone: 'b'})], placed: [{taskId: 't1', jobId: 'web', nodeId: 'h1'}]}
    expect(planMoves(here, [{request: request('t1'), nodeId: 'h1', hostPorts: [], label: 'web.0'}], {seed: 1})).to.deep.equal([])
    const cordoned: Snapshot = {nodes: [node('h1', {zone: 'a'}), node('h2', {zone: 'b'}, 'cordoned')], placed: [{taskId: 't1', jobId: 'web', nodeId: 'h1'}]}
    expect(planMoves(cordoned, [{request: request('t1'), nodeId: 'h1', hostPorts: [], label: 'web.0'}], {seed: 1})).to.deep.equal([])
  })
})

describe('core/reconcile/moves: bounded work', () => {
  it('examines at most maxCandidates tasks per pass, those missing a preference first', () => {
    const node = (id: string, labels: Record<string, string>): SchedNode => ({id, name: id, state: 'ready', labels, allocatable: {cpuMilli: 64_000, memBytes: 64 * 2 ** 30, diskBytes: 0, gpus: 0}, allocated: {cpuMilli: 0, memBytes: 0, diskBytes: 0, gpus: 0}, usedPorts: []})
    const nodes = [node('a', {zone: 'b'}), node('b', {zone: 'b'}), node('c', {zone: 'c'})]
    const req = (i: number, prefs: TaskRequest['preferences']): TaskRequest => ({taskId: `t${i}`, jobId: `j${i}`, instance: 0, resources: {cpuMilli: 10, memBytes: 2 ** 20, diskBytes: 0, gpus: 0}, ports: 0, constraints: [], preferences: prefs})
    const satisfied = Array.from({length: 200}, (_, i) => ({request: req(i, [{field: 'zone', value: 'b'}]), nodeId: i % 2 ? 'a' : 'b', hostPorts: [], label: `j${i}.0`}))
    const misplaced = {request: req(999, [{field: 'zone', value: 'b'}]), nodeId: 'c', hostPorts: [], label: 'j999.0'}
    const snapshot: Snapshot = {nodes, placed: [...satisfied, misplaced].map((c) => ({taskId: c.request.taskId, jobId: c.request.jobId, nodeId: c.nodeId}))}
    const moves = planMoves(snapshot, [...satisfied, misplaced], {seed: 7, settings: {maxPerPass: 2, strategyGain: 0.25, maxCandidates: 5}})
    expect(moves.map((m) => m.taskId)).to.deep.equal(['t999'])
  })
})
