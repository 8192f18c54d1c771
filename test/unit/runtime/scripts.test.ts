/**
 * The start/stop/list scripts run through a real /bin/sh (dash on Debian) and bash, with
 * fake `podman` and `ctr` programs first on PATH that record how they were called. This
 * checks the scripts' branches and that every user value reaches the runtime's argv
 * byte for byte; test/e2e/runtime runs them against the real runtimes.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import {CTR_IMAGE_EXISTS_SCRIPT, CTR_INIT_TARGET, CTR_LIST_SCRIPT, CTR_LOGS_SCRIPT, CTR_START_SCRIPT, CTR_STOP_SCRIPT, createContainerdRuntime, ctrRunArgs} from '../../../src/runtime/containerd.js'
import {PODMAN_START_SCRIPT, createPodmanRuntime, podmanRunArgs} from '../../../src/runtime/podman.js'
import type {ContainerSpec} from '../../../src/runtime/types.js'
import {makeTempDir} from '../../helpers/tmp.js'
import {SPEC} from './helpers.js'

const FAKE_PODMAN = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_CALLS"
case "$1" in
  container) if [ -n "\${FAKE_INSPECT:-}" ]; then printf '%s\\n' "$FAKE_INSPECT"; exit 0; fi; echo 'Error: no such container' >&2; exit 125 ;;
  run) shift; printf '%s\\0' "$@" > "$FAKE_ARGV"; if [ -n "\${FAKE_RUN_FAIL:-}" ]; then echo "$FAKE_RUN_FAIL" >&2; exit 125; fi; echo 0123abcd; exit 0 ;;
  image) [ -n "\${FAKE_IMAGE_EXISTS:-}" ]; exit $? ;;
  info) echo 'rootless storage at /home/ann/.local/share/containers/storage'; exit 0 ;;
  start|rm) exit 0 ;;
  network)
    case "$2" in
      exists) [ -n "\${FAKE_NETWORK_EXISTS:-}" ]; exit $? ;;
      create) if [ -n "\${FAKE_NETWORK_CREATE_FAIL:-}" ]; then echo "$FAKE_NETWORK_CREATE_FAIL" >&2; exit 125; fi; echo backend; exit 0 ;;
      inspect) printf '%s\\n' "\${FAKE_NETWORK_DNS-true}"; exit 0 ;;
      rm) exit 0 ;;
    esac ;;
esac
exit 99
`

const FAKE_CTR = `#!/bin/sh
[ "$1" = -n ] || exit 98
ns=$2
shift 2
printf '%s\\n' "$*" >> "$FAKE_CALLS"
case "$1" in
  namespaces) printf '%s' "\${FAKE_NAMESPACES-clusterctl}"; exit 0 ;;
  images)
    case "$2" in
      ls) case "$ns" in
            clusterctl) printf '%s' "\${FAKE_IMAGES_OWN-localhost/app:1}" ;;
            default) printf '%s' "\${FAKE_IMAGES_DEFAULT:-}" ;;
            k8s.io) printf '%s' "\${FAKE_IMAGES_K8S:-}" ;;
          esac; exit 0 ;;
      export) printf 'archive of %s from %s' "$4" "$ns"; exit 0 ;;
      import) cat > "$FAKE_ARGV.import"; echo "imported into $ns" >> "$FAKE_CALLS"; exit 0 ;;
    esac ;;
  run) shift; printf '%s\\0' "$@" > "$FAKE_ARGV"; exit 0 ;;
  containers)
    case "$2" in
      ls) if [ $# -gt 3 ]; then printf '%s' "\${FAKE_MATCH:-}"; else printf '%s' "\${FAKE_IDS:-}"; fi; exit 0 ;;
      label|rm) exit 0 ;;
      info) printf '{\\n    "ID": "%s",\\n    "Labels": {},\\n    "Spec": {\\n    }\\n}\\n' "$3"; exit 0 ;;
    esac ;;
  tasks)
    case "$2" in
      ls) echo 'TASK    PID    STATUS'; printf '%s' "\${FAKE_TASKS:-}"; exit 0 ;;
      start|kill|resume) exit 0 ;;
      rm) [ -n "\${FAKE_RM_STDERR:-}" ] && printf '%s\\n' "$FAKE_RM_STDERR" >&2; exit 0 ;;
    esac ;;
esac
exit 99
`

const SHELLS = ['/bin/sh', '/bin/bash'].filter((s) => fs.existsSync(s))

describe('runtime scripts (through a real shell, fake runtimes)', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let bin: string

  before(() => {
    tmp = makeTempDir('clusterctl-scripts-')
    bin = path.join(tmp.dir, 'bin')
    fs.mkdirSync(bin)
    fs.writeFileSync(path.join(bin, 'podman'), FAKE_PODMAN, {mode: 0o755})
    fs.writeFileSync(path.join(bin, 'ctr'), FAKE_CTR, {mode: 0o755})
    // The node's init: named by CLUSTERCTL_INIT, so the tests do not depend on the machine's packages.
    fs.writeFileSync(fakeInit(), '#!/bin/sh\nexec "$@"\n', {mode: 0o755})
  })
  const fakeInit = (): string => path.join(tmp.dir, 'fake init')
  after(() => tmp.cleanup())

  function run(argv: string[], env: Record<string, string> = {}, shell = '/bin/sh'): {code: number | null; stdout: string; stderr: string; calls: string[]; argv: string[] | null} {
    const calls = path.join(tmp.dir, 'calls')
    const argvFile = path.join(tmp.dir, 'argv')
    fs.rmSync(calls, {force: true})
    fs.rmSync(argvFile, {force: true})
    expect(argv[0]).to.equal('sh')
    const result = spawnSync(shell, argv.slice(1), {env: {PATH: `${bin}:/usr/bin:/bin`, FAKE_CALLS: calls, FAKE_ARGV: argvFile, CLUSTERCTL_INIT: fakeInit(), ...env}, encoding: 'utf8'})
    const recorded = fs.existsSync(argvFile) ? fs.readFileSync(argvFile, 'utf8').split('\0').slice(0, -1) : null
    return {code: result.status, stdout: result.stdout, stderr: result.stderr, calls: fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [], argv: recorded}
  }

  it('every script is valid POSIX sh (sh -n) in each shell', () => {
    for (const shell of SHELLS) {
      for (const script of [PODMAN_START_SCRIPT, CTR_START_SCRIPT, CTR_STOP_SCRIPT, CTR_LIST_SCRIPT, CTR_LOGS_SCRIPT, CTR_IMAGE_EXISTS_SCRIPT]) {
        const result = spawnSync(shell, ['-n', '-c', script], {encoding: 'utf8'})
        expect(result.status, `${shell}: ${result.stderr}`).to.equal(0)
      }
    }
  })

  describe('podman start', () => {
    const podman = createPodmanRuntime()

    it('starts a new container and prints its id', () => {
      const r = run(podman.startArgv(SPEC))
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.equal('clusterctl-start started 0123abcd\n')
      expect(r.argv).to.deep.equal(['--init', '--init-path', fakeInit(), ...podmanRunArgs(SPEC)])
    })

    it('runs without an init when the spec says init: false', () => {
      const r = run(podman.startArgv({...SPEC, init: false}))
      expect(r.code, r.stderr).to.equal(0)
      expect(r.argv).to.deep.equal(podmanRunArgs(SPEC))
    })

    it('adopts a running container of the same spec, restarts an exited one, recreates one of another spec', () => {
      let r = run(podman.startArgv(SPEC), {FAKE_INSPECT: 'running abc123 h1'})
      expect(r.stdout).to.equal('clusterctl-start adopted abc123\n')
      expect(r.calls.some((c) => c.startsWith('run '))).to.equal(false)

      r = run(podman.startArgv(SPEC), {FAKE_INSPECT: 'exited abc123 h1'})
      expect(r.stdout).to.equal('clusterctl-start restarted abc123\n')
      expect(r.calls).to.include(`start ${SPEC.name}`)

      r = run(podman.startArgv({...SPEC, stopGraceSeconds: 4}), {FAKE_INSPECT: 'running abc123 old-hash'})
      expect(r.stdout).to.equal('clusterctl-start recreated 0123abcd\n')
      expect(r.calls).to.include(`rm --force --time 4 ${SPEC.name}`)
      expect(r.argv).to.deep.equal(['--init', '--init-path', fakeInit(), ...podmanRunArgs({...SPEC, stopGraceSeconds: 4})])

      r = run(podman.startArgv(SPEC), {FAKE_INSPECT: 'exited abc123 '})
      expect(r.stdout, 'a container without a hash label is not ours as it is').to.equal('clusterctl-start recreated 0123abcd\n')
    })

    it('creates a missing network with the cluster\'s label first, and leaves an existing one alone', () => {
      const spec = {...SPEC, network: {name: 'backend', aliases: ['web-0', 'web']}}
      let r = run(podman.startArgv(spec))
      expect(r.code, r.stderr).to.equal(0)
      expect(r.calls.slice(0, 3)).to.deep.equal(['network exists backend', 'network create --label io.clusterctl.cluster=c1 backend', 'network inspect --format {{.DNSEnabled}} backend'])
      expect(r.argv).to.deep.equal(['--init', '--init-path', fakeInit(), ...podmanRunArgs(spec)])

      r = run(podman.startArgv(spec), {FAKE_NETWORK_EXISTS: '1'})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.calls.filter((c) => c.startsWith('network'))).to.deep.equal(['network exists backend'])

      r = run(podman.startArgv(SPEC))
      expect(r.calls.filter((c) => c.startsWith('network')), 'no network, no network command').to.deep.equal([])
    })

    it('a network made without DNS is removed again and the start fails saying what to install; a failed create says why', () => {
      const spec = {...SPEC, network: {name: 'backend', aliases: []}}
      let r = run(podman.startArgv(spec), {FAKE_NETWORK_DNS: 'false'})
      expect(r.code).to.equal(1)
      expect(r.calls).to.include('network rm backend')
      expect(r.calls.some((c) => c.startsWith('run '))).to.equal(false)
      expect(r.stderr).to.match(/made network backend without DNS.*aardvark-dns.*golang-github-containernetworking-plugin-dnsname/)

      r = run(podman.startArgv(spec), {FAKE_NETWORK_CREATE_FAIL: 'Error: subnet pool exhausted'})
      expect(r.code).to.equal(1)
      expect(r.stderr).to.equal('creating network backend failed: Error: subnet pool exhausted\n')
    })
  })

  describe('ctr start', () => {
    let ctr: ReturnType<typeof createContainerdRuntime>
    before(() => {
      ctr = createContainerdRuntime({logDir: path.join(tmp.dir, 'logs')})
    })

    it('runs a new task with its log file, labels its start time, prints the name', () => {
      const r = run(ctr.startArgv(SPEC))
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.equal(`clusterctl-start started ${SPEC.name}\n`)
      expect(r.argv![0]).to.equal('--log-uri')
      expect(r.argv![1]).to.equal(`file://${tmp.dir}/logs/${SPEC.name}.log`)
      expect(fs.statSync(path.join(tmp.dir, 'logs')).isDirectory()).to.equal(true)
      expect(r.calls.find((c) => c.startsWith('containers label'))).to.match(new RegExp(`^containers label ${SPEC.name} io.clusterctl.started-at=\\d+000 io.clusterctl.exit-code= io.clusterctl.finished-at=$`))
    })

    it('a failed run with the image absent says whose storage podman searched', () => {
      let r = run(createPodmanRuntime().startArgv(SPEC), {FAKE_RUN_FAIL: 'Error: localhost/app:1: image not known'})
      expect(r.code).to.equal(125)
      const user = spawnSync('id', ['-un'], {encoding: 'utf8'}).stdout.trim()
      expect(r.stderr).to.equal(
        `Error: localhost/app:1: image not known\nimage localhost/app:1 is not in podman's rootless storage at /home/ann/.local/share/containers/storage as user ${user}: load it as that user (\`clusterctl image push ARCHIVE\` does), or add the node with the user (or --sudo) whose storage holds it.\n`,
      )
      r = run(createPodmanRuntime().startArgv(SPEC), {FAKE_RUN_FAIL: 'Error: port in use', FAKE_IMAGE_EXISTS: '1'})
      expect(r.stderr).to.equal('Error: port in use\n')
    })

    it('bind-mounts the node\'s init read-only and puts it before the command (ctr has no --init); not with init: false', () => {
      const runArgs = ctrRunArgs(SPEC)
      const k = runArgs.length - SPEC.command!.length
      const r = run(ctr.startArgv(SPEC))
      expect(r.code, r.stderr).to.equal(0)
      expect(r.argv!.slice(2)).to.deep.equal(['--mount', `type=bind,src=${fakeInit()},dst=${CTR_INIT_TARGET},options=rbind:ro`, ...runArgs.slice(0, k), CTR_INIT_TARGET, '--', ...runArgs.slice(k)])
      expect(run(ctr.startArgv({...SPEC, init: false})).argv!.slice(2)).to.deep.equal(runArgs)
    })

    it('adopts, restarts (deleting the stopped task first) and recreates', () => {
      const ids = `${SPEC.name}\n`
      let r = run(ctr.startArgv(SPEC), {FAKE_IDS: ids, FAKE_MATCH: ids, FAKE_TASKS: `${SPEC.name}    42    RUNNING\n`})
      expect(r.stdout).to.equal(`clusterctl-start adopted ${SPEC.name}\n`)

      r = run(ctr.startArgv(SPEC), {FAKE_IDS: ids, FAKE_MATCH: ids, FAKE_TASKS: `${SPEC.name}    42    STOPPED\n`})
      expect(r.stdout).to.equal(`clusterctl-start restarted ${SPEC.name}\n`)
      expect(r.calls).to.include(`tasks rm -f ${SPEC.name}`)
      expect(r.calls).to.include(`tasks start -d --log-uri file://${tmp.dir}/logs/${SPEC.name}.log ${SPEC.name}`)

      r = run(ctr.startArgv(SPEC), {FAKE_IDS: ids, FAKE_MATCH: '', FAKE_TASKS: ''})
      expect(r.stdout).to.equal(`clusterctl-start recreated ${SPEC.name}\n`)
      expect(r.calls).to.include(`containers rm ${SPEC.name}`)
      expect(r.argv).to.not.equal(null)
    })

    it('finds the image in its own namespace first, then default, then k8s.io, copying it into its own', () => {
      const image = 'localhost/app:1'
      let r = run(ctr.startArgv(SPEC), {FAKE_NAMESPACES: 'clusterctl\ndefault\nk8s.io\n', FAKE_IMAGES_DEFAULT: `${image}\n`, FAKE_IMAGES_K8S: `${image}\n`})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.calls.filter((c) => c.startsWith('images') || c.startsWith('imported'))).to.deep.equal(['images ls -q'])

      r = run(ctr.startArgv(SPEC), {FAKE_IMAGES_OWN: '', FAKE_NAMESPACES: 'clusterctl\ndefault\nk8s.io\n', FAKE_IMAGES_DEFAULT: `other:1\n${image}\n`, FAKE_IMAGES_K8S: `${image}\n`})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.equal(`clusterctl-image copied ${image} from default\nclusterctl-start started ${SPEC.name}\n`)
      expect(r.calls).to.include(`images export - ${image}`)
      expect(r.calls).to.include('imported into clusterctl')
      expect(fs.readFileSync(path.join(tmp.dir, 'argv.import'), 'utf8')).to.equal(`archive of ${image} from default`)

      r = run(ctr.startArgv(SPEC), {FAKE_IMAGES_OWN: '', FAKE_NAMESPACES: 'clusterctl\nk8s.io\n', FAKE_IMAGES_DEFAULT: `${image}\n`, FAKE_IMAGES_K8S: `${image}\n`})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/^clusterctl-image copied localhost\/app:1 from k8s\.io\n/)
    })

    it('an image in no namespace fails with one sentence naming the namespaces searched and the fix', () => {
      const r = run(ctr.startArgv(SPEC), {FAKE_IMAGES_OWN: 'other:1\n', FAKE_NAMESPACES: 'clusterctl\ndefault\n'})
      expect(r.code).to.equal(1)
      expect(r.stderr).to.equal(
        'image localhost/app:1 is in none of the containerd namespaces searched (clusterctl, default): load it with `clusterctl image push ARCHIVE`, or on the node `ctr -n clusterctl images import ARCHIVE`.\n',
      )
      expect(r.argv, 'ctr run never ran').to.equal(null)
    })

    it('a task name equal to the header word is not mistaken for the header', () => {
      const r = run(ctr.startArgv({...SPEC, name: 'TASK'}), {FAKE_IDS: 'TASK\n', FAKE_MATCH: 'TASK\n', FAKE_TASKS: ''})
      expect(r.stdout).to.equal('clusterctl-start restarted TASK\n')
    })

    it('stop: a missing container is success; a present one is signalled, killed and removed', () => {
      let r = run(ctr.stopArgv(SPEC.name, 0))
      expect(r.code).to.equal(0)
      expect(r.calls).to.deep.equal(['containers ls -q'])
      r = run(ctr.stopArgv(SPEC.name, 0), {FAKE_IDS: `${SPEC.name}\n`, FAKE_TASKS: `${SPEC.name}    42    RUNNING\n`})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.calls).to.include.members([`tasks kill ${SPEC.name}`, `tasks rm -f ${SPEC.name}`, `containers rm ${SPEC.name}`])
    })

    it('list: reaps a stopped task and records the exit status ctr logged', () => {
      const r = run(ctr.listArgv({'io.clusterctl.cluster': 'c1'}), {
        FAKE_IDS: 'a\nb\n',
        FAKE_MATCH: 'a\nb\n',
        FAKE_TASKS: 'a    10    RUNNING\nb    11    STOPPED\n',
        FAKE_RM_STDERR: 'time="2026-01-01T00:00:00Z" level=warning msg="task b exit with non-zero exit code 42"',
      })
      expect(r.code, r.stderr).to.equal(0)
      expect(r.calls).to.include('tasks rm b')
      expect(r.calls.find((c) => c.startsWith('containers label b'))).to.match(/^containers label b io.clusterctl.exit-code=42 io.clusterctl.finished-at=\d+000$/)
      const list = ctr.parseList(r.stdout)
      expect(list.complete).to.equal(true)
      expect(list.containers.map((c) => [c.name, c.state, c.exitCode])).to.deep.equal([
        ['a', 'running', null],
        ['b', 'exited', 42],
      ])
    })

    it('list: a reaped task is exited with code 0 when ctr logged nothing, unknown when it logged something else', () => {
      const env = {FAKE_IDS: 'b\n', FAKE_MATCH: 'b\n', FAKE_TASKS: 'b    11    STOPPED\n'}
      let r = run(ctr.listArgv({}), env)
      expect(r.calls.find((c) => c.startsWith('containers label b'))).to.match(/ io.clusterctl.exit-code=0 /)
      expect(ctr.parseList(r.stdout).containers[0]).to.deep.include({state: 'exited', exitCode: 0})
      r = run(ctr.listArgv({}), {...env, FAKE_RM_STDERR: 'something new in a later ctr'})
      expect(r.calls.find((c) => c.startsWith('containers label b'))).to.match(/ io.clusterctl.exit-code=unknown /)
      expect(ctr.parseList(r.stdout).containers[0]).to.deep.include({state: 'exited', exitCode: null})
    })
  })

  it('user values reach the runtime argv byte for byte (property, both runtimes, sh and bash)', function () {
    // 120 shell processes: seconds alone, minutes on a busy machine; the timeout only guards against a hang.
    this.timeout(600_000)
    const ctr = createContainerdRuntime({logDir: path.join(tmp.dir, 'logs')})
    const value = fc.string({unit: 'binary', maxLength: 40}).filter((s) => !s.includes('\0') && !/\p{Cs}/u.test(s))
    const pathSegment = fc.stringMatching(/^[A-Za-z0-9 '"$`\\!*?;&|<>(){}[\]~#-]{1,12}$/)
    fc.assert(
      fc.property(
        fc.array(value, {minLength: 1, maxLength: 4}),
        fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), value, {maxKeys: 3}),
        pathSegment,
        fc.constantFrom(...SHELLS),
        (command, env, segment, shell) => {
          const spec: ContainerSpec = {...SPEC, command, env, volumes: [{source: `/srv/${segment}`, target: `/mnt/${segment}`, readOnly: false}], ports: []}
          const p = run(createPodmanRuntime().startArgv(spec), {}, shell)
          expect(p.code, p.stderr).to.equal(0)
          expect(p.argv).to.deep.equal(['--init', '--init-path', fakeInit(), ...podmanRunArgs(spec)])
          const c = run(ctr.startArgv(spec), {}, shell)
          expect(c.code, c.stderr).to.equal(0)
          const runArgs = ctrRunArgs(spec)
          const k = runArgs.length - command.length
          expect(c.argv!.slice(2)).to.deep.equal(['--mount', `type=bind,src=${fakeInit()},dst=${CTR_INIT_TARGET},options=rbind:ro`, ...runArgs.slice(0, k), CTR_INIT_TARGET, '--', ...runArgs.slice(k)])
        },
      ),
      {numRuns: 60},
    )
  })
})
