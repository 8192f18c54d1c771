import {expect} from 'chai'
import fc from 'fast-check'

import {chooseServicePort, frontedPort, SERVICE_PORT_RANGE, servicePortProblem} from '../../../../src/core/edge/service-ports.js'
import type {PortSpec} from '../../../../src/core/model/job.js'
import {DEFAULT_PORT_RANGE} from '../../../../src/core/scheduler/constraints.js'

const tcp = (containerPort: number): PortSpec => ({containerPort, protocol: 'tcp', name: null})
const udp = (containerPort: number): PortSpec => ({containerPort, protocol: 'udp', name: null})

describe('core/edge/service-ports', () => {
  it('a service port fronts the first TCP port of a service; batch jobs and UDP-only services front nothing', () => {
    expect(frontedPort({kind: 'service', ports: [udp(53), tcp(8080), tcp(9090)]})).to.deep.equal(tcp(8080))
    expect(frontedPort({kind: 'service', ports: [udp(53)]})).to.equal(null)
    expect(frontedPort({kind: 'service', ports: []})).to.equal(null)
    expect(frontedPort({kind: 'batch', ports: [tcp(8080)]})).to.equal(null)
  })

  it('a spec\'s port must be a TCP port outside the host-port pool', () => {
    expect(servicePortProblem(80, DEFAULT_PORT_RANGE)).to.equal(null)
    expect(servicePortProblem(10_500, DEFAULT_PORT_RANGE)).to.equal(null)
    expect(servicePortProblem(0, DEFAULT_PORT_RANGE)).to.match(/must be a TCP port 1-65535, got 0/)
    expect(servicePortProblem(65_536, DEFAULT_PORT_RANGE)).to.match(/1-65535/)
    expect(servicePortProblem(31_000, DEFAULT_PORT_RANGE)).to.match(/31000 is in the host-port pool 31000-32000/)
    expect(servicePortProblem(32_000, DEFAULT_PORT_RANGE)).to.match(/host-port pool/)
  })

  it('the spec\'s port wins, unless another job holds it; else the job keeps its own; else the lowest free one', () => {
    const svc = {kind: 'service' as const, ports: [tcp(8080)]}
    const taken = new Map([[10_000, 'a'], [10_001, 'b'], [80, 'web']])
    expect(chooseServicePort({...svc, servicePort: 443}, null, taken)).to.deep.equal({ok: true, port: 443})
    expect(chooseServicePort({...svc, servicePort: 80}, null, taken)).to.deep.equal({ok: false, reason: 'taken', port: 80, holder: 'web'})
    expect(chooseServicePort(svc, 10_500, taken)).to.deep.equal({ok: true, port: 10_500})
    expect(chooseServicePort(svc, null, taken)).to.deep.equal({ok: true, port: 10_002})
    expect(chooseServicePort({kind: 'batch', ports: [tcp(8080)]}, 10_500, taken)).to.deep.equal({ok: true, port: null})
    expect(chooseServicePort(svc, null, new Map([[1, 'x'], [2, 'y']]), {from: 1, to: 2})).to.deep.equal({ok: false, reason: 'exhausted'})
  })

  it('property: an assigned port is in the range, held by no other job, and a job\'s own port is kept', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({min: SERVICE_PORT_RANGE.from, max: SERVICE_PORT_RANGE.to}), {maxLength: 60}), fc.option(fc.integer({min: SERVICE_PORT_RANGE.from, max: SERVICE_PORT_RANGE.to})), (held, current) => {
        const taken = new Map(held.map((p, i) => [p, `job-${i}`]))
        const choice = chooseServicePort({kind: 'service', ports: [tcp(80)]}, current, taken)
        expect(choice.ok).to.equal(true)
        if (!choice.ok) return
        expect(taken.has(choice.port!)).to.equal(false)
        expect(choice.port).to.be.within(SERVICE_PORT_RANGE.from, SERVICE_PORT_RANGE.to)
        if (current !== null && !taken.has(current)) expect(choice.port).to.equal(current)
        // the lowest free one otherwise
        else expect([...Array(choice.port! - SERVICE_PORT_RANGE.from).keys()].every((i) => taken.has(SERVICE_PORT_RANGE.from + i))).to.equal(true)
      }),
    )
  })
})
