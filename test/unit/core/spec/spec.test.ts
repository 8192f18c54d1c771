import {expect} from 'chai'

import {UserError} from '../../../../src/core/errors.js'
import {containerSpecHash, UPGRADE_DEFAULTS} from '../../../../src/core/model/job.js'
import {parseSpecText} from '../../../../src/core/spec/parse.js'
import {instancesProblem, parseDurationMs, validateJobSpec} from '../../../../src/core/spec/validate.js'

function problem(raw: unknown): string {
  try {
    validateJobSpec(raw, 'web.yaml')
  } catch (error) {
    expect(error).to.be.instanceOf(UserError)
    return (error as Error).message
  }

  throw new Error('expected a validation error')
}

describe('core/spec', () => {
  it('fills defaults for a minimal service', () => {
    const spec = validateJobSpec({name: 'web', image: 'localhost/app:1'}, 'web.yaml')
    expect(spec).to.deep.include({name: 'web', kind: 'service', image: 'localhost/app:1', command: null, instances: 1, strategy: null, runtime: null, healthCheck: null})
    expect(spec.resources).to.deep.equal({cpuMilli: 100, memBytes: 128 * 1024 * 1024, diskBytes: 0, gpus: 0})
    expect(spec.restart).to.deep.equal({policy: 'always', maxRetries: 0})
    expect(spec.upgrade).to.deep.equal(UPGRADE_DEFAULTS)
  })

  it('reads every field of the own format', () => {
    const [spec] = parseSpecText(
      `
name: web
kind: service
image: localhost/clusterctl-test:latest
command: httpd -f -p $PORT0 -h /www
env: {GREETING: hello, N: 3}
cpus: 0.5
mem: 256Mi
disk: 1Gi
instances: 3
ports: [8080, "53/udp", {containerPort: 9090, name: metrics}]
volumes: ["/srv/data:/data:ro", {source: /srv/logs, target: /logs}]
constraints: ["hostname:UNIQUE", [zone, LIKE, "eu-.*"]]
preferences: ["disk=ssd:3"]
healthCheck: {http: 8080/healthz, interval: 5s, timeout: 1s, gracePeriod: 20s, maxConsecutiveFailures: 2}
labels: {team: web}
strategy: spread
runtime: podman
upgrade: {minimumHealthCapacity: 0.5, maximumOverCapacity: 0.2}
`,
      'web.yaml',
    )
    expect(spec!.command).to.deep.equal(['sh', '-c', 'httpd -f -p $PORT0 -h /www'])
    expect(spec!.env).to.deep.equal({GREETING: 'hello', N: '3'})
    expect(spec!.resources).to.deep.equal({cpuMilli: 500, memBytes: 256 * 1024 ** 2, diskBytes: 1024 ** 3, gpus: 0})
    expect(spec!.ports).to.deep.equal([
      {containerPort: 8080, protocol: 'tcp', name: null},
      {containerPort: 53, protocol: 'udp', name: null},
      {containerPort: 9090, protocol: 'tcp', name: 'metrics'},
    ])
    expect(spec!.volumes).to.deep.equal([
      {source: '/srv/data', target: '/data', readOnly: true},
      {source: '/srv/logs', target: '/logs', readOnly: false},
    ])
    expect(spec!.constraints).to.deep.equal([{field: 'hostname', operator: 'UNIQUE'}, {field: 'zone', operator: 'LIKE', value: 'eu-.*'}])
    expect(spec!.preferences).to.deep.equal([{field: 'disk', value: 'ssd', weight: 3}])
    expect(spec!.healthCheck).to.deep.equal({type: 'http', port: 8080, path: '/healthz', command: null, gracePeriodMs: 20_000, intervalMs: 5000, timeoutMs: 1000, maxConsecutiveFailures: 2})
    // Marathon's fractions for 3 instances: 3 - ceil(1.5) unavailable, floor(0.6) surge
    expect(spec!.upgrade).to.deep.equal({...UPGRADE_DEFAULTS, maxUnavailable: 1, maxSurge: 0})
  })

  it('names the field and the fix', () => {
    expect(problem({name: 'web', image: 'i', instances: -1})).to.equal('web.yaml (job web): instances: must be >= 0, got -1.')
    expect(problem({name: 'Web_1', image: 'i'})).to.match(/name: "Web_1" is not valid: use lower-case letters/)
    expect(problem({name: 'web'})).to.match(/image: required/)
    expect(problem({name: 'web', image: 'i', mem: 'lots'})).to.match(/mem: expected a size like 512Mi/)
    expect(problem({name: 'web', image: 'i', constraints: ['rack:MAX_PER']})).to.match(/constraints\[0\]: rack:MAX_PER needs a value: rack:MAX_PER:2/)
    expect(problem({name: 'web', image: 'i', ports: [70000]})).to.match(/ports\[0\]: port 70000 is out of range/)
    expect(validateJobSpec({name: 'web', image: 'i', ports: [0, 0]}, 'f').ports.map((p) => p.containerPort)).to.deep.equal([0, 0])
    expect(problem({name: 'web', image: 'i', volumes: ['Data:/data']})).to.match(/volumes\[0\]: "Data" is not a volume name/)
    expect(problem({name: 'web', image: 'i', healthCheck: {http: 8080}})).to.match(/port 8080 is not among the job's ports/)
    expect(problem({name: 'web', image: 'i', replicas: 3})).to.match(/replicas: unknown field/)
    expect(problem({name: 'web', image: 'i', restart: 'never'})).to.match(/a service always restarts/)
    expect(validateJobSpec({name: 'web', image: 'i', schedule: 'R/2026-01-01T00:00:00Z/PT1H'}, 'f').runPolicy?.schedule).to.equal('R/2026-01-01T00:00:00Z/PT1H')
  })

  describe('refuses at submit what would fail at start (exit 2, the field named)', () => {
    it('image references that are not references', () => {
      for (const image of ['foo bar', 'x;$(id)', '-privileged', 'Upper/Case', 'a//b', 'app:', 'x'.repeat(600)]) {
        expect(problem({name: 'web', image}), image).to.match(/^web.yaml \(job web\): image: /)
      }

      for (const image of ['busybox', 'localhost/app:1.0', 'localhost:5000/team/app_x:v1.2-rc', 'quay.io/app@sha256:' + 'a'.repeat(64), 'docker.io/library/busybox:latest']) {
        expect(validateJobSpec({name: 'web', image}, 'f').image, image).to.equal(image)
      }
    })

    it('preemption: never, allow (the default, not stored) or force; anything else is refused by name', () => {
      expect(validateJobSpec({name: 'web', image: 'i', preemption: 'force'}, 'f').preemption).to.equal('force')
      expect(validateJobSpec({name: 'web', image: 'i', preemption: 'never'}, 'f').preemption).to.equal('never')
      expect(validateJobSpec({name: 'web', image: 'i', preemption: 'allow'}, 'f').preemption).to.equal(undefined)
      expect(problem({name: 'web', image: 'i', preemption: 'always'})).to.equal('web.yaml (job web): preemption: must be never, allow (the default) or force, got "always".')
    })

    it('NUL bytes in env, labels and the command', () => {
      expect(problem({name: 'web', image: 'i', env: {A: 'x\0y'}})).to.equal('web.yaml (job web): env.A: contains a NUL byte, which no command line or environment can carry.')
      expect(problem({name: 'web', image: 'i', labels: {team: 'a\0'}})).to.match(/labels.team: contains a NUL byte/)
      expect(problem({name: 'web', image: 'i', command: ['sh', '-c', 'echo\0']})).to.match(/command: contains a NUL byte/)
    })

    it('sizes and counts past sane upper bounds, and below what a runtime starts', () => {
      expect(problem({name: 'web', image: 'i', mem: '99999999Ti'})).to.equal('web.yaml (job web): mem: must be at most 64Ti, got "99999999Ti".')
      expect(problem({name: 'web', image: 'i', mem: '5Mi'})).to.match(/mem: must be at least 6Mi/)
      expect(problem({name: 'web', image: 'i', cpus: 99999999})).to.equal('web.yaml (job web): cpus: must be at most 1024, got 99999999.')
      expect(problem({name: 'web', image: 'i', disk: '2048Ti'})).to.match(/disk: must be at most 1Pi/)
      expect(problem({name: 'web', image: 'i', gpus: 65})).to.match(/gpus: must be at most 64, got 65/)
      expect(problem({name: 'web', image: 'i', instances: 1_000_000})).to.match(/instances: must be at most 10000, got 1000000/)
      expect(problem({name: 'web', image: 'i', instances: '99999999999999999999'})).to.match(/instances: must be at most 10000, got "99999999999999999999"/)
      expect(problem({name: 'web', image: 'i', instances: 1e20})).to.match(/instances: must be at most 10000/)
      const top = validateJobSpec({name: 'web', image: 'i', cpus: 1024, mem: '64Ti', disk: '1Pi', gpus: 64, instances: 10_000}, 'f')
      expect(top.resources).to.deep.equal({cpuMilli: 1_024_000, memBytes: 64 * 1024 ** 4, diskBytes: 1024 ** 5, gpus: 64})
      expect(instancesProblem(10_001)).to.equal('must be at most 10000, got 10001')
      expect(instancesProblem(-1)).to.equal('must be a whole number >= 0, got -1')
      expect(instancesProblem(3)).to.equal(null)
    })

    it('says what is wrong, not something near it', () => {
      expect(problem({name: 'web', image: 'i', cpus: 0.0000001})).to.equal('web.yaml (job web): cpus: must be at least 0.001 (1m), got 1e-7.')
      expect(problem({name: 'web', image: 'i', cpus: '0.0000001'})).to.match(/cpus: must be at least 0.001 \(1m\), got "0.0000001"/)
      expect(problem({name: 'web', image: 'i', cpus: {a: 1}})).to.equal('web.yaml (job web): cpus: must be a CPU count like 2, 0.5 or 500m, got an object.')
      expect(problem({name: 'web', image: 'i', mem: [1]})).to.match(/mem: must be a size like 256Mi or 2Gi, got a list/)
      expect(problem({name: 123, image: 'i'})).to.equal('web.yaml: name: must be a string like web-1, got 123.')
      expect(problem({image: 'i'})).to.equal('web.yaml: name: required: a job name like web-1.')
    })
  })

  it('init: containers run under the node\'s init unless init: false (which changes the containers); anything else is refused', () => {
    const plain = validateJobSpec({name: 'web', image: 'i'}, 'web.yaml')
    expect(plain).not.to.have.property('init')
    expect(validateJobSpec({name: 'web', image: 'i', init: true}, 'web.yaml')).not.to.have.property('init')
    const bare = validateJobSpec({name: 'web', image: 'i', init: false}, 'web.yaml')
    expect(bare.init).to.equal(false)
    expect(containerSpecHash(bare)).not.to.equal(containerSpecHash(plain))
    expect(containerSpecHash(validateJobSpec({name: 'web', image: 'i', init: true}, 'web.yaml'))).to.equal(containerSpecHash(plain))
    expect(problem({name: 'web', image: 'i', init: 'no'})).to.match(/init: must be true or false, got "no"/)
  })

  it('network: a network name (which changes the containers), never a podman mode, never with runtime: containerd (docs/networks.md)', () => {
    const plain = validateJobSpec({name: 'web', image: 'i'}, 'web.yaml')
    expect(plain).not.to.have.property('network')
    const on = validateJobSpec({name: 'web', image: 'i', network: 'backend'}, 'web.yaml')
    expect(on.network).to.equal('backend')
    expect(containerSpecHash(on)).not.to.equal(containerSpecHash(plain))
    expect(containerSpecHash(validateJobSpec({name: 'web', image: 'i', network: null}, 'web.yaml')), 'no network: the hash of before').to.equal(containerSpecHash(plain))
    expect(validateJobSpec({name: 'web', image: 'i', network: 'backend', runtime: 'podman'}, 'web.yaml').network).to.equal('backend')
    expect(problem({name: 'web', image: 'i', network: 'Back_End'})).to.match(/network: "Back_End" is not a network name: use lower-case letters, digits and '-'/)
    expect(problem({name: 'web', image: 'i', network: 'host'})).to.match(/network: "host" is a network mode of podman, not a network of its own/)
    expect(problem({name: 'web', image: 'i', network: 7})).to.match(/network: must be a network name like backend, got 7/)
    expect(problem({name: 'web', image: 'i', network: 'backend', runtime: 'containerd'})).to.match(/network: a job on a network needs podman: containerd runs containers with host networking/)
  })

  it('servicePort: a TCP port outside the host-port pool, on a service with a TCP port (docs/endpoints.md)', () => {
    expect(validateJobSpec({name: 'web', image: 'i', ports: [8080], servicePort: 443}, 'w.yaml').servicePort).to.equal(443)
    expect(validateJobSpec({name: 'web', image: 'i', ports: [8080], servicePort: '10001'}, 'w.yaml').servicePort).to.equal(10_001)
    expect(validateJobSpec({name: 'web', image: 'i', ports: [8080]}, 'w.yaml')).to.not.have.property('servicePort')
    const problem = (raw: Record<string, unknown>): string => {
      try {
        validateJobSpec({name: 'web', image: 'i', ...raw}, 'w.yaml')
      } catch (error) {
        expect(error).to.be.instanceOf(UserError)
        return (error as Error).message
      }

      throw new Error('expected a refusal')
    }

    expect(problem({ports: [8080], servicePort: 0})).to.equal('w.yaml (job web): servicePort: must be >= 1, got 0.')
    expect(problem({ports: [8080], servicePort: 70_000})).to.equal('w.yaml (job web): servicePort: must be at most 65535, got 70000.')
    expect(problem({ports: [8080], servicePort: 'http'})).to.equal('w.yaml (job web): servicePort: must be a whole number, got "http".')
    expect(problem({ports: [8080], servicePort: 31_500})).to.match(/servicePort: 31500 is in the host-port pool 31000-32000/)
    expect(problem({ports: [8080], servicePort: 9000, kind: 'batch'})).to.match(/servicePort: a service port fronts a service: leave it out of a batch job/)
    expect(problem({ports: ['53/udp'], servicePort: 9000})).to.match(/servicePort: a service port fronts the job's first TCP port, and it has none/)
  })

  it('drainTimeout: a duration up to 1h; the default (30s) is left out, so stored specs compare equal (docs/endpoints.md)', () => {
    expect(validateJobSpec({name: 'web', image: 'i', ports: [8080], drainTimeout: '2m'}, 'w.yaml').drainTimeoutMs).to.equal(120_000)
    expect(validateJobSpec({name: 'web', image: 'i', ports: [8080], drainTimeout: '0s'}, 'w.yaml').drainTimeoutMs).to.equal(0)
    expect(validateJobSpec({name: 'web', image: 'i', ports: [8080], drainTimeout: '30s'}, 'w.yaml')).to.not.have.property('drainTimeoutMs')
    expect(() => validateJobSpec({name: 'web', image: 'i', drainTimeout: '2h'}, 'w.yaml')).to.throw(UserError, 'w.yaml (job web): drainTimeout: must be at most 1h, got "2h".')
    expect(() => validateJobSpec({name: 'web', image: 'i', drainTimeout: 'soon'}, 'w.yaml')).to.throw(UserError, /drainTimeout/)
  })

  it('reports all problems of a document at once', () => {
    const message = problem({name: 'web', image: 'i', instances: -1, cpus: 'x', strategy: 'random'})
    expect(message).to.match(/^web.yaml \(job web\) has 3 problems:/)
  })

  it('parses many documents, lists and {jobs: [...]}, and rejects duplicates and bad YAML', () => {
    expect(parseSpecText('name: a\nimage: i\n---\nname: b\nimage: i\n', 'f.yaml').map((s) => s.name)).to.deep.equal(['a', 'b'])
    expect(parseSpecText('[{"name": "a", "image": "i"}]', 'f.json').map((s) => s.name)).to.deep.equal(['a'])
    expect(parseSpecText('jobs:\n  - {name: a, image: i}\n  - {name: b, image: i}\n', 'f.yaml')).to.have.length(2)
    expect(() => parseSpecText('name: a\nimage: i\n---\nname: a\nimage: j\n', 'f.yaml')).to.throw(UserError, /defines job a twice/)
    expect(() => parseSpecText('name: a\n  image: [', 'f.yaml')).to.throw(UserError, /^f.yaml:\d+:\d+: not valid YAML or JSON/)
    expect(() => parseSpecText('', 'f.yaml')).to.throw(UserError, /holds no job spec/)
    expect(() => parseSpecText('{"id": "/web", "cmd": "x"}', 'm.json')).to.throw(UserError, /has no container image/)
  })

  it('parses durations', () => {
    expect(parseDurationMs('10s', 'f')).to.equal(10_000)
    expect(parseDurationMs('250ms', 'f')).to.equal(250)
    expect(parseDurationMs('2m', 'f')).to.equal(120_000)
    expect(parseDurationMs(3, 'f')).to.equal(3000)
    expect(() => parseDurationMs('soon', 'f')).to.throw(UserError)
  })

  it('hashes what makes a container, not how many there are or where', () => {
    const a = validateJobSpec({name: 'web', image: 'i', instances: 1, env: {A: '1', B: '2'}}, 'f')
    const b = validateJobSpec({name: 'web', image: 'i', instances: 5, env: {B: '2', A: '1'}, constraints: ['hostname:UNIQUE']}, 'f')
    const c = validateJobSpec({name: 'web', image: 'i', env: {A: '1', B: '3'}}, 'f')
    expect(containerSpecHash(a)).to.equal(containerSpecHash(b))
    expect(containerSpecHash(a)).not.to.equal(containerSpecHash(c))
  })
})

describe('core/spec: scheduled and dependent jobs', () => {
  it('a schedule makes a batch job with the run defaults', () => {
    const spec = validateJobSpec({name: 'nightly', image: 'localhost/etl:1', schedule: '30 2 * * *'}, 'x.yaml')
    expect(spec.kind).to.equal('batch')
    expect(spec.runPolicy).to.deep.equal({schedule: '30 2 * * *', timezone: 'UTC', after: [], retries: 2, deadlineMs: null, concurrency: 'forbid', catchUp: 'last', startingDeadlineMs: null, suspend: false})
  })

  it('reads every field', () => {
    const spec = validateJobSpec({name: 'c', image: 'i', schedule: ['0 9 * * 1-5', '0 12 * * 6'], timezone: 'Europe/Berlin', after: ['a', 'b'], retries: 0, deadline: '30m', concurrency: 'replace', catchUp: 'all', startingDeadline: '5m', suspend: true}, 'x.yaml')
    expect(spec.runPolicy).to.deep.equal({schedule: '0 9 * * 1-5; 0 12 * * 6', timezone: 'Europe/Berlin', after: ['a', 'b'], retries: 0, deadlineMs: 1_800_000, concurrency: 'replace', catchUp: 'all', startingDeadlineMs: 300_000, suspend: true})
  })

  it('a plain job has no run policy and keeps its spec hash', () => {
    const spec = validateJobSpec({name: 'web', image: 'i'}, 'x.yaml')
    expect(spec).not.to.have.property('runPolicy')
  })

  for (const [raw, words] of [
    [{schedule: '61 * * * *'}, 'schedule: cron "61 * * * *": minute "61" is out of range 0-59'],
    [{schedule: '@daily', timezone: 'Nowhere/City'}, 'timezone'],
    [{schedule: '@daily', kind: 'service'}, 'kind: a scheduled or dependent job runs to completion'],
    [{retries: 3}, 'retries: applies to scheduled or dependent jobs: add schedule or after'],
    [{schedule: '@daily', concurrency: 'sometimes'}, 'concurrency: must be forbid, allow, replace'],
    [{schedule: '@daily', catchUp: 'flood'}, 'catchUp: must be last, none, all'],
    [{schedule: '@daily', deadline: 'soon'}, 'deadline: expected a duration'],
    [{schedule: '@daily', instances: 3}, 'one container per run'],
    [{after: ['x'], name: 'x'}, 'cycle x -> x'],
    [{after: 'Bad_Name'}, 'is not a job name'],
    [{schedule: '@daily', restart: 'always'}, 'retries by `retries`'],
  ] as const) {
    it(`refuses ${JSON.stringify(raw)}`, () => expect(problem({name: 'job', image: 'i', ...raw})).to.contain(words))
  }
})
