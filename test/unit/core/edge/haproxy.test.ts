import {expect} from 'chai'
import fc from 'fast-check'
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import {adminSocket, type EdgeService, liveServers, type LiveServer, parseServerStats, parseServersState, READ_COMMANDS, renderHaproxyConfig, runtimeCommands, type ServerState} from '../../../../src/core/edge/haproxy.js'
import {compareService, observedServers} from '../../../../src/core/edge/observed.js'
import {makeTempDir} from '../../../helpers/tmp.js'

const check = {type: 'http' as const, path: '/ready', intervalMs: 2000, timeoutMs: 1000, fall: 3, rise: 2}
const web: EdgeService = {
  name: 'web',
  servicePort: 10_000,
  check,
  servers: [
    {name: 'task-b', address: '10.0.0.6', port: 31_001, checkPort: null, state: 'drain'},
    {name: 'task-a', address: '10.0.0.5', port: 31_000, checkPort: 31_005, state: 'ready'},
    {name: 'task-c', address: 'fd00::7', port: 31_002, checkPort: null, state: 'maint'},
  ],
}
const db: EdgeService = {name: 'db', servicePort: 5432, check: {...check, type: 'tcp', path: null}, servers: []}

/**
 * `haproxy -c -f FILE` on a configuration: HAProxy 2.6 from Debian (scripts/setup.sh
 * installs it). Missing, the test fails: it is never skipped.
 */
function haproxyCheck(text: string, dir: string): {status: number | null; output: string} {
  const file = path.join(dir, `haproxy-${Math.random().toString(36).slice(2)}.cfg`)
  fs.writeFileSync(file, text)
  const r = spawnSync('haproxy', ['-c', '-f', file], {encoding: 'utf8'})
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('haproxy is not installed: run scripts/setup.sh (it installs the Debian haproxy package), or `apt-get install -y haproxy`.')
  return {status: r.status, output: `${r.stdout}${r.stderr}`}
}

