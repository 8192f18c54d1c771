import {expect} from 'chai'

import {UserError} from '../../../src/core/errors.js'
import {
  CTR_IMAGE_EXISTS_SCRIPT,
  CTR_LIST_SCRIPT,
  CTR_LOGS_SCRIPT,
  CTR_START_SCRIPT,
  CTR_STOP_SCRIPT,
  createContainerdRuntime,
  labelFilter,
  normalizeImageRef,
  parseCtrList,
} from '../../../src/runtime/containerd.js'
import {SPEC, fixture, scriptArgs} from './helpers.js'

const ctr = createContainerdRuntime()

describe('runtime/containerd', () => {
  describe('startArgv', () => {
    it('refuses a network: containerd runs host networking', () => {
      expect(() => ctr.startArgv({...SPEC, network: {name: 'backend', aliases: []}})).to.throw(UserError, /needs podman: containerd runs containers with host networking/)
      expect(ctr.listNetworksArgv).to.equal(undefined)
    })

    it('runs the start script with namespace, name, hash, grace, log file, a same-spec filter, the image and the ctr run arguments', () => {
      const {script, name, args} = scriptArgs(ctr.startArgv(SPEC))
      expect(script).to.equal(CTR_START_SCRIPT)
      expect(name).to.equal('clusterctl-start')
      expect(args).to.deep.equal([
        'clusterctl',
        'cctl-web-0-1f3a9c2e',
        'h1',
        '10',
        '/var/log/clusterctl/cctl-web-0-1f3a9c2e.log',
        'id=="cctl-web-0-1f3a9c2e",labels."io.clusterctl.spec-hash"=="h1"',
        'localhost/app:1',
        '32',
        '--detach',
        '--net-host',
        '--label',
        'io.clusterctl.cluster=c1',
        '--label',
        'io.clusterctl.job=web',
        '--label',
        'io.clusterctl.spec-hash=h1',
        '--label',
        'io.clusterctl.host-ports=31000,31001',
        '--env',
        'GREETING=hello world',
        '--env',
        'PORT0=31000',
        '--env',
        'PORT1=31001',
        '--env',
        'PORT_53=31001',
        '--env',
        'PORT=31000',
        '--env',
        'PORTS=31000,31001',
        '--cpus',
        '1.5',
        '--memory-limit',
        '67108864',
        '--mount',
        'type=bind,src=/srv/my data,dst=/data,options=rbind:ro',
        '--mount',
        'type=bind,src=/srv/cache,dst=/cache,options=rbind:rw',
        'localhost/app:1',
        'cctl-web-0-1f3a9c2e',
        'sh',
        '-c',
        'echo "$GREETING"; exec httpd -f -p "$PORT0"',
        'arg one',
      ])
    })

    it('uses the configured namespace and log directory, the full image reference, and the image default command', () => {
      const custom = createContainerdRuntime({namespace: 'other', logDir: '/tmp/logs/'})
      const {args} = scriptArgs(custom.startArgv({...SPEC, image: 'busybox', command: undefined, cpuMilli: 0, memBytes: 0, volumes: [], ports: [], env: {}}))
      expect(args.slice(0, 5)).to.deep.equal(['other', SPEC.name, 'h1', '10', '/tmp/logs/cctl-web-0-1f3a9c2e.log'])
      expect(args.slice(-2)).to.deep.equal(['docker.io/library/busybox:latest', SPEC.name])
      expect(args).to.not.include('--cpus')
      expect(args).to.not.include('--memory-limit')
    })

    it('puts the node\'s init before a named command (the position of the container id), never with the image default or init: false', () => {
      const at = (spec: typeof SPEC) => {
        const {args} = scriptArgs(ctr.startArgv(spec))
        return {k: Number(args[7]), run: args.slice(8)}
      }
      const {k, run} = at(SPEC)
      expect(run[k - 1]).to.equal(SPEC.name)
      expect(run.slice(k)).to.deep.equal(SPEC.command)
      expect(at({...SPEC, command: undefined}).k).to.equal(0)
      expect(at({...SPEC, init: false}).k).to.equal(0)
    })

    it('refuses a namespace or log directory it would have to quote', () => {
      expect(() => createContainerdRuntime({namespace: 'a b'})).to.throw(UserError)
      expect(() => createContainerdRuntime({logDir: 'relative'})).to.throw(UserError)
      expect(() => createContainerdRuntime({logDir: '/var/log/my logs'})).to.throw(UserError)
    })

    it('refuses what podman refuses', () => {
      expect(() => ctr.startArgv({...SPEC, volumes: [{source: '/a,b', target: '/x', readOnly: true}]})).to.throw(UserError)
      expect(() => ctr.startArgv({...SPEC, name: 'a--b'})).to.throw(UserError)
    })
  })

  it('builds list, stop, remove, logs and image argv, namespace always explicit', () => {
    expect(ctr.listArgv({'io.clusterctl.cluster': 'c1', 'io.clusterctl.job': 'we"b'})).to.deep.equal([
      'sh', '-c', CTR_LIST_SCRIPT, 'clusterctl-list', 'clusterctl', 'labels."io.clusterctl.cluster"=="c1",labels."io.clusterctl.job"=="we\\"b"',
    ])
    expect(ctr.listArgv({})).to.deep.equal(['sh', '-c', CTR_LIST_SCRIPT, 'clusterctl-list', 'clusterctl', ''])
    expect(ctr.stopArgv('cctl-x-0-1', 7)).to.deep.equal(['sh', '-c', CTR_STOP_SCRIPT, 'clusterctl-stop', 'clusterctl', 'cctl-x-0-1', '7', '/var/log/clusterctl/cctl-x-0-1.log'])
    expect(ctr.removeArgv('cctl-x-0-1')).to.deep.equal(['sh', '-c', CTR_STOP_SCRIPT, 'clusterctl-remove', 'clusterctl', 'cctl-x-0-1', '0', '/var/log/clusterctl/cctl-x-0-1.log'])
    expect(ctr.logsArgv('cctl-x-0-1', {follow: false})).to.deep.equal(['sh', '-c', CTR_LOGS_SCRIPT, 'clusterctl-logs', 'clusterctl', 'cctl-x-0-1', '/var/log/clusterctl/cctl-x-0-1.log', '+1', '0'])
    expect(ctr.logsArgv('cctl-x-0-1', {follow: true, tail: 5}).slice(-2)).to.deep.equal(['5', '1'])
    expect(ctr.loadImageArgv()).to.deep.equal(['ctr', '-n', 'clusterctl', 'images', 'import', '-'])
    expect(ctr.imageExistsArgv('busybox')).to.deep.equal(['sh', '-c', CTR_IMAGE_EXISTS_SCRIPT, 'clusterctl-image-exists', 'clusterctl', 'docker.io/library/busybox:latest'])
    expect(ctr.listImagesArgv()).to.deep.equal(['ctr', '-n', 'clusterctl', 'images', 'ls', '-q'])
  })

  it('labelFilter quotes keys and values in containerd filter syntax', () => {
    expect(labelFilter({a: 'x,y', 'b.c': 'line\nbreak'})).to.equal('labels."a"=="x,y",labels."b.c"=="line\\nbreak"')
    expect(labelFilter({})).to.equal('')
  })

  it('normalizeImageRef applies docker reference rules, as ctr image import names archive tags', () => {
    const table: Array<[string, string]> = [
      ['busybox', 'docker.io/library/busybox:latest'],
      ['busybox:1.36', 'docker.io/library/busybox:1.36'],
      ['me/app', 'docker.io/me/app:latest'],
      ['docker.io/busybox', 'docker.io/library/busybox:latest'],
      ['localhost/app', 'localhost/app:latest'],
      ['localhost/clusterctl-test:latest', 'localhost/clusterctl-test:latest'],
      ['registry.example.com:5000/team/app:2', 'registry.example.com:5000/team/app:2'],
      ['quay.io/org/app@sha256:abcd', 'quay.io/org/app@sha256:abcd'],
      ['localhost:5000/app', 'localhost:5000/app:latest'],
    ]
    for (const [input, expected] of table) expect(normalizeImageRef(input), input).to.equal(expected)
  })

  describe('parseList (the list script on ctr 1.6)', () => {
    it('reads a running task, and a stopped one it reaped with its exit code', () => {
      const {containers, complete} = parseCtrList(fixture('containerd', 'list.txt'))
      expect(complete).to.equal(true)
      const byName = Object.fromEntries(containers.map((c) => [c.name, c]))
      expect(byName['cctl-web-0-7c9e6679']).to.deep.include({id: 'cctl-web-0-7c9e6679', state: 'running', exitCode: null, finishedAt: null, startedAt: 1795577125000, image: 'localhost/rtimg:latest'})
      expect(byName['cctl-batch-1-0b1c2d3e']).to.deep.include({state: 'exited', exitCode: 7, startedAt: 1795577126000, finishedAt: 1795577127000})
      // Bookkeeping labels become fields, never labels.
      expect(Object.keys(byName['cctl-batch-1-0b1c2d3e']!.labels).filter((k) => /started-at|exit-code|finished-at/.test(k))).to.deep.equal([])
      expect(byName['cctl-web-0-7c9e6679']!.labels).to.deep.include({'io.clusterctl.cluster': 'fx', 'io.clusterctl.job': 'web', 'io.clusterctl.instance': '0'})
    })

    it('reads the host ports its start kept in a label (host networking publishes none), never as a label', () => {
      const text = fixture('containerd', 'list.txt').replace('"io.clusterctl.instance": "0"', '"io.clusterctl.instance": "0", "io.clusterctl.host-ports": "31000,31001"')
      const web = parseCtrList(text).containers.find((c) => c.name === 'cctl-web-0-7c9e6679')!
      expect(web.hostPorts).to.deep.equal([31000, 31001])
      expect(web.labels).not.to.have.property('io.clusterctl.host-ports')
      expect(parseCtrList(fixture('containerd', 'list.txt')).containers.find((c) => c.name === 'cctl-web-0-7c9e6679')).not.to.have.property('hostPorts')
    })

    it('keeps reporting the exit code from the labels once the task is gone', () => {
      const batch = parseCtrList(fixture('containerd', 'list-again.txt')).containers.find((c) => c.name === 'cctl-batch-1-0b1c2d3e')
      expect(batch).to.deep.include({state: 'exited', exitCode: 7, finishedAt: 1795577127000})
    })

    it('reads a container without a task as created, and an empty list', () => {
      const created = parseCtrList(fixture('containerd', 'list-created.txt'))
      expect(created.complete).to.equal(true)
      expect(created.containers).to.have.length(1)
      expect(created.containers[0]).to.deep.include({name: 'cctl-idle-0-aaaaaaaa', state: 'created', exitCode: null, startedAt: null, finishedAt: null})
      expect(parseCtrList(fixture('containerd', 'list-none.txt'))).to.deep.equal({containers: [], complete: true})
    })

    it('also reads a full, uncut `ctr containers info`', () => {
      const info = fixture('containerd', 'container-info-full.json')
      const {containers, complete} = parseCtrList(`clusterctl-list 1\nclusterctl-container cctl-full-0-bbbbbbbb CREATED 1234 -\n${info}\nclusterctl-end\n`)
      expect(complete).to.equal(true)
      expect(containers[0]).to.deep.include({name: 'cctl-full-0-bbbbbbbb', state: 'created', image: 'localhost/rtimg:latest'})
      expect(containers[0]!.labels).to.deep.include({'io.clusterctl.cluster': 'fx'})
    })

    it('says the list is incomplete when it was cut short or garbled, and never throws', () => {
      const full = fixture('containerd', 'list.txt')
      expect(parseCtrList(full.replace('clusterctl-end\n', '')).complete).to.equal(false)
      expect(parseCtrList(full.slice(0, full.length / 2)).complete).to.equal(false)
      expect(parseCtrList('').complete).to.equal(false)
      expect(parseCtrList('ctr: failed to dial\n').complete).to.equal(false)
      const garbled = parseCtrList('clusterctl-list 1\nclusterctl-container a RUNNING 1 -\n{{{\nclusterctl-end\n')
      expect(garbled.complete).to.equal(false)
      expect(garbled.containers).to.deep.equal([{name: 'a', id: 'a', state: 'running', exitCode: null, startedAt: null, finishedAt: null, labels: {}, image: ''}])
    })

    it('maps every task status', () => {
      const one = (status: string, code = '-', labels = '{}') =>
        parseCtrList(`clusterctl-list 1\nclusterctl-container a ${status} 1 ${code}\n{"ID": "a", "Labels": ${labels}}\nclusterctl-end\n`).containers[0]!
      expect(one('RUNNING').state).to.equal('running')
      expect(one('PAUSED').state).to.equal('paused')
      expect(one('PAUSING').state).to.equal('paused')
      expect(one('CREATED').state).to.equal('created')
      expect(one('UNKNOWN').state).to.equal('unknown')
      expect(one('STOPPED')).to.deep.include({state: 'exited', exitCode: null})
      expect(one('STOPPED', '0')).to.deep.include({state: 'exited', exitCode: 0})
      expect(one('none', '-', '{"io.clusterctl.exit-code": "137", "io.clusterctl.finished-at": "5000"}')).to.deep.include({state: 'exited', exitCode: 137, finishedAt: 5000})
      expect(one('none', '-', '{"io.clusterctl.exit-code": "unknown"}')).to.deep.include({state: 'exited', exitCode: null})
      expect(one('STOPPED', 'unknown')).to.deep.include({state: 'exited', exitCode: null})
      expect(one('none', '-', '{"io.clusterctl.started-at": "1000"}')).to.deep.include({state: 'created', exitCode: null, startedAt: 1000})
    })
  })

  describe('other parsers', () => {
    it('parseStart reads each outcome; the id is the name', () => {
      for (const outcome of ['started', 'adopted', 'restarted', 'recreated']) {
        expect(ctr.parseStart(fixture('containerd', `start-${outcome}.txt`))?.outcome).to.equal(outcome)
      }
      expect(ctr.parseStart(fixture('containerd', 'start-started.txt'))).to.deep.equal({outcome: 'started', id: 'cctl-web-0-7c9e6679'})
    })

    it('parseLoad and parseImages', () => {
      expect(ctr.parseLoad(fixture('containerd', 'load.txt'))).to.deep.equal(['localhost/rtimg:latest'])
      expect(ctr.parseLoad(fixture('containerd', 'load-multi.txt'))).to.deep.equal(['localhost/rtimg2:v1', 'localhost/rtimg:latest'])
      expect(ctr.parseImages(fixture('containerd', 'images.txt'))).to.deep.equal(['localhost/rtimg2:v1', 'localhost/rtimg:latest'])
      expect(ctr.parseImages('')).to.deep.equal([])
    })
  })
})
