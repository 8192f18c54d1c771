import {expect} from 'chai'
import fs from 'node:fs'

import {UserError} from '../../../../src/core/errors.js'
import {parseSpecText} from '../../../../src/core/spec/parse.js'

/**
 * Real Marathon app and group files from public repositories (test/fixtures/marathon/README.md
 * names each one's repository, path and commit), through the parse path `apply -f` uses.
 * For each: the jobs it becomes and the path of every warning, or the message it is refused
 * with; for a command app (no image), also the outcome with `--default-image`.
 */
type Outcome = {jobs: string[]; warnings: string[]; dependsOn?: Record<string, string[]>; local?: Record<string, {volumes: string[]; upgrade: string}>} | {refused: string}
type Expected = Outcome & {withDefaultImage?: Outcome}

const DIR = new URL('../../../fixtures/marathon/real/', import.meta.url)

/** The warning's field path: `FILE: PATH: message.` or, from the validator, `FILE (job NAME): PATH: message.` */
const pathOf = (file: string, warning: string): string => warning.slice(file.length).replace(/^ \(job [^)]+\)/, '').replace(/^: /, '').split(': ')[0]!

function run(file: string, defaultImage?: string): Outcome {
  const warnings: string[] = []
  try {
    const specs = parseSpecText(fs.readFileSync(new URL(file, DIR), 'utf8'), file, {...(defaultImage ? {defaultImage} : {}), warn: (m) => warnings.push(m)})
    const dependsOn = Object.fromEntries(specs.filter((s) => s.dependsOn).map((s) => [s.name, s.dependsOn!]))
    // the local volumes of a stateful job (Marathon's persistent volumes), `NAME MOUNT SIZE`, and how it updates
    const local = Object.fromEntries(specs.filter((s) => s.volumes.some((v) => v.local)).map((s) => [s.name, {
      volumes: s.volumes.map((v) => (v.local ? `${v.source} ${v.target} ${v.local.sizeBytes / 1024 ** 2}Mi${v.readOnly ? ' ro' : ''}` : `host ${v.source}:${v.target}`)),
      upgrade: `maxUnavailable ${String(s.upgrade.maxUnavailable)}, maxSurge ${String(s.upgrade.maxSurge)}`,
    }]))
    return {jobs: specs.map((s) => s.name), warnings: warnings.map((w) => pathOf(file, w)), ...(Object.keys(dependsOn).length > 0 ? {dependsOn} : {}), ...(Object.keys(local).length > 0 ? {local} : {})}
  } catch (error) {
    if (!(error instanceof UserError)) throw error
    return {refused: error.message.slice(file.length)}
  }
}