describe('core/edge/haproxy: the edge proxy configuration', () => {
  let tmp: ReturnType<typeof makeTempDir>
  beforeEach(() => {
    tmp = makeTempDir()
  })
  afterEach(() => tmp.cleanup())

  it('a frontend per service port, a backend per service, servers named by task id (ready in rotation, drain and maint disabled), checks, the admin socket with expose-fd, hard-stop-after', () => {
    const text = renderHaproxyConfig([web, db], {runDir: '/run/clusterctl-edge'})
    expect(text).to.equal(`# Written by clusterctl (docs/endpoints.md); changes here are overwritten.
global
  stats socket /run/clusterctl-edge/admin.sock mode 600 level admin expose-fd listeners
  stats timeout 30s
  hard-stop-after 30000ms

defaults
  mode tcp
  timeout connect 2000ms
  timeout client 3600000ms
  timeout server 3600000ms
  timeout check 5s
  option redispatch 1
  retries 2

# HAProxy does not start without a listener: this one refuses every connection.
frontend clusterctl_idle
  bind unix@/run/clusterctl-edge/idle.sock
  tcp-request connection reject

frontend fe_db
  bind 0.0.0.0:5432
  default_backend be_db

backend be_db
  balance roundrobin
  timeout check 1000ms

frontend fe_web
  bind 0.0.0.0:10000
  default_backend be_web

backend be_web
  balance roundrobin
  option httpchk
  http-check send meth GET uri /ready
  http-check expect status 200-399
  timeout check 1000ms
  server task-a 10.0.0.5:31000 check inter 2000ms fall 3 rise 2 port 31005
  server task-b 10.0.0.6:31001 check inter 2000ms fall 3 rise 2 disabled
  server task-c fd00::7:31002 check inter 2000ms fall 3 rise 2 disabled
`)
  })

  it('haproxy -c accepts it', () => {
    const r = haproxyCheck(renderHaproxyConfig([web, db], {runDir: tmp.dir, hardStopAfterMs: 10_000}), tmp.dir)
    expect(r.output).to.not.match(/WARNING|ALERT/)
    expect(r.status, r.output).to.equal(0)
  })

  it('haproxy -c accepts it with no service at all (the idle listener keeps it startable)', () => {
    const r = haproxyCheck(renderHaproxyConfig([], {runDir: tmp.dir}), tmp.dir)
    expect(r.status, r.output).to.equal(0)
  })

  it('property: any services give a file haproxy -c accepts, the same whatever their order, with every server once', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/)
    const server = fc.record({name: fc.uuid(), address: fc.oneof(fc.ipV4(), fc.constantFrom('fd00::1', '::1', '2001:db8::42')), port: fc.integer({min: 1, max: 65_535}), checkPort: fc.option(fc.integer({min: 1, max: 65_535})), state: fc.constantFrom<ServerState>('ready', 'drain', 'maint')})
    const checkArb = fc.option(fc.record({type: fc.constantFrom<'tcp' | 'http'>('tcp', 'http'), path: fc.option(fc.string()), intervalMs: fc.integer({min: 1, max: 60_000}), timeoutMs: fc.integer({min: 1, max: 60_000}), fall: fc.integer({min: 1, max: 10}), rise: fc.integer({min: 1, max: 10})}))
    const services = fc.uniqueArray(fc.record({name, servicePort: fc.integer({min: 1, max: 65_535}), check: checkArb, servers: fc.uniqueArray(server, {selector: (s) => s.name, maxLength: 4})}), {selector: (s) => s.name, maxLength: 4}).filter((list) => new Set(list.map((s) => s.servicePort)).size === list.length)
    fc.assert(
      fc.property(services, (list) => {
        const text = renderHaproxyConfig(list, {runDir: tmp.dir})
        expect(renderHaproxyConfig([...list].reverse().map((s) => ({...s, servers: [...s.servers].reverse()})), {runDir: tmp.dir})).to.equal(text)
        for (const s of list) for (const srv of s.servers) expect(text.split('\n').filter((l) => l.startsWith(`  server ${srv.name} `))).to.have.length(1)
        const r = haproxyCheck(text, tmp.dir)
        expect(r.status, `${r.output}\n${text}`).to.equal(0)
      }),
      {numRuns: 25},
    )
  })

  it('an HTTP check path is one word: spaces, quotes, # and $ are percent-encoded', () => {
    const text = renderHaproxyConfig([{...web, check: {...check, path: `health check #1 'x' $HOME "y"`}}], {runDir: tmp.dir})
    expect(text).to.contain('http-check send meth GET uri /health%20check%20%231%20%27x%27%20%24HOME%20%22y%22\n')
    expect(haproxyCheck(text, tmp.dir).status).to.equal(0)
  })

  it('refuses names and addresses that could split a line (a bug upstream, never user input)', () => {
    expect(() => renderHaproxyConfig([{...web, name: 'web\nlisten x'}], {runDir: tmp.dir})).to.throw(/service name/)
    expect(() => renderHaproxyConfig([{...web, servers: [{...web.servers[0]!, address: '10.0.0.5 backup'}]}], {runDir: tmp.dir})).to.throw(/address/)
    expect(() => renderHaproxyConfig([web, {...db, servicePort: 10_000}], {runDir: tmp.dir})).to.throw(/both have service port 10000/)
  })
})

