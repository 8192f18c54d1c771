import {expect} from 'chai'
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import {adminSocket, liveServers, renderHaproxyConfig, runtimeCommands} from '../../../../src/core/edge/haproxy.js'
import {ADMIN_CLIENT, drainedEverywhere, drainTimedOut, EDGE_SYNC_SCRIPT, edgeCommandsInput, edgeRunDir, failedAnswers, parseEdgeOutput, readAnswers} from '../../../../src/core/edge/runner.js'
import {makeTempDir} from '../../../helpers/tmp.js'

describe('core/edge/runner', () => {
  it('parses events, framed answers and other lines', () => {
    const out = parseEdgeOutput(['clusterctl-edge written', 'clusterctl-edge reloaded', 'clusterctl-cmd show servers state', '1', '# be_id be_name', 'clusterctl-end', 'clusterctl-cmd del server be_web/t1', 'Only servers in maintenance mode can be deleted.', 'clusterctl-end', 'clusterctl-cmd show stat -1 4 -1', '# pxname,svname', '', 'clusterctl-end', '[ALERT] bad line', ''].join('\n'))
    expect(out.events).to.deep.equal(['written', 'reloaded'])
    expect(out.answers.map((a) => a.command)).to.deep.equal(['show servers state', 'del server be_web/t1', 'show stat -1 4 -1'])
    expect(out.other).to.deep.equal(['[ALERT] bad line'])
    expect(readAnswers(out)).to.deep.equal({serversState: '1\n# be_id be_name', stat: '# pxname,svname\n'})
    expect(failedAnswers(out).map((a) => a.command)).to.deep.equal(['del server be_web/t1'])
    expect(readAnswers(parseEdgeOutput('clusterctl-edge started\n'))).to.equal(null)
  })

  it('success answers are not failures', () => {
    const out = parseEdgeOutput(['clusterctl-cmd add server be_web/t1 127.0.0.1:1', 'New server registered.', 'clusterctl-end', 'clusterctl-cmd enable server be_web/t1', '', 'clusterctl-end', 'clusterctl-cmd del server be_web/t2', 'Server deleted.', 'clusterctl-end'].join('\n'))
    expect(failedAnswers(out)).to.deep.equal([])
  })

  it('a drain is over when every edge that is up has the backend out of rotation with no connection, or does not have it', () => {
    expect(drainedEverywhere([])).to.equal(true)
    expect(drainedEverywhere([null, {state: 'drain', connections: 0}, {state: 'maint', connections: 0}])).to.equal(true)
    expect(drainedEverywhere([{state: 'drain', connections: 1}, null])).to.equal(false)
    expect(drainedEverywhere([{state: 'ready', connections: 0}])).to.equal(false)
    expect(drainedEverywhere([null, 'unknown'])).to.equal(false)
    expect(drainTimedOut(1000, 30_999)).to.equal(false)
    expect(drainTimedOut(1000, 31_000)).to.equal(true)
    expect(drainTimedOut(1000, 2000, 1000)).to.equal(true)
  })

  it('run directories are per node name; a name that could escape is refused', () => {
    expect(edgeRunDir('edge-1.lab')).to.equal('/var/lib/clusterctl/edge/edge-1.lab')
    expect(() => edgeRunDir('../x')).to.throw()
    expect(() => edgeCommandsInput(['show info\nshutdown'])).to.throw()
    expect(edgeCommandsInput(['enable server be_web/t1'])).to.equal('enable server be_web/t1\nshow servers state\nshow stat -1 4 -1\n')
  })

  it('the sync script is valid sh', () => {
    const r = spawnSync('sh', ['-n', '-c', EDGE_SYNC_SCRIPT], {encoding: 'utf8'})
    expect(r.status, r.stderr).to.equal(0)
  })

  describe('the admin-socket client (perl, as in the image) against HAProxy 2.6 itself', () => {
    let tmp: ReturnType<typeof makeTempDir>
    let proxy: ChildProcess | undefined
    beforeEach(() => {
      tmp = makeTempDir('cctl-edge-run-')
    })
    afterEach(async () => {
      if (proxy && proxy.exitCode === null) {
        const exited = new Promise((resolve) => proxy!.once('exit', resolve))
        proxy.kill('SIGTERM')
        await exited
      }

      tmp.cleanup()
    })

    it('sends each command on its own connection and frames each answer: add, enable, then the reads show the server', async () => {
      const servicePort = await new Promise<number>((resolve) => {
        const server = net.createServer().listen(0, '127.0.0.1', () => {
          const {port} = server.address() as net.AddressInfo
          server.close(() => resolve(port))
        })
      })
      const web = {name: 'web', servicePort, check: null, servers: [{name: 't1', address: '127.0.0.1', port: 1, checkPort: null, state: 'ready' as const}]}
      const file = path.join(tmp.dir, 'haproxy.cfg')
      fs.writeFileSync(file, renderHaproxyConfig([{...web, servers: []}], {runDir: tmp.dir, bindAddress: '127.0.0.1'}))
      let stderr = ''
      proxy = spawn('haproxy', ['-db', '-f', file], {stdio: ['ignore', 'ignore', 'pipe']})
      proxy.stderr!.on('data', (d) => (stderr += d.toString()))
      const socket = adminSocket(tmp.dir)
      for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50))
      expect(fs.existsSync(socket), stderr).to.equal(true)
      const run = (input: string): string => {
        const r = spawnSync('perl', ['-e', ADMIN_CLIENT, socket], {input, encoding: 'utf8'})
        expect(r.status, r.stderr).to.equal(0)
        return r.stdout
      }

      const before = readAnswers(parseEdgeOutput(run(edgeCommandsInput([]))))!
      // an empty backend has no line in `show servers state`: read as absent, its first server would never come
      expect(runtimeCommands(liveServers(before.serversState, before.stat), [web]).commands).to.deep.equal([])
      const plan = runtimeCommands(liveServers(before.serversState, before.stat, ['be_web']), [web])
      expect(plan.commands).to.deep.equal(['add server be_web/t1 127.0.0.1:1', 'enable server be_web/t1'])
      const out = parseEdgeOutput(run(edgeCommandsInput(plan.commands)))
      expect(failedAnswers(out)).to.deep.equal([])
      const after = readAnswers(out)!
      expect(liveServers(after.serversState, after.stat).get('be_web')!.map((s) => [s.name, s.state])).to.deep.equal([['t1', 'ready']])
    })
  })
})
