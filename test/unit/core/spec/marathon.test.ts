import {expect} from 'chai'
import fs from 'node:fs'

import {UserError} from '../../../../src/core/errors.js'
import {UPGRADE_DEFAULTS} from '../../../../src/core/model/job.js'
import {marathonName} from '../../../../src/core/spec/marathon.js'
import {parseSpecText} from '../../../../src/core/spec/parse.js'

const fixture = (name: string): string => fs.readFileSync(new URL(`../../../fixtures/marathon/${name}`, import.meta.url), 'utf8')

function parse(text: string, source: string, defaultImage?: string): {specs: ReturnType<typeof parseSpecText>; warnings: string[]} {
  const warnings: string[] = []
  const specs = parseSpecText(text, source, {...(defaultImage ? {defaultImage} : {}), warn: (m) => warnings.push(m)})
  return {specs, warnings}
}

describe('core/spec Marathon import', () => {
  it('ids become job names: the path joined with -', () => {
    expect(marathonName('/product/service-a')).to.equal('product-service-a')
    expect(marathonName('/Shop/Web_1')).to.equal('shop-web-1')
    expect(marathonName('simple')).to.equal('simple')
  })

  it('networks: a named container network (Marathon 1.5) or ipAddress.networkName becomes the job\'s network; the rest is warned about by path (docs/networks.md)', () => {
    const app = (extra: Record<string, unknown>) => parse(JSON.stringify({id: '/shop/web', container: {docker: {image: 'localhost/web:1'}}, ...extra}), 'web.json')
    let r = app({networks: [{mode: 'container', name: 'shop'}]})
    expect(r.specs[0]!.network).to.equal('shop')
    expect(r.warnings).to.deep.equal([])
    r = app({networks: [{mode: 'container/bridge'}]})
    expect(r.specs[0]).not.to.have.property('network')
    expect(r.warnings).to.deep.equal([])
    r = app({ipAddress: {networkName: 'dcos', discovery: {ports: [{number: 80, name: 'http', protocol: 'tcp'}]}, groups: []}})
    expect(r.specs[0]!.network).to.equal('dcos')
    expect(r.warnings).to.deep.equal(['web.json: ipAddress.discovery: not supported, ignored.'])
    r = app({networks: [{mode: 'host'}, {mode: 'container'}, {mode: 'container', name: 'Bad_Net'}, {mode: 'container', name: 'a'}, {mode: 'container', name: 'b'}]})
    expect(r.specs[0]!.network).to.equal('a')
    expect(r.warnings.map((w) => w.split(':').slice(0, 2).join(':'))).to.deep.equal(['web.json: networks[0]', 'web.json: networks[1]', 'web.json: networks[2].name', 'web.json: networks[4].name'])
    expect(r.warnings[3]).to.include('a job joins one network: a (networks[3].name), not b')
  })

  it('an app: DOCKER BRIDGE portMappings, numeric strings, host volume, HTTP check by portIndex, constraints, upgradeStrategy exactly; defaults quiet, the rest warned by path', () => {
    const {specs, warnings} = parse(fixture('web-bridge.json'), 'web.json')
    const [web] = specs
    expect(web).to.deep.include({name: 'shop-web', kind: 'service', image: 'localhost/shop-web:2.1', command: null, instances: 4})
    expect(web!.resources).to.deep.include({cpuMilli: 250, memBytes: 128 * 1024 ** 2})
    expect(web!.ports).to.deep.equal([{containerPort: 8080, protocol: 'tcp', name: 'http'}])
    expect(web!.volumes).to.deep.equal([{source: '/srv/shop/conf', target: '/etc/shop', readOnly: true}])
    expect(web!.env).to.deep.equal({LOG_LEVEL: 'info', WORKERS: '4'})
    expect(web!.labels).to.deep.equal({HAPROXY_GROUP: 'external', team: 'shop', 'marathon.id': '/shop/web'})
    expect(web!.constraints).to.deep.equal([{field: 'hostname', operator: 'UNIQUE'}, {field: 'rack', operator: 'GROUP_BY', value: '3'}])
    expect(web!.healthCheck).to.deep.equal({type: 'http', port: 8080, path: '/health', command: null, gracePeriodMs: 60_000, intervalMs: 10_000, timeoutMs: 5000, maxConsecutiveFailures: 3})
    // N=4: maxUnavailable = 4 - ceil(4 x 0.5) = 2, maxSurge = floor(4 x 0.2) = 0
    expect(web!.upgrade).to.deep.equal({...UPGRADE_DEFAULTS, maxUnavailable: 2, maxSurge: 0})
    expect(warnings).to.deep.equal([
      'web.json: acceptedResourceRoles: not supported, ignored.',
      'web.json: container.docker.forcePullImage: not supported, ignored (images are loaded with `clusterctl image push`, or pulled when missing).',
    ])
    // marathon-lb's servicePort is the job's service port (docs/endpoints.md)
    expect(web!.servicePort).to.equal(10001)
  })

  it('service ports: the first TCP port\'s is honoured (portMappings servicePort, portDefinitions port, ports), 0 assigns one, the others are warned about', () => {
    const app = (extra: Record<string, unknown>): string => JSON.stringify({id: '/svc', container: {docker: {image: 'localhost/app:1'}}, ...extra})
    const mapped = parse(app({container: {docker: {image: 'localhost/app:1'}, portMappings: [{containerPort: 53, protocol: 'udp', servicePort: 10053}, {containerPort: 8080, servicePort: 10080}, {containerPort: 9090, servicePort: 10090}]}}), 'svc.json')
    expect(mapped.specs[0]!.servicePort).to.equal(10080)
    expect(mapped.warnings).to.deep.equal([
      'svc.json: container.portMappings[0].servicePort: service port 10053 ignored: a job has one service port, fronting its first TCP port (container.portMappings[1].servicePort).',
      'svc.json: container.portMappings[2].servicePort: service port 10090 ignored: a job has one service port, fronting its first TCP port (container.portMappings[1].servicePort).',
    ])
    expect(parse(app({portDefinitions: [{port: 10100}]}), 'svc.json').specs[0]!.servicePort).to.equal(10100)
    expect(parse(app({ports: [10200, 0]}), 'svc.json').specs[0]!.servicePort).to.equal(10200)
    const assigned = parse(app({portDefinitions: [{port: 0}]}), 'svc.json')
    expect(assigned.specs[0]).to.not.have.property('servicePort')
    expect(assigned.warnings).to.deep.equal([])
    expect(() => parse(app({ports: [31500]}), 'svc.json')).to.throw(UserError, /servicePort: 31500 is in the host-port pool 31000-32000/)
    // two apps of one file with one service port (marathon-lb's blue/green): the first keeps it
    const pair = parse(JSON.stringify({apps: [{id: 'green', container: {docker: {image: 'localhost/app:1'}}, portDefinitions: [{port: 10_500}]}, {id: 'blue', container: {docker: {image: 'localhost/app:1'}}, portDefinitions: [{port: 10_500}]}]}), 'pair.json')
    expect(pair.specs.map((x) => [x.name, x.servicePort])).to.deep.equal([['green', 10_500], ['blue', undefined]])
    expect(pair.warnings).to.deep.equal(["pair.json: apps[1].portDefinitions[0].port: service port 10500 is also /green's (marathon-lb's blue/green pair?): this app gets one assigned; clusterctl's rollouts replace blue/green deployments (docs/deployments.md)."])
  })

  it('a group: nested groups, relative ids resolved, ports/portDefinitions/args, MESOS container; a command-only app needs --default-image; dependencies become dependsOn', () => {
    expect(() => parse(fixture('group-nested.json'), 'product.json')).to.throw(UserError, /groups\[0\]\.apps\[0\] \(product-service-service-a\) has no container image/)
    const {specs, warnings} = parse(fixture('group-nested.json'), 'product.json', 'localhost/tools:1')
    expect(specs.map((s) => [s.name, s.image, s.instances])).to.deep.equal([
      ['product-database', 'localhost/redis:7', 1],
      ['product-service-service-a', 'localhost/tools:1', 2],
      ['product-service-service-b', 'localhost/service-b:1', 1],
    ])
    expect(specs[0]!.ports).to.deep.equal([{containerPort: 0, protocol: 'tcp', name: null}])
    expect(specs[1]!.ports).to.deep.equal([{containerPort: 0, protocol: 'tcp', name: 'api'}])
    expect(specs[2]!.command).to.deep.equal(['--listen', '0.0.0.0:8000'])
    expect(specs[2]!.ports).to.deep.equal([{containerPort: 8000, protocol: 'tcp', name: null}])
    expect(warnings).to.deep.equal([])
    // start order: the group's dependency holds for both of its apps (service-a names it too)
    expect(specs.map((s) => [s.name, s.dependsOn ?? null])).to.deep.equal([
      ['product-database', null],
      ['product-service-service-a', ['product-database']],
      ['product-service-service-b', ['product-database']],
    ])
    // relative ids: an app's against its group, a group's against its parent; `..` is followed; one not in the file is warned
    const relative = parse(JSON.stringify({id: '/shop', apps: [{id: 'db', container: {docker: {image: 'localhost/db:1'}}}], groups: [{id: 'web', dependencies: ['db'], apps: [{id: 'ui', container: {docker: {image: 'localhost/ui:1'}}, dependencies: ['../db', 'api', '/elsewhere/cache']}, {id: 'api', container: {docker: {image: 'localhost/api:1'}}}]}]}), 'shop.json')
    expect(relative.specs.map((s) => [s.name, s.dependsOn ?? null])).to.deep.equal([['shop-db', null], ['shop-web-ui', ['shop-db', 'shop-web-api']], ['shop-web-api', ['shop-db']]])
    expect(relative.warnings).to.deep.equal(['shop.json: groups[0].apps[0].dependencies[2]: /elsewhere/cache is not in this file: not waited for (Marathon ignores a dependency it cannot find).'])
  })

  it('an API response (GET /v2/apps): version, versionInfo, tasks and counters ignored quietly, nulls as absent', () => {
    const {specs, warnings} = parse(fixture('app-list-response.json'), 'apps.json')
    expect(specs.map((s) => [s.name, s.image, s.instances])).to.deep.equal([['tools-sleeper', 'busybox', 2]])
    // minimumHealthCapacity 1, maximumOverCapacity 1 for 2 instances: no instance down, 2 extra
    expect(specs[0]!.upgrade).to.deep.include({maxUnavailable: 0, maxSurge: 2})
    expect(warnings).to.deep.equal([])
  })

  it('readiness checks on a named port, COMMAND checks (maxConsecutiveFailures 0: never kills), 1/0 upgrade becomes maxSurge 1 with a warning, every unsupported setting warned', () => {
    const {specs, warnings} = parse(fixture('readiness-command.json'), 'api.json')
    const [api] = specs
    expect(api!.readinessCheck).to.deep.include({type: 'http', port: 0, path: '/ready', intervalMs: 5000, timeoutMs: 2000})
    expect(api!.healthCheck).to.deep.include({type: 'cmd', command: 'test -f /tmp/alive', maxConsecutiveFailures: 1_000_000})
    expect(api!.upgrade).to.deep.include({maxUnavailable: 0, maxSurge: 1})
    expect(api!.servicePort).to.equal(10000)
    expect(api!.env).to.deep.equal({})
    expect(warnings.map((w) => w.replace(/^api\.json(?: \(job api\))?: /, '').split(':')[0])).to.have.members([
      'upgrade', 'taskKillGracePeriodSeconds', 'secrets', 'portDefinitions[0]', 'portDefinitions[0].labels', 'env.DB_PASSWORD', 'backoffSeconds', 'killSelection', 'unreachableStrategy',
    ])
  })

  it('refuses a file that is not valid JSON with its line and column, cmd with args, an unknown health protocol, a mixed list; nothing from a file with an error', () => {
    expect(() => parse(fixture('trailing-comma.json'), 'broken.json')).to.throw(UserError, 'broken.json:5:1: not valid JSON: trailing comma before }.')
    expect(() => parse('{"id": "/a", "cmd": "x", "args": ["y"], "container": {"docker": {"image": "i"}}}', 'a.json')).to.throw(UserError, /cmd and args: give one of them/)
    expect(() => parse('{"id": "/a", "container": {"docker": {"image": "i"}}, "healthChecks": [{"protocol": "SMTP"}]}', 'a.json')).to.throw(UserError, /healthChecks\[0\]\.protocol: "SMTP" is not a Marathon protocol/)
    expect(() => parse('[{"id": "/a", "container": {"docker": {"image": "i"}}}, {"name": "b", "image": "i"}]', 'a.json')).to.throw(UserError, /mixes Marathon apps with other jobs/)
    expect(() => parse('{"apps": [{"id": "/a", "container": {"docker": {"image": "i"}}}, {"id": "/b", "container": {"docker": {"image": "i"}}, "instances": -1}]}', 'g.json')).to.throw(UserError, /instances: must be >= 0/)
    expect(() => parse('{"apps": [{"id": "/a-b", "container": {"docker": {"image": "i"}}}, {"id": "/a/b", "container": {"docker": {"image": "i"}}}]}', 'g.json')).to.throw(UserError, /defines job a-b twice/)
  })

  it('persistent and external volumes, relative host paths and HOST networking are warned about, a check on a fixed port adds it', () => {
    const {specs, warnings} = parse(
      JSON.stringify({id: '/db', container: {type: 'DOCKER', docker: {image: 'localhost/pg:16', network: 'HOST'}, volumes: [{containerPath: 'data', mode: 'RW', persistent: {size: 100}}, {containerPath: '/x', hostPath: 'x', mode: 'RW'}, {containerPath: '/e', external: {name: 'e'}}]}, healthChecks: [{protocol: 'MESOS_TCP', port: 5432}]}),
      'db.json',
    )
    // host networking and no port fields: one port, $PORT0, as Marathon gives; the check's fixed port is added beside it
    expect(specs[0]!.ports).to.deep.equal([{containerPort: 0, protocol: 'tcp', name: 'default'}, {containerPort: 5432, protocol: 'tcp', name: null}])
    expect(specs[0]!.healthCheck).to.deep.include({type: 'tcp', port: 5432})
    expect(specs[0]!.volumes).to.deep.equal([])
    expect(warnings.map((w) => w.split(': ')[1])).to.deep.equal(['container.docker.network', 'container.volumes[0]', 'container.volumes[1].hostPath', 'container.volumes[2]', 'healthChecks[0].port'])
  })

  it('an app on host networking with no port fields gets one port, $PORT0 named default, as Marathon gives (a check by portIndex 0 probes it); not on BRIDGE', () => {
    const host = parse('{"id": "/fib", "container": {"type": "DOCKER", "docker": {"image": "localhost/fib:1", "network": "HOST"}}, "healthChecks": [{"protocol": "HTTP", "portIndex": 0, "path": "/"}]}', 'fib.json')
    expect(host.specs[0]!.ports).to.deep.equal([{containerPort: 0, protocol: 'tcp', name: 'default'}])
    expect(host.specs[0]!.healthCheck).to.deep.include({type: 'http', port: 0, path: '/'})
    const command = parse('{"id": "/web", "cmd": "python3 -m http.server $PORT0"}', 'web.json', 'localhost/tools:1')
    expect(command.specs[0]!.ports).to.deep.equal([{containerPort: 0, protocol: 'tcp', name: 'default'}])
    const bridge = parse('{"id": "/w", "container": {"docker": {"image": "localhost/w:1", "network": "BRIDGE"}}}', 'w.json')
    expect(bridge.specs[0]!.ports).to.deep.equal([])
  })

  it('health and readiness check fields not read are warned about unless at their default; a Mesos check never kills', () => {
    const {specs, warnings} = parse(
      JSON.stringify({id: '/a', container: {docker: {image: 'localhost/a:1', network: 'BRIDGE', portMappings: [{containerPort: 80, name: 'http'}]}}, healthChecks: [{protocol: 'HTTP', portIndex: 0, ignoreHttp1xx: true, delaySeconds: 15, ipProtocol: 'IPv6'}], readinessChecks: [{name: 'r', portName: 'http', path: '/', preserveLastResponse: true}]}),
      'a.json',
    )
    expect(warnings.map((w) => w.split(': ')[1])).to.deep.equal(['healthChecks[0].ignoreHttp1xx', 'healthChecks[0].ipProtocol', 'readinessChecks[0].preserveLastResponse'])
    expect(specs[0]!.healthCheck).to.deep.include({type: 'http', port: 80})
    const mesos = parse('{"id": "/m", "container": {"docker": {"image": "localhost/m:1"}}, "portDefinitions": [{"port": 0}], "check": {"http": {"portIndex": 0, "path": "/"}}}', 'm.json')
    expect(mesos.specs[0]!.healthCheck).to.deep.include({type: 'http', port: 0, maxConsecutiveFailures: 1_000_000})
  })

  it('port mapping, port definition and host volume fields not read are warned about by their path (networkNames empty: quiet)', () => {
    const {warnings} = parse(
      JSON.stringify([
        {id: '/a', container: {docker: {image: 'localhost/a:1', network: 'BRIDGE'}, portMappings: [{containerPort: 80, networkNames: []}, {containerPort: 81, networkNames: ['dcos']}], volumes: [{containerPath: '/d', hostPath: '/srv/d', mode: 'RW', shared: true}]}},
        {id: '/b', container: {docker: {image: 'localhost/b:1'}}, portDefinitions: [{port: 0, hostPort: 0}]},
      ]),
      'a.json',
    )
    expect(warnings.map((w) => w.split(': ')[1])).to.deep.equal(['[0].container.volumes[0].shared', '[0].container.portMappings[1].networkNames', '[1].portDefinitions[0].hostPort'])
  })
})