describe('core/edge/haproxy: runtime API commands (no reload)', () => {
  const live = (servers: Array<Partial<LiveServer> & {name: string}>): Map<string, LiveServer[]> => new Map([['be_web', servers.map((s) => ({address: '10.0.0.5', port: 31_000, state: 'ready' as const, connections: 0, ...s}))]])
  const want = (servers: Array<{name: string; state: ServerState; address?: string; port?: number}>): EdgeService[] => [{...web, servers: servers.map((s) => ({address: '10.0.0.5', port: 31_000, checkPort: null, ...s}))}]

  it('a new ready server is added (in maintenance), its check enabled, then enabled; a server not ready is never added', () => {
    expect(runtimeCommands(live([]), want([{name: 't1', state: 'ready'}, {name: 't2', state: 'maint'}, {name: 't3', state: 'drain'}]))).to.deep.equal({
      commands: ['add server be_web/t1 10.0.0.5:31000 check inter 2000ms fall 3 rise 2', 'enable health be_web/t1', 'enable server be_web/t1'],
      waiting: [],
    })
  })

  it('state and address changes are set in place; servers come into rotation before others leave it', () => {
    const plan = runtimeCommands(live([{name: 't1'}, {name: 't2', state: 'maint'}, {name: 't3'}]), want([{name: 't1', state: 'drain'}, {name: 't2', state: 'ready'}, {name: 't3', state: 'ready', address: '10.0.0.9', port: 31_009}]))
    expect(plan.commands).to.deep.equal(['set server be_web/t2 state ready', 'set server be_web/t3 addr 10.0.0.9 port 31009', 'set server be_web/t1 state drain'])
  })

  it('a server no longer wanted is drained first, deleted only once drained; a drain timeout shuts its sessions', () => {
    expect(runtimeCommands(live([{name: 't1', connections: 4}]), want([]))).to.deep.equal({commands: ['set server be_web/t1 state drain'], waiting: ['be_web/t1']})
    expect(runtimeCommands(live([{name: 't1', state: 'drain', connections: 2}]), want([]))).to.deep.equal({commands: [], waiting: ['be_web/t1']})
    expect(runtimeCommands(live([{name: 't1', state: 'drain', connections: 0}]), want([]))).to.deep.equal({commands: ['set server be_web/t1 state maint', 'del server be_web/t1'], waiting: []})
    expect(runtimeCommands(live([{name: 't1', state: 'maint'}]), want([])).commands).to.deep.equal(['del server be_web/t1'])
    expect(runtimeCommands(live([{name: 't1', state: 'drain', connections: 2}]), want([]), {force: new Set(['t1'])}).commands).to.deep.equal(['set server be_web/t1 state maint', 'shutdown sessions server be_web/t1', 'del server be_web/t1'])
  })

  it('backends HAProxy does not have (a new service: a reload adds it) and those no longer wanted are left alone', () => {
    expect(runtimeCommands(new Map([['be_old', [{name: 't9', address: 'a', port: 1, state: 'ready', connections: 0}]]]), want([{name: 't1', state: 'ready'}]))).to.deep.equal({commands: [], waiting: []})
  })

  it('property: applied to a model of HAProxy, the commands converge (connections ending meanwhile) and never delete a server out of maintenance or with connections', () => {
    const stateArb = fc.constantFrom<ServerState>('ready', 'drain', 'maint')
    const ids = fc.uniqueArray(fc.constantFrom('t1', 't2', 't3', 't4', 't5', 't6'), {maxLength: 6})
    fc.assert(
      fc.property(ids, ids, fc.array(stateArb, {minLength: 6, maxLength: 6}), fc.array(stateArb, {minLength: 6, maxLength: 6}), fc.array(fc.nat(3), {minLength: 6, maxLength: 6}), (haveIds, wantIds, haveStates, wantStates, conns) => {
        const model = new Map<string, LiveServer>(haveIds.map((n, i) => [n, {name: n, address: '10.0.0.5', port: 31_000, state: haveStates[i]!, connections: conns[i]!}]))
        const wanted = want(wantIds.map((n, i) => ({name: n, state: wantStates[i]!})))
        for (let round = 0; round < 4; round++) {
          const {commands} = runtimeCommands(new Map([['be_web', [...model.values()]]]), wanted)
          for (const c of commands) {
            const [verb, what, id, ...rest] = c.split(' ')
            const name = id!.split('/')[1]!
            const s = model.get(name)
            if (verb === 'add') {
              expect(s).to.equal(undefined)
              model.set(name, {name, address: '10.0.0.5', port: 31_000, state: 'maint', connections: 0})
            } else if (verb === 'enable' && what === 'server') model.get(name)!.state = 'ready'
            else if (verb === 'set' && rest[0] === 'state') s!.state = rest[1] as ServerState
            else if (verb === 'del') {
              expect(s!.state).to.equal('maint')
              expect(s!.connections).to.equal(0)
              model.delete(name)
            }
          }

          // connections end between passes
          for (const s of model.values()) if (s.state !== 'ready') s.connections = 0
        }

        const expected = new Map(wanted[0]!.servers.filter((s) => s.state === 'ready' || model.has(s.name)).map((s) => [s.name, s.state]))
        expect(new Map([...model.values()].map((s) => [s.name, s.state]))).to.deep.equal(expected)
        expect(runtimeCommands(new Map([['be_web', [...model.values()]]]), wanted).commands).to.deep.equal([])
      }),
    )
  })

  it('reads `show servers state` as HAProxy 2.6 prints it: forced maintenance, drain, ready, and a config-disabled server enabled since', () => {
    const text = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 be_web 1 t1 127.0.0.1 0 1 1 1 2 8 2 0 6 0 0 0 - 1 - 0 0 - - 0
3 be_web 2 t2 127.0.0.1 2 8 1 1 1 1 0 0 2 0 0 0 - 2 - 0 0 - - 0
3 be_web 3 t3 10.0.0.5 2 0 1 1 1 1 0 0 2 0 0 0 - 31000 - 0 0 - - 0
3 be_web 4 t4 10.0.0.6 2 4 1 1 0 1 0 2 6 0 0 0 - 31001 - 0 0 - - 0
4 be_db 1 t5 10.0.0.7 0 5 1 1 0 1 0 0 14 0 0 0 - 5432 - 0 0 - - 0
`
    const parsed = parseServersState(text)
    expect(parsed.get('be_web')!.map((s) => [s.name, s.state, s.address, s.port])).to.deep.equal([['t1', 'maint', '127.0.0.1', 1], ['t2', 'drain', '127.0.0.1', 2], ['t3', 'ready', '10.0.0.5', 31_000], ['t4', 'ready', '10.0.0.6', 31_001]])
    expect(parsed.get('be_db')!.map((s) => s.state)).to.deep.equal(['maint'])
    expect(parseServersState('No such backend.\n').size).to.equal(0)
  })
})

/** One runtime API command over the admin socket, its answer. */
function ask(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    const c = net.connect(socket, () => c.end(`${command}\n`))
    c.on('data', (d) => (out += d.toString()))
    c.on('end', () => resolve(out.trim()))
    c.on('error', reject)
  })
}

/** A port free on 127.0.0.1 now (for the one frontend the live test binds). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

describe('core/edge/haproxy: the commands against HAProxy 2.6 itself', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let proxy: ChildProcess | undefined
  const closers: Array<() => void> = []
  beforeEach(() => {
    tmp = makeTempDir('cctl-hap-')
  })
  afterEach(async () => {
    for (const close of closers.splice(0)) close()
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((resolve) => proxy!.once('exit', resolve))
      proxy.kill('SIGTERM')
      await exited
    }

    tmp.cleanup()
  })

  /** Starts haproxy on the rendered file (foreground, stopped after the test); its admin socket. */
  async function startProxy(services: EdgeService[]): Promise<string> {
    const file = path.join(tmp.dir, 'haproxy.cfg')
    fs.writeFileSync(file, renderHaproxyConfig(services, {runDir: tmp.dir}))
    proxy = spawn('haproxy', ['-db', '-f', file], {stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    proxy.stderr!.on('data', (d) => (stderr += d.toString()))
    const spawned = await new Promise<Error | null>((resolve) => {
      proxy!.once('error', resolve)
      proxy!.once('spawn', () => resolve(null))
    })
    if (spawned) throw new Error(`haproxy could not be started (${spawned.message}): run scripts/setup.sh, which installs the Debian haproxy package.`)
    const socket = adminSocket(tmp.dir)
    for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50))
    expect(fs.existsSync(socket), stderr).to.equal(true)
    return socket
  }

  const read = async (socket: string): Promise<Map<string, LiveServer[]>> => liveServers(await ask(socket, READ_COMMANDS[0]), await ask(socket, READ_COMMANDS[1]))

  /** Runs a plan's commands, each answered as 2.6 answers success (an error says why: "Only servers in maintenance mode can be deleted."). */
  async function apply(socket: string, commands: readonly string[]): Promise<void> {
    for (const c of commands) expect(await ask(socket, c), c).to.match(/^(|New server registered\.|Server deleted\.|IP changed from '[^']+' to '[^']+', port changed from '\d+' to '\d+' by 'stats socket command')$/)
  }

  it('a file it starts from, then add, enable, drain, address change and delete through the runtime API leave exactly the servers wanted', async () => {
    const start: EdgeService = {name: 'web', servicePort: await freePort(), check: {...check, type: 'tcp', path: null}, servers: [
      {name: 't1', address: '127.0.0.1', port: 1, checkPort: null, state: 'ready'},
      {name: 't2', address: '127.0.0.1', port: 2, checkPort: null, state: 'drain'},
      {name: 't3', address: '127.0.0.1', port: 3, checkPort: null, state: 'ready'},
    ]}
    const socket = await startProxy([start])
    expect((await read(socket)).get('be_web')!.map((s) => [s.name, s.state])).to.deep.equal([['t1', 'ready'], ['t2', 'maint'], ['t3', 'ready']])

    // t1 goes (drained first), t2 goes, t3 moves, t4 and t5 come (t5 not ready: not added)
    const next: EdgeService = {...start, servers: [
      {name: 't3', address: '127.0.0.2', port: 33, checkPort: null, state: 'ready'},
      {name: 't4', address: '127.0.0.1', port: 4, checkPort: 44, state: 'ready'},
      {name: 't5', address: '127.0.0.1', port: 5, checkPort: null, state: 'maint'},
    ]}
    for (let pass = 0; pass < 3; pass++) await apply(socket, runtimeCommands(await read(socket), [next]).commands)
    const servers = (await read(socket)).get('be_web')!
    expect(servers.map((s) => [s.name, s.state, s.address, s.port])).to.deep.equal([['t3', 'ready', '127.0.0.2', 33], ['t4', 'ready', '127.0.0.1', 4]])
    expect(runtimeCommands(await read(socket), [next]).commands).to.deep.equal([])
  })

  it('what `endpoints` reads of it: a server disabled by hand is maint, one whose check fails is down, a draining one drain; each judged against what is wanted', async () => {
    const backend = net.createServer((c) => c.end())
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
    closers.push(() => backend.close())
    const open = (backend.address() as net.AddressInfo).port
    const web: EdgeService = {name: 'web', servicePort: await freePort(), check: {type: 'tcp', path: null, intervalMs: 100, timeoutMs: 100, fall: 1, rise: 1}, servers: [
      {name: 't1', address: '127.0.0.1', port: open, checkPort: null, state: 'ready'},
      {name: 't2', address: '127.0.0.1', port: await freePort(), checkPort: null, state: 'ready'},
      {name: 't3', address: '127.0.0.1', port: open, checkPort: null, state: 'ready'},
    ]}
    const socket = await startProxy([web])
    expect(await ask(socket, 'disable server be_web/t1')).to.equal('')
    expect(await ask(socket, 'set server be_web/t3 state drain')).to.equal('')
    const observe = async () => observedServers(await ask(socket, READ_COMMANDS[0]), await ask(socket, READ_COMMANDS[1]))
    for (let i = 0; i < 50 && (await observe()).get('be_web')!.find((s) => s.name === 't2')!.state !== 'down'; i++) await new Promise((r) => setTimeout(r, 50))
    const seen = await observe()
    expect(seen.get('be_web')!.map((s) => [s.name, s.state])).to.deep.equal([['t1', 'maint'], ['t2', 'down'], ['t3', 'drain']])
    const wanted = {name: 'web', servers: [{...web.servers[0]!}, {...web.servers[1]!}, {...web.servers[2]!, state: 'drain' as const}]}
    const {servers} = compareService(wanted, [{node: 'lb', servers: seen}])
    expect([...servers].map(([name, [x]]) => [name, x!.actual, x!.mismatch])).to.deep.equal([['t1', 'maint', true], ['t2', 'down', true], ['t3', 'drain', false]])
  })

  /** A proxy with one server t1 in `be_web` and a client connected through it. */
  async function connectedProxy(): Promise<{socket: string; web: EdgeService; client: net.Socket; connected: () => Promise<number>}> {
    const backend = net.createServer((c) => c.on('error', () => undefined))
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
    closers.push(() => backend.close())
    const web: EdgeService = {name: 'web', servicePort: await freePort(), check: null, servers: [{name: 't1', address: '127.0.0.1', port: (backend.address() as net.AddressInfo).port, checkPort: null, state: 'ready'}]}
    const socket = await startProxy([web])
    const client = net.connect(web.servicePort, '127.0.0.1')
    client.on('error', () => undefined)
    closers.push(() => client.destroy())
    await new Promise((resolve) => backend.once('connection', resolve))
    const connected = async (): Promise<number> => (await read(socket)).get('be_web')?.[0]?.connections ?? 0
    for (let i = 0; i < 50 && (await connected()) === 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(await connected()).to.equal(1)
    return {socket, web, client, connected}
  }

  it('a server with a client connected is drained and kept; deleted once the client leaves', async () => {
    const {socket, web, client, connected} = await connectedProxy()
    expect(parseServerStats(await ask(socket, READ_COMMANDS[1])).get('be_web/t1')).to.deep.equal({connections: 1, status: 'no check'})
    const gone: EdgeService = {...web, servers: []}
    const first = runtimeCommands(await read(socket), [gone])
    expect(first).to.deep.equal({commands: ['set server be_web/t1 state drain'], waiting: ['be_web/t1']})
    await apply(socket, first.commands)
    expect(runtimeCommands(await read(socket), [gone])).to.deep.equal({commands: [], waiting: ['be_web/t1']})
    // what HAProxy would answer to an early delete
    expect(await ask(socket, 'del server be_web/t1')).to.equal('Only servers in maintenance mode can be deleted.')

    client.destroy()
    for (let i = 0; i < 50 && (await connected()) > 0; i++) await new Promise((r) => setTimeout(r, 20))
    const last = runtimeCommands(await read(socket), [gone])
    expect(last.commands).to.deep.equal(['set server be_web/t1 state maint', 'del server be_web/t1'])
    await apply(socket, last.commands)
    expect((await read(socket)).get('be_web')).to.equal(undefined)
  })

  it('a drain timeout (force) shuts the sessions of a connected server, then deletes it', async () => {
    const {socket, web, client} = await connectedProxy()
    const closed = new Promise((resolve) => client.once('close', resolve))
    const plan = runtimeCommands(await read(socket), [{...web, servers: []}], {force: new Set(['t1'])})
    expect(plan.commands).to.deep.equal(['set server be_web/t1 state maint', 'shutdown sessions server be_web/t1', 'del server be_web/t1'])
    // on 2.6.12 the sessions are gone as `shutdown sessions` returns: the delete right after it succeeds
    await apply(socket, plan.commands)
    await closed
    expect((await read(socket)).get('be_web')).to.equal(undefined)
  })
})
