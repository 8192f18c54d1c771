import {expect} from 'chai'

import {UserError} from '../../../src/core/errors.js'
import {PODMAN_START_SCRIPT, createPodmanRuntime} from '../../../src/runtime/podman.js'
import {SPEC, fixture, scriptArgs} from './helpers.js'

const podman = createPodmanRuntime()

describe('runtime/podman', () => {
  describe('startArgv', () => {
    it('runs the start script with name, spec hash, grace, the image and the podman run arguments', () => {
      const argv = podman.startArgv(SPEC)
      const {script, name, args} = scriptArgs(argv)
      expect(script).to.equal(PODMAN_START_SCRIPT)
      expect(name).to.equal('clusterctl-start')
      expect(args).to.deep.equal([
        'cctl-web-0-1f3a9c2e',
        'h1',
        '10',
        'localhost/app:1',
        '1',
        '',
        'c1',
        '--detach',
        '--name',
        'cctl-web-0-1f3a9c2e',
        '--log-driver',
        'k8s-file',
        '--label',
        'io.clusterctl.cluster=c1',
        '--label',
        'io.clusterctl.job=web',
        '--label',
        'io.clusterctl.spec-hash=h1',
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
        '--memory',
        '67108864',
        '--memory-swap',
        '67108864',
        '--publish',
        '31000:31000/tcp',
        '--publish',
        '31001:53/udp',
        '--volume',
        '/srv/my data:/data:ro',
        '--volume',
        '/srv/cache:/cache',
        '--entrypoint',
        '["sh"]',
        'localhost/app:1',
        '-c',
        'echo "$GREETING"; exec httpd -f -p "$PORT0"',
        'arg one',
      ])
    })

    it('leaves out limits of 0, keeps the image default command, computes the spec hash when not labelled', () => {
      const argv = podman.startArgv({...SPEC, command: undefined, cpuMilli: 0, memBytes: 0, ports: [], volumes: [], env: {}, labels: {}, stopGraceSeconds: 3})
      const {args} = scriptArgs(argv)
      expect(args[1]).to.match(/^[0-9a-f]{16}$/)
      expect(args.slice(2)).to.deep.equal(['3', 'localhost/app:1', '1', '', '', '--detach', '--name', SPEC.name, '--log-driver', 'k8s-file', '--label', `io.clusterctl.spec-hash=${args[1]}`, 'localhost/app:1'])
    })

    it('joins the spec\'s network under its aliases, and names the network and the cluster to the start script', () => {
      const argv = podman.startArgv({...SPEC, network: {name: 'backend', aliases: ['web-0', 'web']}})
      const {args} = scriptArgs(argv)
      expect(args.slice(5, 7)).to.deep.equal(['backend', 'c1'])
      const at = args.indexOf('--network')
      expect(args.slice(at, at + 6)).to.deep.equal(['--network', 'backend', '--network-alias', 'web-0', '--network-alias', 'web'])
      expect(args.indexOf('--network')).to.be.below(args.indexOf('localhost/app:1', 8))
    })

    it('refuses a network or alias name no network could have', () => {
      expect(() => podman.startArgv({...SPEC, network: {name: 'Back_end', aliases: []}})).to.throw(UserError, /network name/)
      expect(() => podman.startArgv({...SPEC, network: {name: 'backend', aliases: ['web 0']}})).to.throw(UserError, /network alias/)
    })

    it('asks for the node\'s init unless the spec says init: false', () => {
      expect(scriptArgs(podman.startArgv(SPEC)).args[4]).to.equal('1')
      expect(scriptArgs(podman.startArgv({...SPEC, init: false})).args[4]).to.equal('0')
    })

    it('passes every user value as an argument, never as script text', () => {
      const nasty = `'; rm -rf / #$(id)\`x\`\n"`
      const argv = podman.startArgv({...SPEC, command: [nasty, nasty], env: {X: nasty}, labels: {'a.b': nasty}})
      expect(argv[2]).to.equal(PODMAN_START_SCRIPT)
      expect(argv).to.include(`X=${nasty}`)
      expect(argv).to.include(`a.b=${nasty}`)
      expect(argv).to.include(JSON.stringify([nasty]))
      expect(argv[argv.length - 1]).to.equal(nasty)
    })

    it('refuses specs no runtime could carry', () => {
      const bad = [
        {...SPEC, name: 'bad name'},
        {...SPEC, image: '--privileged'},
        {...SPEC, env: {'A=B': 'x'}},
        {...SPEC, env: {A: 'nul\0byte'}},
        {...SPEC, volumes: [{source: 'relative', target: '/x', readOnly: false}]},
        {...SPEC, volumes: [{source: '/a:b', target: '/x', readOnly: false}]},
        {...SPEC, volumes: [{source: '/a,b', target: '/x', readOnly: false}]},
        {...SPEC, ports: [{containerPort: 80, hostPort: 0, protocol: 'tcp' as const}]},
        {...SPEC, ports: [{containerPort: 80, hostPort: 31000, protocol: 'sctp' as 'tcp'}]},
        {...SPEC, ports: [{containerPort: 80, hostPort: 31000, protocol: 'tcp' as const}, {containerPort: 81, hostPort: 31000, protocol: 'tcp' as const}]},
        {...SPEC, cpuMilli: -1},
        {...SPEC, memBytes: 1024},
        {...SPEC, stopGraceSeconds: 1.5},
      ]
      for (const spec of bad) expect(() => podman.startArgv(spec), JSON.stringify(spec)).to.throw(UserError)
    })
  })

  it('builds list, stop, remove, logs and image argv', () => {
    expect(podman.listArgv({'io.clusterctl.cluster': 'c1', 'io.clusterctl.job': 'web'})).to.deep.equal([
      'podman', 'ps', '--all', '--no-trunc', '--format', 'json', '--filter', 'label=io.clusterctl.cluster=c1', '--filter', 'label=io.clusterctl.job=web',
    ])
    expect(podman.stopArgv('cctl-web-0-1', 15)).to.deep.equal(['podman', 'rm', '--force', '--ignore', '--time', '15', 'cctl-web-0-1'])
    expect(podman.removeArgv('cctl-web-0-1')).to.deep.equal(['podman', 'rm', '--force', '--ignore', '--time', '0', 'cctl-web-0-1'])
    expect(podman.logsArgv('cctl-web-0-1', {follow: false})).to.deep.equal(['podman', 'logs', 'cctl-web-0-1'])
    expect(podman.logsArgv('cctl-web-0-1', {follow: true, tail: 20})).to.deep.equal(['podman', 'logs', '--follow', '--tail', '20', 'cctl-web-0-1'])
    expect(podman.loadImageArgv()).to.deep.equal(['podman', 'load'])
    expect(podman.imageExistsArgv('localhost/app:1')).to.deep.equal(['podman', 'image', 'exists', 'localhost/app:1'])
    expect(podman.listImagesArgv()).to.deep.equal(['podman', 'images', '--format', 'json'])
  })

  it('refuses names, selectors and tails it cannot pass faithfully', () => {
    expect(() => podman.stopArgv('-rf', 1)).to.throw(UserError)
    expect(() => podman.stopArgv('ok', -1)).to.throw(UserError)
    expect(() => podman.listArgv({job: 'a,b'})).to.throw(UserError, /commas/)
    expect(() => podman.listArgv({'bad key=': 'x'})).to.throw(UserError)
    expect(() => podman.logsArgv('ok', {follow: false, tail: -1})).to.throw(UserError)
    expect(() => podman.imageExistsArgv('-x')).to.throw(UserError)
  })

  it('lists the networks carrying the cluster\'s label and removes one without force (podman refuses while a container uses it)', () => {
    expect(podman.listNetworksArgv!({'io.clusterctl.cluster': 'c1'})).to.deep.equal(['podman', 'network', 'ls', '--format', '{{.Name}}', '--filter', 'label=io.clusterctl.cluster=c1'])
    expect(podman.removeNetworkArgv!('backend')).to.deep.equal(['podman', 'network', 'rm', 'backend'])
    expect(() => podman.removeNetworkArgv!('-f')).to.throw(UserError)
  })

  describe('parseList (podman 4.3 ps --format json)', () => {
    it('reads running and exited containers with exit code, times and labels', () => {
      const {containers, complete} = podman.parseList(fixture('podman', 'list.txt'))
      expect(complete).to.equal(true)
      const byName = Object.fromEntries(containers.map((c) => [c.name, c]))
      expect(Object.keys(byName).sort()).to.deep.equal(['cctl-batch-1-0b1c2d3e', 'cctl-web-0-7c9e6679'])
      const web = byName['cctl-web-0-7c9e6679']!
      expect(web).to.deep.include({state: 'running', exitCode: null, finishedAt: null, image: 'localhost/rtimg:latest', startedAt: 1795577119000})
      expect(web.id).to.match(/^[0-9a-f]{64}$/)
      expect(web.labels).to.deep.include({'io.clusterctl.cluster': 'fx', 'io.clusterctl.job': 'web', 'io.clusterctl.instance': '0'})
      expect(web.labels['io.clusterctl.spec-hash']).to.match(/^[0-9a-f]{16}$/)
      expect(byName['cctl-batch-1-0b1c2d3e']).to.deep.include({state: 'exited', exitCode: 7, startedAt: 1795577119000, finishedAt: 1795577119000})
      // the published ports: what the container holds on its host
      expect(web.hostPorts).to.deep.equal([31777])
      expect(byName['cctl-batch-1-0b1c2d3e']).not.to.have.property('hostPorts')
      const ranged = podman.parseList('[{"Names": ["a"], "Id": "1", "State": "running", "Ports": [{"host_port": 31000, "range": 3, "protocol": "tcp"}, {"host_port": "x"}, null]}]')
      expect(ranged.containers[0]!.hostPorts).to.deep.equal([31000, 31001, 31002])
    })

    it('reads the networks a container is attached to', () => {
      const {containers} = podman.parseList('[{"Names": ["a"], "Id": "1", "State": "running", "Networks": ["backend", "podman", 3, ""]}, {"Names": ["b"], "Id": "2", "State": "running", "Networks": []}]')
      expect(containers[0]!.networks).to.deep.equal(['backend', 'podman'])
      expect(containers[1]).not.to.have.property('networks')
    })

    it('reads a created container (zero times are null) and an empty list', () => {
      const {containers, complete} = podman.parseList(fixture('podman', 'list-created.txt'))
      expect(complete).to.equal(true)
      expect(containers).to.have.length(1)
      expect(containers[0]).to.deep.include({name: 'cctl-idle-0-aaaaaaaa', state: 'created', exitCode: null, startedAt: null, finishedAt: null})
      expect(podman.parseList(fixture('podman', 'list-none.txt'))).to.deep.equal({containers: [], complete: true})
      expect(podman.parseList('')).to.deep.equal({containers: [], complete: true})
    })

    it('never throws, and says when it did not understand the output', () => {
      for (const junk of ['not json', '{"a":1}', '[1, null, "x"]', 'Error: something\n', '[{"Names": []}]']) {
        expect(podman.parseList(junk).complete, junk).to.equal(false)
      }
      const mixed = podman.parseList('[{"Names": ["a"], "Id": "1", "State": "weird", "Labels": {"k": "v", "n": 1}}, 7]')
      expect(mixed.complete).to.equal(false)
      expect(mixed.containers).to.deep.equal([{name: 'a', id: '1', state: 'unknown', exitCode: null, startedAt: null, finishedAt: null, labels: {k: 'v'}, image: ''}])
    })

    it('maps every podman state', () => {
      const states: Record<string, string> = {created: 'created', configured: 'created', initialized: 'created', running: 'running', stopping: 'running', paused: 'paused', exited: 'exited', stopped: 'exited', removing: 'unknown'}
      for (const [podmanState, ours] of Object.entries(states)) {
        expect(podman.parseList(JSON.stringify([{Names: ['x'], Id: 'i', State: podmanState, ExitCode: 3}])).containers[0]!.state, podmanState).to.equal(ours)
      }
    })
  })

  describe('other parsers', () => {
    it('parseStart reads each outcome the start script prints', () => {
      for (const outcome of ['started', 'adopted', 'restarted', 'recreated']) {
        const result = podman.parseStart(fixture('podman', `start-${outcome}.txt`))
        expect(result?.outcome).to.equal(outcome)
        expect(result?.id).to.match(/^[0-9a-f]{64}$/)
      }
      expect(podman.parseStart('')).to.equal(null)
      expect(podman.parseStart('clusterctl-start exploded x\n')).to.equal(null)
      expect(podman.parseStart('noise\nclusterctl-start started abc\n')).to.deep.equal({outcome: 'started', id: 'abc'})
    })

    it('parseLoad names the loaded images', () => {
      expect(podman.parseLoad(fixture('podman', 'load.txt'))).to.deep.equal(['localhost/rtimg:latest'])
      expect(podman.parseLoad(fixture('podman', 'load-multi.txt'))).to.deep.equal(['localhost/rtimg2:v1', 'localhost/rtimg:latest'])
      expect(podman.parseLoad('Loaded image(s): a:1,b:2\n')).to.deep.equal(['a:1', 'b:2'])
      expect(podman.parseLoad('garbage')).to.deep.equal([])
    })

    it('parseImages lists every name once', () => {
      expect(podman.parseImages(fixture('podman', 'images.txt'))).to.deep.equal(['localhost/rtimg2:v1', 'localhost/rtimg:latest'])
      expect(podman.parseImages('nope')).to.deep.equal([])
    })
  })
})
