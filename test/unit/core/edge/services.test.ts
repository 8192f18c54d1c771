import {expect} from 'chai'

import {edgeCheckOf, edgeServices, serverStateOf} from '../../../../src/core/edge/services.js'
import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {Node, NodeState} from '../../../../src/core/model/node.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'

function job(name: string, raw: Record<string, unknown>, servicePort: number | null): Job {
  const spec = validateJobSpec({name, image: 'localhost/app:1', ...raw}, 'test')
  return {id: `job-${name}`, name, kind: spec.kind, spec, specHash: containerSpecHash(spec), instances: spec.instances, generation: 0, state: 'active', servicePort, createdAt: 0, updatedAt: 0}
}

const node = (id: string, address: string, state: NodeState = 'ready'): Node => ({id, name: id, resolvedAddress: address, state} as Node)

function task(j: Job, id: string, patch: Partial<Task> = {}): Task {
  return {
    id, jobId: j.id, jobName: j.name, instance: 0, nodeId: 'n1', nodeName: 'n1', state: 'running', desired: 'run', health: 'healthy', healthFailures: 0, healthCheckedAt: null, healthMessage: null,
    replaces: null, containerName: `c-${id}`, hostPorts: [{containerPort: 53, hostPort: 31_053, protocol: 'udp'}, {containerPort: 8080, hostPort: 31_000, protocol: 'tcp'}, {containerPort: 9090, hostPort: 31_090, protocol: 'tcp'}],
    specHash: j.specHash, reason: null, reasonData: null, restarts: 0, exitCode: null, createdAt: 0, updatedAt: 0, startedAt: 0, finishedAt: null, ...patch,
  }
}

describe('core/edge/services: what the edges serve, readiness-gated', () => {
  const web = job('web', {ports: ['53/udp', 8080, 9090], healthCheck: {http: '8080/health'}, readinessCheck: {http: '9090/ready'}}, 10_000)

  it('in rotation only when running, healthy and ready on a node that answers; draining when it is to stop; out when its node fails or it is not ready', () => {
    const ok = node('n1', 'root@10.0.0.5:22')
    const state = (patch: Partial<Task>, n: Node = ok, j: Job = web) => serverStateOf(task(j, 't', {readiness: 'ready', ...patch}), j, n)
    expect(state({})).to.equal('ready')
    expect(state({readiness: 'not-ready'})).to.equal('maint')
    expect(state({health: 'unknown'})).to.equal('maint')
    expect(state({state: 'starting'})).to.equal('maint')
    expect(state({desired: 'stop'})).to.equal('drain')
    expect(state({}, ok, {...web, state: 'stopped'})).to.equal('drain')
    for (const s of ['suspect', 'down', 'unreachable'] as const) expect(state({}, node('n1', 'root@10.0.0.5:22', s))).to.equal('maint')
    expect(state({}, node('n1', 'root@10.0.0.5:22', 'draining'))).to.equal('ready')
    expect(state({state: 'finished'})).to.equal(null)
    // without checks: ready once running
    const plain = job('plain', {ports: [8080]}, 10_001)
    expect(serverStateOf(task(plain, 't', {health: 'unknown'}), plain, ok)).to.equal('ready')
  })

  it('a service per job with a service port; servers by task id at the node\'s address and the first TCP host port; the check on its own host port', () => {
    const batch = job('etl', {kind: 'batch', ports: [8080]}, null)
    const nodes = [node('n1', 'root@10.0.0.5:22'), node('n2', 'local')]
    const tasks = [task(web, 'b-task', {nodeId: 'n2', readiness: 'ready'}), task(web, 'a-task', {readiness: 'not-ready'}), task(web, 'pending', {nodeId: null, state: 'pending'}), task(batch, 'x')]
    expect(edgeServices([web, batch], tasks, nodes)).to.deep.equal([{
      name: 'web',
      servicePort: 10_000,
      check: {type: 'http', path: '/ready', intervalMs: 2000, timeoutMs: 2000, fall: 3, rise: 2},
      servers: [
        {name: 'a-task', address: '10.0.0.5', port: 31_000, checkPort: 31_090, state: 'maint'},
        {name: 'b-task', address: '127.0.0.1', port: 31_000, checkPort: 31_090, state: 'ready'},
      ],
    }])
  })

  it('HAProxy checks: the readiness check, else the health check, as HTTP when it is one, else a TCP connect; every 2 s at most', () => {
    expect(edgeCheckOf({healthCheck: null})).to.deep.include({type: 'tcp', containerPort: null, intervalMs: 2000})
    expect(edgeCheckOf(job('a', {ports: [80], healthCheck: {tcp: 80, interval: '1s', timeout: '500ms'}}, 1).spec)).to.deep.include({type: 'tcp', containerPort: 80, intervalMs: 1000, timeoutMs: 500})
    expect(edgeCheckOf(job('a', {ports: [80], healthCheck: {cmd: 'true'}}, 1).spec)).to.deep.include({type: 'tcp', containerPort: null})
    expect(edgeCheckOf(job('a', {ports: [80], healthCheck: {http: '80/h'}}, 1).spec)).to.deep.include({type: 'http', path: '/h', containerPort: 80})
  })
})
