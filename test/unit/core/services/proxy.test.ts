import {expect} from 'chai'
import net from 'node:net'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import {FailedError, NotFoundError} from '../../../../src/core/errors.js'
import {openProxy, type ProxyEvent, type ProxyHandle} from '../../../../src/core/services/proxy.js'
import {insertJob, insertTask, updateTask} from '../../../../src/core/state/jobs.js'
import {insertNode} from '../../../../src/core/state/nodes.js'
import {Store} from '../../../../src/core/state/store.js'
import {makeTempDir} from '../../../helpers/tmp.js'
import {aJob, aNode, aTask, NOW} from '../../ui/dashboard/fixtures.js'

/** A backend on 127.0.0.1 that answers every connection with its name, then echoes. */
async function backend(name: string): Promise<net.Server> {
  const server = net.createServer((c) => {
    c.on('error', () => undefined)
    c.write(`${name}\n`)
    c.pipe(c)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port

/** Connects through the proxy, sends `ping`, returns what came back (the backend's name and the echo). */
function call(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    const c = net.connect(port, '127.0.0.1', () => c.write('ping\n'))
    c.on('data', (d) => {
      out += d.toString()
      if (out.includes('ping\n')) c.end()
    })
    c.on('close', () => resolve(out))
    c.on('error', reject)
  })
}

describe('core/services/proxy: clusterctl proxy JOB, over real sockets', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store
  const servers: net.Server[] = []
  let proxy: ProxyHandle | undefined
  const web = aJob('web', {servicePort: 10_000})

  beforeEach(() => {
    tmp = makeTempDir()
    store = Store.open(path.join(tmp.dir, 'state.db'), new ManualClock(NOW))
    store.write(() => {
      insertNode(store, aNode('here', {resolvedAddress: 'local'}))
      insertJob(store, web)
      insertJob(store, aJob('etl', {kind: 'batch', servicePort: null}))
    })
  })
  afterEach(async () => {
    await proxy?.close()
    proxy = undefined
    for (const s of servers.splice(0)) s.close()
    store.close()
    tmp.cleanup()
  })

  async function instance(name: string, instanceNo: number, patch: Record<string, unknown> = {}): Promise<void> {
    const s = await backend(name)
    servers.push(s)
    store.write(() => insertTask(store, aTask(web, instanceNo, 'here', {id: `task-${name}`, hostPorts: [{containerPort: 8080, hostPort: portOf(s), protocol: 'tcp'}], ...patch})))
  }

  it('sends connections to the ready instances round robin, never to one that is not ready, and follows changes', async () => {
    await instance('a', 0)
    await instance('b', 1)
    await instance('unready', 2, {health: 'unknown', state: 'starting'})
    const events: ProxyEvent[] = []
    proxy = await openProxy({store}, 'web', {refreshMs: 50, onEvent: (e) => events.push(e)})
    expect(proxy.host).to.equal('127.0.0.1')
    const answers = [await call(proxy.port), await call(proxy.port), await call(proxy.port), await call(proxy.port)]
    expect(answers.map((a) => a.split('\n')[0]).sort()).to.deep.equal(['a', 'a', 'b', 'b'])
    expect(answers.every((a) => a.endsWith('ping\n'))).to.equal(true)
    expect(events[0]).to.deep.equal({kind: 'backends', ready: 2})

    // b stops: from the next refresh on only a answers
    store.write(() => updateTask(store, 'task-b', {desired: 'stop'}, NOW))
    for (let i = 0; i < 100 && proxy.ready() !== 1; i++) await new Promise((r) => setTimeout(r, 20))
    expect(proxy.ready()).to.equal(1)
    expect([await call(proxy.port), await call(proxy.port)].map((a) => a.split('\n')[0])).to.deep.equal(['a', 'a'])
  })

  it('skips an instance that refuses for the next one', async () => {
    await instance('a', 0)
    const dead = await backend('dead')
    const deadPort = portOf(dead)
    await new Promise((resolve) => dead.close(resolve))
    store.write(() => insertTask(store, aTask(web, 1, 'here', {id: 'task-dead', hostPorts: [{containerPort: 8080, hostPort: deadPort, protocol: 'tcp'}]})))
    const events: ProxyEvent[] = []
    proxy = await openProxy({store}, 'web', {onEvent: (e) => events.push(e)})
    for (let i = 0; i < 4; i++) expect((await call(proxy.port)).split('\n')[0]).to.equal('a')
    expect(events.filter((e) => e.kind === 'skipped').map((e) => (e as {backend: string}).backend)).to.include(`127.0.0.1:${deadPort}`)
  })

  it('a job without a service port is not found (exit 3); a port in use fails clearly', async () => {
    await openProxy({store}, 'etl').then(() => expect.fail('expected a refusal'), (e: unknown) => expect(e).to.be.instanceOf(NotFoundError))
    proxy = await openProxy({store}, 'web')
    const error = await openProxy({store}, 'web', {port: proxy.port}).then(() => null, (e: unknown) => e)
    expect(error).to.be.instanceOf(FailedError)
    expect((error as Error).message).to.equal(`Port ${proxy.port} is in use on 127.0.0.1.`)
  })
})
