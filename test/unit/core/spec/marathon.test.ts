import {expect} from 'chai'
import fs from 'node:fs'

import {UserError} from '../../../../src/core/errors.js'
import {UPGRADE_DEFAULTS} from '../../../../src/core/model/job.js'
import {marathonName, persistentVolumeName} from '../../../../src/core/spec/marathon.js'
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

  it('relative host paths naming no persistent volume and HOST networking are warned about, a check on a fixed port adds it', () => {
    const {specs, warnings} = parse(
      JSON.stringify({id: '/db', container: {type: 'DOCKER', docker: {image: 'localhost/pg:16', network: 'HOST'}, volumes: [{containerPath: '/x', hostPath: 'x', mode: 'RW'}]}, healthChecks: [{protocol: 'MESOS_TCP', port: 5432}]}),
      'db.json',
    )
    // host networking and no port fields: one port, $PORT0, as Marathon gives; the check's fixed port is added beside it
    expect(specs[0]!.ports).to.deep.equal([{containerPort: 0, protocol: 'tcp', name: 'default'}, {containerPort: 5432, protocol: 'tcp', name: null}])
    expect(specs[0]!.healthCheck).to.deep.include({type: 'tcp', port: 5432})
    expect(specs[0]!.volumes).to.deep.equal([])
    expect(warnings.map((w) => w.split(': ')[1])).to.deep.equal(['container.docker.network', 'container.volumes[0].hostPath', 'healthChecks[0].port'])
    expect(warnings[1]).to.include('"x" is relative to a Mesos sandbox, which clusterctl has not, and names no persistent volume of the app: ignored')
  })

  describe('persistent volumes and residency (docs/marathon.md, docs/volumes.md)', () => {
    const app = (extra: Record<string, unknown>, volumes: unknown[], file = 'db.json') =>
      parse(JSON.stringify({id: '/shop/db', instances: 2, container: {type: 'DOCKER', docker: {image: 'localhost/pg:16'}, volumes}, ...extra}), file)
    const fields = (warnings: string[]): string[] => warnings.map((w) => w.split(': ')[1]!)

    it('a persistent volume becomes a local volume of its size in MiB, named after the job and its containerPath, mounted where a Mesos container has its sandbox, MESOS_SANDBOX set', () => {
      const {specs, warnings} = app({env: {PGDATA: '/mnt/mesos/sandbox/pgdata'}}, [{containerPath: 'pgdata', mode: 'RW', persistent: {size: 512}}])
      expect(specs[0]!.volumes).to.deep.equal([{source: 'shop-db-pgdata', target: '/mnt/mesos/sandbox/pgdata', readOnly: false, local: {sizeBytes: 512 * 1024 ** 2}}])
      expect(specs[0]!.env).to.deep.equal({MESOS_SANDBOX: '/mnt/mesos/sandbox', PGDATA: '/mnt/mesos/sandbox/pgdata'})
      // a resident app: stop-then-start, as Marathon updates it
      expect(specs[0]!.upgrade).to.deep.include({maxSurge: 0, maxUnavailable: 1})
      expect(warnings).to.deep.equal(['db.json: container.volumes[0].containerPath: "pgdata" is relative to the Mesos sandbox: mounted at /mnt/mesos/sandbox/pgdata, where a Mesos container has it, and MESOS_SANDBOX is /mnt/mesos/sandbox; nothing else of a sandbox is there, and the working directory is the image\'s.'])
      // the app's own MESOS_SANDBOX stays
      expect(app({env: {MESOS_SANDBOX: '/sandbox'}}, [{containerPath: 'pgdata', persistent: {size: 1}}]).specs[0]!.env).to.deep.equal({MESOS_SANDBOX: '/sandbox'})
    })

    it('a docker app\'s pair, a persistent volume and the host volume binding it by a relative hostPath, is one local volume at the host volume\'s containerPath, in either order, quietly', () => {
      for (const volumes of [
        [{containerPath: 'mysqldata', mode: 'RW', persistent: {type: 'root', size: 1000}}, {containerPath: '/var/lib/mysql', hostPath: 'mysqldata', mode: 'RW'}],
        [{containerPath: '/var/lib/mysql', hostPath: 'mysqldata', mode: 'RW'}, {containerPath: 'mysqldata', mode: 'RW', persistent: {size: 1000}}],
      ]) {
        const {specs, warnings} = app({}, volumes)
        expect(specs[0]!.volumes).to.deep.equal([{source: 'shop-db-mysqldata', target: '/var/lib/mysql', readOnly: false, local: {sizeBytes: 1000 * 1024 ** 2}}])
        expect(specs[0]!.env).to.deep.equal({})
        expect(warnings).to.deep.equal([])
      }

      // RO on either side is read-only; a second host volume binding the same one is warned about; a host volume beside them stays
      const {specs, warnings} = app({}, [
        {containerPath: 'data', persistent: {size: 10}},
        {containerPath: '/data', hostPath: 'data', mode: 'RO'},
        {containerPath: '/again', hostPath: 'data', mode: 'RW'},
        {containerPath: '/etc/app', hostPath: '/srv/app', mode: 'RO'},
      ])
      expect(specs[0]!.volumes).to.deep.equal([
        {source: 'shop-db-data', target: '/data', readOnly: true, local: {sizeBytes: 10 * 1024 ** 2}},
        {source: '/srv/app', target: '/etc/app', readOnly: true},
      ])
      expect(warnings).to.deep.equal(['db.json: container.volumes[2]: the persistent volume "data" is mounted once, at /data (container.volumes[1]): not mounted here too.'])
    })

    it('volume names: cleaned, unique within the job, and short enough for the instance suffix', () => {
      const taken = new Set<string>()
      expect(persistentVolumeName('db', 'Data_Dir', taken)).to.equal('db-data-dir')
      expect(persistentVolumeName('db', 'data-dir', taken)).to.equal('db-data-dir-2')
      expect(persistentVolumeName('db', '...', taken)).to.equal('db-data')
      const long = persistentVolumeName('a'.repeat(60), 'data', new Set())
      expect(long).to.have.length(50)
      expect(long).to.match(/^a{41}-[0-9a-f]{8}$/)
      expect(persistentVolumeName('a'.repeat(60), 'logs', new Set())).not.to.equal(long)
      const {specs} = app({}, [{containerPath: 'data', persistent: {size: 1}}, {containerPath: 'DATA', persistent: {size: 2}}])
      expect(specs[0]!.volumes.map((v) => [v.source, v.target])).to.deep.equal([['shop-db-data', '/mnt/mesos/sandbox/data'], ['shop-db-data-2', '/mnt/mesos/sandbox/DATA']])
    })

    it('persistent fields not honoured are warned about by path: type path/mount, maxSize, profileName, constraints, a size that is none, any other field', () => {
      const {specs, warnings} = app({}, [
        {containerPath: 'pgdata', mode: 'RW', persistent: {type: 'mount', size: 524_288, maxSize: 1_048_576, profileName: 'fast', constraints: [['path', 'LIKE', '/mnt/ssd-.+']], extra: 1}, shared: true},
        {containerPath: 'root', persistent: {type: 'root', size: 0, constraints: []}},
      ])
      expect(specs[0]!.volumes.map((v) => v.local)).to.deep.equal([{sizeBytes: 512 * 1024 ** 3}, {sizeBytes: 1024 ** 3}])
      expect(fields(warnings)).to.deep.equal([
        'container.volumes[0].shared',
        'container.volumes[0].persistent.type',
        'container.volumes[0].persistent.maxSize',
        'container.volumes[0].persistent.profileName',
        'container.volumes[0].persistent.constraints',
        'container.volumes[0].persistent.extra',
        'container.volumes[0].containerPath',
        'container.volumes[1].persistent.size',
        'container.volumes[1].containerPath',
      ])
      expect(warnings[1]).to.include('mount disks are not supported: the volume is a directory on its node\'s disk (docs/volumes.md), its size reserved there')
      expect(warnings[2]).to.include('not supported: the volume reserves its size (524288 MiB), no more')
      expect(warnings[7]).to.include('0 is not a size in MiB: the volume gets the default size, 1Gi')
    })

    it('external volumes have no kind here: warned about by path with their provider and driver, not mounted; secret volumes too', () => {
      const {specs, warnings} = app({}, [
        {containerPath: '/ext', external: {name: 'vol-1', provider: 'dvdi', options: {'dvdi/driver': 'rexray'}, size: 1}, mode: 'RW'},
        {containerPath: '/csi', external: {name: 'vol-2', provider: 'csi', options: {pluginName: 'nfs.csi.k8s.io'}}},
        {containerPath: '/s', secret: 'password'},
      ])
      expect(specs[0]!.volumes).to.deep.equal([])
      expect(warnings).to.deep.equal([
        'db.json: container.volumes[0].external: external volume "vol-1" (provider dvdi, driver rexray) is not supported: clusterctl\'s volumes are local, NFS and host paths (docs/volumes.md; Docker\'s local driver mounting NFS is an NFS volume); not mounted.',
        'db.json: container.volumes[1].external: external volume "vol-2" (provider csi, plugin nfs.csi.k8s.io) is not supported: clusterctl\'s volumes are local, NFS and host paths (docs/volumes.md; Docker\'s local driver mounting NFS is an NFS volume); not mounted.',
        'db.json: container.volumes[2]: secret volumes are not supported: not mounted.',
      ])
      // a MESOS container's DVDI volume of Docker's local driver mounting NFS (its dvdi/* options forwarded) is an NFS volume
      const nfs = parse(JSON.stringify({id: '/shop/db', container: {type: 'MESOS', docker: {image: 'localhost/pg:16'}, volumes: [{containerPath: '/shared', mode: 'RW', external: {name: 'shared', provider: 'dvdi', options: {'dvdi/driver': 'local', 'dvdi/type': 'nfs', 'dvdi/o': 'addr=10.0.0.5,rw', 'dvdi/device': ':/srv/share'}}}]}}), 'db.json')
      expect(nfs.specs[0]!.volumes).to.deep.equal([{source: 'shared', target: '/shared', readOnly: false, nfs: {server: '10.0.0.5', export: '/srv/share', options: 'rw'}}])
      expect(nfs.warnings).to.deep.equal([])
    })

    it('residency: WAIT_FOREVER is what a pinned task does (quiet); RELAUNCH_AFTER_TIMEOUT, other fields and residency without a persistent volume are warned about', () => {
      const pv = [{containerPath: 'data', persistent: {size: 10}}]
      const sandboxOnly = (w: string[]): string[] => fields(w).filter((f) => f !== 'container.volumes[0].containerPath')
      expect(sandboxOnly(app({residency: {relaunchEscalationTimeoutSeconds: 3600, taskLostBehavior: 'WAIT_FOREVER'}, unreachableStrategy: 'disabled'}, pv).warnings)).to.deep.equal([])
      expect(sandboxOnly(app({residency: {}}, pv).warnings)).to.deep.equal([])
      const relaunch = app({residency: {relaunchEscalationTimeoutSeconds: 30, taskLostBehavior: 'RELAUNCH_AFTER_TIMEOUT', other: 1}}, pv).warnings
      expect(sandboxOnly(relaunch)).to.deep.equal(['residency.taskLostBehavior', 'residency.other'])
      expect(relaunch).to.include('db.json: residency.taskLostBehavior: RELAUNCH_AFTER_TIMEOUT (after 30 s) is not supported: a task with a local volume waits for its node until the node returns or `clusterctl volume forget NAME --new-empty` gives its data up (docs/volumes.md).')
      expect(sandboxOnly(app({residency: {taskLostBehavior: 'SOMETIMES'}}, pv).warnings)).to.deep.equal(['residency.taskLostBehavior'])
      expect(app({residency: {taskLostBehavior: 'WAIT_FOREVER'}}, []).warnings).to.deep.equal(['db.json: residency: an app without a persistent volume has nothing to pin (Marathon pins tasks by their persistent volumes): ignored.'])
    })

    it('unreachableStrategy: "disabled" is what a task with a local volume does (quiet); a timeout is warned about, as "disabled" is without one', () => {
      const pv = [{containerPath: 'data', persistent: {size: 10}}]
      const unreachable = (value: unknown, volumes: unknown[]): string[] => app({unreachableStrategy: value}, volumes).warnings.filter((w) => w.includes('unreachableStrategy'))
      expect(unreachable('disabled', pv)).to.deep.equal([])
      expect(unreachable({inactiveAfterSeconds: 0, expungeAfterSeconds: 0}, pv)).to.deep.equal(['db.json: unreachableStrategy: a task with a local volume is never replaced while its node is down: it waits for the node, as with "disabled" (docs/volumes.md).'])
      expect(unreachable('disabled', [])).to.deep.equal(['db.json: unreachableStrategy: not supported: tasks on a node that is down are replaced at once (docs/failure-handling.md).'])
      expect(unreachable({inactiveAfterSeconds: 0}, [])).to.deep.equal([])
    })

    it("upgradeStrategy: a resident app's 0.5/0 (and 0/0) update stop-then-start without a warning; maximumOverCapacity above 0 is refused, as Marathon refuses it", () => {
      const pv = [{containerPath: 'data', persistent: {size: 10}}]
      for (const [n, minimumHealthCapacity, maxUnavailable] of [[1, 0.5, 1], [2, 0.5, 1], [4, 0.5, 2], [3, 0, 3], [3, 1, 1]] as const) {
        const {specs, warnings} = parse(JSON.stringify({id: '/db', instances: n, container: {docker: {image: 'localhost/pg:16'}, volumes: pv}, upgradeStrategy: {minimumHealthCapacity, maximumOverCapacity: 0}}), 'db.json')
        expect(specs[0]!.upgrade, `${n} x ${minimumHealthCapacity}`).to.deep.include({maxSurge: 0, maxUnavailable})
        expect(warnings.filter((w) => w.includes('upgrade'))).to.deep.equal([])
      }

      expect(() => app({upgradeStrategy: {minimumHealthCapacity: 0.5, maximumOverCapacity: 0.5}}, pv)).to.throw(UserError, /upgrade.maximumOverCapacity: a job with a local volume updates stop-then-start/)
    })
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
