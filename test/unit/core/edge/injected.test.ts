import {expect} from 'chai'

import {serviceAddresses, serviceAddressEnv, serviceEnvName} from '../../../../src/core/edge/injected.js'
import type {Node} from '../../../../src/core/model/node.js'

type EdgeNode = Pick<Node, 'name' | 'edge' | 'state' | 'resolvedAddress'>
const node = (name: string, address: string, edge: boolean, state: Node['state'] = 'ready'): EdgeNode => ({name, edge, state, resolvedAddress: address})

describe('core/edge/injected: the addresses a job\'s containers get for the services it uses', () => {
  const jobs = new Map([['db', {servicePort: 10_000}], ['product-cache', {servicePort: 10_007}], ['batch', {servicePort: null}]])

  it('names: capitals, - as _, a leading _ before a digit', () => {
    expect(serviceEnvName('db')).to.equal('DB')
    expect(serviceEnvName('product-cache')).to.equal('PRODUCT_CACHE')
    expect(serviceEnvName('3d-render')).to.equal('_3D_RENDER')
  })

  it('HOST is the first answering edge by name, HOSTS every edge by name, PORT the service port; never a worker', () => {
    const nodes = [node('w1', '10.0.0.1', false), node('edge-b', '10.0.1.2', true), node('edge-a', '10.0.1.1', true, 'down'), node('edge-c', '10.0.1.3', true)]
    expect(serviceAddressEnv(['db', 'product-cache'], jobs, nodes)).to.deep.equal({
      DB_SERVICE_PORT: '10000',
      DB_SERVICE_HOST: '10.0.1.2',
      DB_SERVICE_HOSTS: '10.0.1.1,10.0.1.2,10.0.1.3',
      PRODUCT_CACHE_SERVICE_PORT: '10007',
      PRODUCT_CACHE_SERVICE_HOST: '10.0.1.2',
      PRODUCT_CACHE_SERVICE_HOSTS: '10.0.1.1,10.0.1.2,10.0.1.3',
    })
  })

  it('every edge down: the first by name (an address is better than none); no edge: the port alone; a service gone or without a port: nothing', () => {
    expect(serviceAddressEnv(['db'], jobs, [node('e2', '10.0.1.2', true, 'down'), node('e1', '10.0.1.1', true, 'unreachable')])).to.include({DB_SERVICE_HOST: '10.0.1.1'})
    expect(serviceAddressEnv(['db'], jobs, [node('w1', '10.0.0.1', false)])).to.deep.equal({DB_SERVICE_PORT: '10000'})
    expect(serviceAddressEnv(['gone', 'batch'], jobs, [node('e1', '10.0.1.1', true)])).to.deep.equal({})
    expect(serviceAddressEnv(undefined, jobs, [node('e1', '10.0.1.1', true)])).to.deep.equal({})
  })

  it('a service\'s address (ps, inspect, the dashboard): the same first edge as HOST, with the service port; every edge by name; none without an edge', () => {
    const nodes = [node('w1', '10.0.0.1', false), node('edge-b', 'root@10.0.1.2:22', true), node('edge-a', 'root@[2001:db8::1]:22', true, 'down')]
    const jobs = [{name: 'db', servicePort: 10_000}, {name: 'batch', servicePort: null}]
    expect([...serviceAddresses(jobs, nodes)]).to.deep.equal([['db', {servicePort: 10_000, address: '10.0.1.2:10000', addresses: ['[2001:db8::1]:10000', '10.0.1.2:10000']}]])
    expect(serviceAddresses(jobs, nodes).get('db')!.address).to.equal(`${serviceAddressEnv(['db'], new Map([['db', {servicePort: 10_000}]]), nodes).DB_SERVICE_HOST}:10000`)
    expect(serviceAddresses(jobs, [node('w1', '10.0.0.1', false)]).get('db')).to.deep.equal({servicePort: 10_000, address: null, addresses: []})
  })
})