const EXPECTED: Record<string, Expected> = {
  'Azulinho--marathon-docker-compose-example--marathon.json': {refused: ': (test1234) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {jobs: ['test1234'], warnings: ['uris', 'fetch']}},
  'Capgemini--mesos-ui--marathon.json': {jobs: ['mesos-ui'], warnings: []},
  'ContainerSolutions--triton-mysql--marathon.json': {refused: ' (job env-image-prefix--triton-mysql): image: "${env.IMAGE_PREFIX}/triton-mysql" is not an image reference: expected [REGISTRY/]NAME[:TAG][@DIGEST] like localhost/app:1.0, the name in lower case.'},
  'FundingCircle--eremetic--marathon.json': {jobs: ['eremetic'], warnings: ['container.docker.forcePullImage']},
  'GeneralElectric--dcosb-cassandra--marathon.json': {jobs: ['dcosb-cassandra'], warnings: ['container.docker.forcePullImage', 'container.docker.portMappings[0].hostPort']},
  'HuLiKeJi--mesos-kafka-marathon--marathon.json': {jobs: ['kafka'], warnings: ['uris', 'container.docker.forcePullImage', 'container.docker.network'], local: {kafka: {volumes: ['kafka-kafka /kafka 81920Mi'], upgrade: 'maxUnavailable 1, maxSurge 0'}}},
  'LuganoTechTalks--continuous-delivery-demo--marathon.json': {jobs: ['continuous-delivery-demo'], warnings: ['container.docker.forcePullImage']},
  'Schibsted-Tech-Polska--stp.polyglot-api--marathon.json': {jobs: ['api-vg-no-ner-polyglot'], warnings: []},
  'SmartEnergyPlatform--device-sim--marathon.json': {refused: ':38:6: not valid JSON: trailing comma before }.'},
  'TracyHe--spring-cloud-microservice-example--marathon.json': {jobs: ['test-discover-service-discovery', 'test-config-service-config', 'test-movie-services-movie', 'test-movie-services-moviesui', 'test-movie-services-rating', 'test-movie-services-user', 'test-api-gateway-gateway', 'test-hystrix-gateway'], warnings: ['groups[2].dependencies[2]', 'groups[3].dependencies[2]', 'groups[3].dependencies[3]', 'groups[3].dependencies[4]', 'groups[0].apps[0].container.env', 'groups[0].apps[0].container.docker.parameters', 'groups[1].apps[0].container.env', 'groups[1].apps[0].container.docker.parameters', 'groups[2].apps[0].container.docker.parameters', 'groups[2].apps[1].container.env', 'groups[2].apps[1].container.docker.parameters', 'groups[2].apps[2].container.env', 'groups[2].apps[2].container.docker.parameters', 'groups[2].apps[3].container.env', 'groups[2].apps[3].container.docker.parameters', 'groups[3].apps[0].container.env', 'groups[3].apps[0].container.docker.parameters', 'groups[4].apps[0].container.env', 'groups[4].apps[0].container.docker.parameters'], dependsOn: {'test-config-service-config': ['test-discover-service-discovery'], 'test-movie-services-movie': ['test-discover-service-discovery', 'test-config-service-config'], 'test-movie-services-moviesui': ['test-discover-service-discovery', 'test-config-service-config'], 'test-movie-services-rating': ['test-discover-service-discovery', 'test-config-service-config'], 'test-movie-services-user': ['test-discover-service-discovery', 'test-config-service-config'], 'test-api-gateway-gateway': ['test-discover-service-discovery', 'test-config-service-config'], 'test-hystrix-gateway': ['test-discover-service-discovery', 'test-api-gateway-gateway']}},
  'Valassis-Digital-Media--helloworld-nodejs-app--marathon.json': {refused: ':24:5: not valid JSON: trailing comma before }.'},
  'alanbover--grafana-dcos--marathon.json': {jobs: ['grafana-dcos'], warnings: []},
  'amuraru--docker-dynamic-ports--marathon.json': {jobs: ['dynamic-ports'], warnings: []},
  'andrew-jones--mesos-router--marathon.json': {jobs: ['router'], warnings: ['acceptedResourceRoles', 'container.docker.portMappings[0].hostPort']},
  'anthonymoralez--sa-dcos-example--marathon.json': {jobs: ['nginx-anthonymoralez'], warnings: []},
  'aslanbakirov--fibonacci-service--marathon.json': {jobs: ['fibonacci-service'], warnings: ['container.docker.network']},
  'bankofse--cmplxsource--accounts.json': {jobs: ['mon-accounts'], warnings: ['container.docker.forcePullImage', 'container.docker.portMappings[0].hostPort']},
  'mesosphere--marathon--Docker.json': {jobs: ['ubuntu'], warnings: ['container.forcePullImage']},
  'mesosphere--marathon--Group.json': {refused: ': apps[0] (department-a-service-common) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {jobs: ['department-a-service-common', 'department-a-product-a-service-a', 'department-a-product-a-service-b'], warnings: ['groups[0].apps[0].dependencies[0]', 'groups[0].apps[1].dependencies[0]']}},
  'mesosphere--marathon--app-check-http-example.json': {refused: ': (http-index-test) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {jobs: ['http-index-test'], warnings: []}},
  'mesosphere--marathon--app-simple.json': {refused: ': (simple) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {jobs: ['simple'], warnings: []}},
  'mesosphere--marathon--app-with-https-readiness-checks.json': {jobs: ['app-with-https-readiness-checks'], warnings: ['readinessChecks[0].protocol']},
  'mesosphere--marathon--app.json': {refused: ': cmd and args: give one of them (Marathon refuses both too).'},
  'mesosphere--marathon--app_list.json': {refused: ': apps[0] (myapp) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {refused: ' apps[0] (job myapp): mem: must be at least 6Mi (container runtimes refuse less), got "5Mi".'}},
  'mesosphere--marathon--apps_create.json': {refused: ': [0] (test-sleep60) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {jobs: ['test-sleep60', 'test-sleep120'], warnings: ['[0].dependencies[1]'], dependsOn: {'test-sleep60': ['test-sleep120']}}},
  'mesosphere--marathon--bridge.json': {jobs: ['bridged-webapp'], warnings: ['healthChecks']},
  'mesosphere--marathon--external-volume-mesos-app.json': {refused: ': (external-volume-app) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {jobs: ['external-volume-app'], warnings: ['container.volumes[0].external']}},
  'dcos--dcos-docs--1.7-postgres.marathon.json': {jobs: ['postgres'], warnings: ['container.volumes[0].containerPath', 'container.docker.portMappings[0].labels'], local: {postgres: {volumes: ['postgres-pgdata /mnt/mesos/sandbox/pgdata 100Mi'], upgrade: 'maxUnavailable 1, maxSurge 0'}}},
  'dcos--dcos-docs--1.11-postgres.marathon.json': {jobs: ['postgres'], warnings: ['container.volumes[0].containerPath', 'container.portMappings[0].labels'], local: {postgres: {volumes: ['postgres-pgdata /mnt/mesos/sandbox/pgdata 100Mi'], upgrade: 'maxUnavailable 1, maxSurge 0'}}},
  'mesosphere--marathon--resident-docker-app.json': {jobs: ['resident-docker-app'], warnings: ['container.volumes[0].containerPath', 'healthChecks[0].port'], local: {'resident-docker-app': {volumes: ['resident-docker-app-data /mnt/mesos/sandbox/data 100Mi'], upgrade: 'maxUnavailable 1, maxSurge 0'}}},
  'mesosphere--marathon--group.json': {jobs: ['tools-oauth-server', 'tools-datadog-agent', 'tools-docker-registry'], warnings: ['groups[0].apps[0].container.docker.network', 'groups[0].apps[1].container.docker.privileged', 'groups[0].apps[1].container.docker.network']},
  'mesosphere--marathon--healthcheck-and-volume.json': {jobs: ['healthcheck-and-volume'], warnings: ['healthChecks[0].port'], local: {'healthcheck-and-volume': {volumes: ['healthcheck-and-volume-home /home 500Mi'], upgrade: 'maxUnavailable 1, maxSurge 0'}}},
  'mesosphere--marathon--persistent-volume-app.json': {refused: ': (persistent-volume-app) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {jobs: ['persistent-volume-app'], warnings: ['container.volumes[0].containerPath'], local: {'persistent-volume-app': {volumes: ['persistent-volume-app-data /mnt/mesos/sandbox/data 10Mi'], upgrade: 'maxUnavailable 1, maxSurge 0'}}}},
  'mesosphere--marathon--pinger-container-app.json': {refused: ': (pinger-container-app) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {jobs: ['pinger-container-app'], warnings: ['fetch', 'ipAddress.discovery']}},
  'mesosphere--marathon--readiness-and-health-app.json': {refused: ': (readiness-and-health-app) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {jobs: ['readiness-and-health-app'], warnings: []}},
  'mesosphere--marathon--sleep-group.json': {refused: ': groups[0].apps[0] (sleep-group-sleep-goodnight-1) has no container image (container.docker.image): a Marathon command app runs on the host, clusterctl runs containers only.', withDefaultImage: {jobs: ['sleep-group-sleep-goodnight-1', 'sleep-group-sleep-goodnight-2'], warnings: []}},
  'mesosphere--marathon-lb--1-nginx.json': {jobs: ['nginx'], warnings: ['acceptedResourceRoles', 'container.docker.forcePullImage']},
  'mesosphere--marathon-lb--docker_bridge.json': {jobs: ['nginx-docker-bridge'], warnings: ['user']},
  'mesosphere--marathon-lb--zdd_apps.json': {jobs: ['nginx-green', 'nginx-blue'], warnings: ['apps[0].acceptedResourceRoles', 'apps[0].container.docker.forcePullImage', 'apps[1].acceptedResourceRoles', 'apps[1].container.docker.forcePullImage']},
}

describe('core/spec Marathon import: real files from public repositories', () => {
  it('every file in test/fixtures/marathon/real has its expected outcome here', () => {
    expect(fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()).to.deep.equal(Object.keys(EXPECTED).sort())
  })

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(file, () => {
      const {withDefaultImage, ...outcome} = expected
      expect(run(file)).to.deep.equal(outcome)
      if (withDefaultImage) expect(run(file, 'localhost/tools:1'), 'with --default-image').to.deep.equal(withDefaultImage)
    })
  }
})
