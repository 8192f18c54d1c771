import {expect} from 'chai'
import fs from 'node:fs'

import {UserError} from '../../../../src/core/errors.js'
import {checkGraph} from '../../../../src/core/schedule/graph.js'
import {parseSpecText} from '../../../../src/core/spec/parse.js'

const fixture = (name: string): string => fs.readFileSync(new URL(`../../../fixtures/chronos/${name}`, import.meta.url), 'utf8')

function parse(text: string, source: string, defaultImage?: string): {specs: ReturnType<typeof parseSpecText>; warnings: string[]} {
  const warnings: string[] = []
  const specs = parseSpecText(text, source, {...(defaultImage ? {defaultImage} : {}), warn: (m) => warnings.push(m)})
  return {specs, warnings}
}

/** The field each warning names ('name' for a renamed job, 'arguments' for arguments ignored with a shell). */
const warnedFields = (warnings: string[]): string[] => warnings.map((w) => /: field (\S+) is not supported/.exec(w)?.[1] ?? (/: Chronos job .* is named /.test(w) ? 'name' : /arguments are ignored/.test(w) ? 'arguments' : w))

describe('core/spec Chronos import', () => {
  it('reads real job files (dennis84/blah): numeric strings, DOCKER container, shell false, environmentVariables', () => {
    const {specs, warnings} = parse(fixture('dennis84-blah-count.json'), 'count.json')
    const [count] = specs
    expect(count).to.deep.include({name: 'count', kind: 'batch', image: 'blah/algo:0.1.0', command: ['count'], instances: 1})
    expect(count!.resources).to.deep.include({cpuMilli: 500, memBytes: 1024 * 1024 * 1024})
    expect(count!.env).to.deep.include({KAFKA_URL: '$BLAH_HOST:31000', SPARK_MASTER: 'mesos://zk://$BLAH_HOST:2181/mesos'})
    expect(count!.runPolicy).to.deep.include({schedule: 'R/2015-11-26T00:00:00Z/PT10M', concurrency: 'forbid', retries: 2})
    expect(warnings).to.deep.equal(['count.json: field container.network is not supported and was ignored (job count).'])
    expect(parse(fixture('dennis84-blah-similarity.json'), 'similarity.json').specs[0]!.resources.cpuMilli).to.equal(1000)
  })

  it('reads vpenso/mesos-example hello.json with --default-image: epsilon -> startingDeadline, Rn, owner as a label, async warned', () => {
    expect(() => parse(fixture('vpenso-mesos-example-hello.json'), 'hello.json')).to.throw(UserError, 'hello.json: Chronos job hello has no container image.')
    const {specs, warnings} = parse(fixture('vpenso-mesos-example-hello.json'), 'hello.json', 'localhost/tools:1')
    expect(specs[0]).to.deep.include({image: 'localhost/tools:1', command: ['sh', '-c', "echo 'hello world' ; sleep 30"]})
    expect(specs[0]!.runPolicy).to.deep.include({schedule: 'R10/2018-06-13T13:15:00Z/PT1M', startingDeadlineMs: 15 * 60_000})
    expect(specs[0]!.labels).to.deep.equal({'chronos.owner': 'devops@devops.test'})
    expect(warnings).to.deep.equal(['hello.json: field async is not supported and was ignored (job hello).'])
  })

  it('volumes: absolute host paths; an external volume of Docker\'s local driver mounting NFS is an NFS volume; sandbox-relative host paths, other drivers, persistent and sourceless volumes and unknown fields are warned about by name, not mounted', () => {
    const job = (volumes: unknown[]) => parse(JSON.stringify({name: 'etl', command: 'run.sh', schedule: 'R/2026-01-01T02:00:00Z/P1D', container: {type: 'DOCKER', image: 'localhost/etl:1', volumes}}), 'etl.json')
    const nfs = {containerPath: '/shared', mode: 'RO', external: {name: 'Shared_Data', provider: 'local', options: [{key: 'type', value: 'nfs'}, {key: 'o', value: 'addr=10.0.0.5,nfsvers=4'}, {key: 'device', value: ':/srv/share'}]}}
    let r = job([{containerPath: '/data', hostPath: '/srv/data'}, nfs])
    expect(r.specs[0]!.volumes).to.deep.equal([
      {source: '/srv/data', target: '/data', readOnly: false},
      {source: 'shared-data', target: '/shared', readOnly: true, nfs: {server: '10.0.0.5', export: '/srv/share', options: 'nfsvers=4'}},
    ])
    expect(r.warnings).to.deep.equal([])
    // device SERVER:/EXPORT without addr=, and no options: rw
    r = job([{containerPath: '/s', external: {name: 's', provider: 'local', options: [{key: 'type', value: 'nfs'}, {key: 'device', value: 'nfs-1:/export'}]}}])
    expect(r.specs[0]!.volumes).to.deep.equal([{source: 's', target: '/s', readOnly: false, nfs: {server: 'nfs-1', export: '/export', options: 'rw'}}])
    r = job([
      {containerPath: '/logs', hostPath: 'logs', mode: 'RW'},
      {containerPath: '/tmp', external: {name: 'test', provider: 'local-persist', options: [{key: 'mountpoint', value: '/tmp/test'}]}},
      {containerPath: 'data', persistent: {size: 100}},
      {containerPath: '/nothing'},
      {containerPath: '/x', hostPath: '/srv/x', shared: true},
    ])
    expect(r.specs[0]!.volumes).to.deep.equal([{source: '/srv/x', target: '/x', readOnly: false}])
    expect(warnedFields(r.warnings)).to.deep.equal(['container.volumes.hostPath', 'container.volumes.external', 'container.volumes.persistent', 'container.volumes', 'container.volumes.shared'])
    expect(r.warnings[0]).to.equal('etl.json: field container.volumes.hostPath is not supported relative to the Mesos sandbox ("logs"), which clusterctl has not: the volume at "/logs" was not mounted (job etl).')
    expect(r.warnings[3]).to.equal('etl.json: field container.volumes is not supported without a hostPath or external: the volume at "/nothing" was not mounted (job etl).')
  })

  it('maps every supported field; ignores runtime fields quietly; warns about the others by name', () => {
    const job = {
      name: 'Nightly_ETL', command: 'run.sh', arguments: ['x'], shell: true, schedule: 'R/2026-01-01T02:00:00/P1D', scheduleTimeZone: 'Europe/Berlin', epsilon: 'PT30M', retries: '3', disabled: true,
      concurrent: true, cpus: '0.25', mem: 256.5, disk: '512', environmentVariables: [{name: 'A', value: '1'}], maxCompletionTime: 3_600_000, description: 'nightly',
      container: {type: 'mesos', image: 'localhost/etl:1', volumes: [{containerPath: '/data', hostPath: '/srv/data', mode: 'RO'}], forcePullImage: true},
      constraints: [['rack', 'EQUALS', 'r1'], ['hostname', 'LIKE', 'h.*']],
      successCount: 10, errorCount: 1, lastSuccess: '2026-01-01T00:00:00Z', lastError: '', errorsSinceLastSuccess: 0, highPriority: false, uris: [],
    }
    const {specs, warnings} = parse(JSON.stringify(job), 'etl.json')
    const s = specs[0]!
    expect(s).to.deep.include({name: 'nightly-etl', image: 'localhost/etl:1', command: ['sh', '-c', 'run.sh'], env: {A: '1'}})
    expect(s.resources).to.deep.include({cpuMilli: 250, memBytes: 257 * 1024 ** 2, diskBytes: 512 * 1024 ** 2})
    expect(s.volumes).to.deep.equal([{source: '/srv/data', target: '/data', readOnly: true}])
    expect(s.constraints).to.deep.equal([{field: 'rack', operator: 'IS', value: 'r1'}, {field: 'hostname', operator: 'LIKE', value: 'h.*'}])
    expect(s.runPolicy).to.deep.equal({schedule: 'R/2026-01-01T02:00:00/P1D', timezone: 'Europe/Berlin', after: [], retries: 3, deadlineMs: 3_600_000, concurrency: 'allow', catchUp: 'last', startingDeadlineMs: 1_800_000, suspend: true})
    expect(warnings.map((w) => w.replace(/ \(job [^ ]+\)\.$/, ''))).to.have.members([
      'etl.json: Chronos job "Nightly_ETL" is named nightly-etl here (job names are lower-case letters, digits and \'-\')',
      'etl.json: field highPriority is not supported and was ignored',
      'etl.json: field uris is not supported and was ignored',
      'etl.json: field container.forcePullImage is not supported and was ignored',
      'etl.json: arguments are ignored with shell: true (Chronos passes them only to a non-shell command)',
    ])
  })

  it('reads a large generated export: 600 jobs, dependency chains 25 deep, warnings once per field', () => {
    const jobs: Array<Record<string, unknown>> = []
    for (let chain = 0; chain < 24; chain++) {
      for (let depth = 0; depth < 25; depth++) {
        const name = `c${chain}-step${depth}`
        jobs.push({name, command: `echo ${name}`, owner: 'data@example.com', async: false, epsilon: 'PT60S', cpus: 0.1, mem: '64', successCount: depth, ...(depth === 0 ? {schedule: `R/2026-01-01T0${chain % 10}:00:00Z/PT1H`} : {parents: [`c${chain}-step${depth - 1}`, ...(depth > 2 && chain > 0 ? [`c${chain - 1}-step${depth - 2}`] : [])]})})
      }
    }

    const started = performance.now()
    const {specs, warnings} = parse(JSON.stringify(jobs), 'export.json', 'localhost/tools:1')
    const ms = performance.now() - started
    expect(specs).to.have.length(600)
    expect(warnings).to.deep.equal(['export.json: field async is not supported and was ignored (600 jobs: c0-step0, c0-step1, c0-step2, c0-step3, c0-step4, ...).'])
    checkGraph(specs.map((s) => ({name: s.name, after: s.runPolicy!.after, schedule: s.runPolicy!.schedule})))
    expect(ms).to.be.below(5000)
  })

  it('refuses invalid JSON with the line and column, and a bad field value naming the job', () => {
    expect(() => parseSpecText('[\n  {"name": "a",}\n]', 'x.json')).to.throw(UserError, /^x.json:2:16: not valid JSON/)
    expect(() => parse(JSON.stringify({name: 'a', command: 'x', schedule: 'R/bad/PT1H', container: {type: 'DOCKER', image: 'i'}}), 'y.json')).to.throw(UserError, /y.json \(job a\): schedule: .*START "bad"/)
    expect(() => parse(JSON.stringify({name: 'a', command: 'x', schedule: 'R//PT1H', container: {type: 'RKT', image: 'i'}}), 'z.json')).to.throw(UserError, 'container.type must be DOCKER or MESOS')
  })

  describe('real files from public repositories (test/fixtures/chronos/README.md)', () => {
    const DEFAULT = 'localhost/tools:1'
    const RUNTIME_DEFAULTS = {timezone: 'UTC', after: [], deadlineMs: null, concurrency: 'forbid', catchUp: 'last', suspend: false}
    const BLAH_WARNED = ['container.network']
    const IVANGFR_WARNED = ['executor', 'executorFlags', 'taskInfoData', 'softError', 'dataProcessingJobType', 'fetch', 'uris', 'highPriority', 'runAsUser', 'container.network', 'container.forcePullImage', 'container.parameters']

    it('dennis84/blah: six DOCKER jobs with shell false, numeric strings and environmentVariables; container.network warned', () => {
      const cases: Array<[string, string, string, number, number, string]> = [
        ['count', 'blah/algo:0.1.0', 'count', 500, 1024, 'R/2015-11-26T00:00:00Z/PT10M'],
        ['similarity', 'blah/algo:0.1.0', 'similarity', 1000, 1024, 'R/2015-11-26T00:00:00Z/PT30M'],
        ['funnel-items', 'blah/funnel-algo:0.1.0', 'batch --name items --steps item-1,item-2,item-3', 500, 1024, 'R/2015-11-26T00:00:00Z/PT100000H'],
        ['recommendation', 'blah/algo:0.1.0', 'recommendation --collection buy', 500, 1024, 'R/2015-11-26T00:00:00Z/PT100000H'],
        ['user', 'blah/algo:0.1.0', 'user', 500, 512, 'R/2015-11-26T00:00:00Z/PT10M'],
        ['most-viewed', 'blah/algo:0.1.0', 'most-viewed --max 100', 1000, 1024, 'R/2015-11-26T00:00:00Z/PT10M'],
      ]
      for (const [name, image, command, cpuMilli, memMi, schedule] of cases) {
        const {specs, warnings} = parse(fixture(`dennis84-blah-${name}.json`), `${name}.json`)
        expect(specs.map((s) => s.name)).to.deep.equal([name])
        // shell: false: the command string is one argv element after the image's entrypoint, as Mesos passes it to docker
        expect(specs[0]).to.deep.include({kind: 'batch', image, command: [command]})
        expect(specs[0]!.resources).to.deep.include({cpuMilli, memBytes: memMi * 1024 ** 2})
        expect(specs[0]!.runPolicy).to.deep.equal({...RUNTIME_DEFAULTS, schedule, retries: 2, startingDeadlineMs: null})
        expect(Object.keys(specs[0]!.env)).to.include.members(['KAFKA_URL', 'ZOOKEEPER_URL', 'HADOOP_URL', 'ELASTICSEARCH_URL'])
        expect(warnedFields(warnings), name).to.deep.equal(BLAH_WARNED)
      }

      expect(parse(fixture('dennis84-blah-user.json'), 'user.json').specs[0]!.env).to.deep.equal({KAFKA_URL: 'kafka.marathon.mesos:9092', ZOOKEEPER_URL: 'zookeeper.marathon.mesos:2181', HADOOP_URL: 'hdfs://namenode.marathon.mesos:8020', ELASTICSEARCH_URL: 'elasticsearch.marathon.mesos:9200'})
    })

    it('mesos/chronos sample.json: a MESOS container whose external and persistent volumes are warned by name, not refused as "source undefined"', () => {
      const {specs, warnings} = parse(fixture('mesos-chronos-sample.json'), 'sample.json')
      expect(specs[0]).to.deep.include({name: 'test', image: 'debian', command: ['sh', '-c', 'date'], volumes: []})
      expect(specs[0]!.resources).to.deep.include({cpuMilli: 100, memBytes: 32 * 1024 ** 2})
      expect(specs[0]!.runPolicy).to.deep.equal({...RUNTIME_DEFAULTS, schedule: 'R/2016-01-01T00:00:00Z/PT1M', retries: 2, startingDeadlineMs: null})
      expect(warnedFields(warnings)).to.deep.equal(['container.forcePullImage', 'container.networkName', 'container.volumes.external', 'container.volumes.persistent'])
      expect(warnings).to.include('sample.json: field container.volumes.external is not supported (a volume of a Docker volume driver, here "local-persist"; clusterctl\'s volumes are local, NFS and host paths, and Docker\'s local driver mounting NFS is an NFS volume) and the volume at "/tmp" was not mounted (job test).')
      expect(warnings).to.include('sample.json: field container.volumes.persistent is not supported and the volume at "test" was not mounted (Chronos has no persistent volumes: it reads hostPath, containerPath, mode and external only) (job test).')
    })

    it('mesos/chronos UI stubs: Airbnb exports of 235 and 239 jobs (parents, runtime fields, 70-character names) need --default-image, then import whole', () => {
      for (const [file, count, children] of [['mesos-chronos-app-scripts-jobs.json', 235, 43], ['mesos-chronos-target-stubs-jobs.json', 239, 45]] as const) {
        expect(() => parse(fixture(file), file)).to.throw(UserError, `${file} [0]: Chronos job `)
        const {specs, warnings} = parse(fixture(file), file, DEFAULT)
        expect(specs, file).to.have.length(count)
        expect(specs.filter((s) => s.runPolicy!.after.length > 0), file).to.have.length(children)
        expect(specs.every((s) => s.image === DEFAULT && s.command?.[0] === 'sh'), file).to.equal(true)
        expect(warnedFields(warnings), file).to.deep.equal(['name', 'executor', 'executorFlags', 'async'])
        checkGraph(specs.map((s) => ({name: s.name, after: s.runPolicy!.after, schedule: s.runPolicy!.schedule})))
        // two long names sharing their first 63 characters stay two jobs (before: "defines job ... twice")
        const long = specs.map((s) => s.name).filter((n) => n.startsWith('daily-gibson-import-default-analytics-tables-with-sche'))
        expect(long, file).to.have.length(3)
        expect(new Set(long).size).to.equal(3)
      }

      const [first] = parse(fixture('mesos-chronos-app-scripts-jobs.json'), 'jobs.json', DEFAULT).specs
      expect(first).to.deep.include({name: 'create-airbed-dump-table-payment2s', command: ['sh', '-c', '/srv/data-infra/jobs/create.bash create_dump_table payment2s airbed3_production'], labels: {'chronos.owner': 'flo@airbnb.com'}})
      expect(first!.runPolicy).to.deep.equal({...RUNTIME_DEFAULTS, schedule: 'R/2013-02-26T05:30:00.000Z/PT12H', retries: 2, startingDeadlineMs: 2 * 3_600_000})
      const stubs = parse(fixture('mesos-chronos-target-stubs-jobs.json'), 'stubs.json', DEFAULT).specs
      const child = stubs.find((s) => s.name === 'host-earnings-cohorts-async')!
      expect(child.runPolicy).to.deep.include({schedule: null, after: ['hostings-earnings-summary-async'], startingDeadlineMs: 30 * 60_000})
    })

    it('LREN-CHUV/woken: shell false DOCKER jobs, R1//PT24H, a long environment list; the UI-export fields warned', () => {
      const a = parse(fixture('LREN-CHUV-woken-chronos.json'), 'chronos.json')
      expect(a.specs[0]).to.deep.include({name: 'test', image: 'hello', command: ['compute'], labels: {'chronos.owner': 'admin@mip.chuv.ch'}})
      expect(Object.keys(a.specs[0]!.env)).to.have.length(13)
      expect(a.specs[0]!.runPolicy).to.deep.equal({...RUNTIME_DEFAULTS, schedule: 'R1//PT24H', retries: 2, startingDeadlineMs: 300_000})
      expect(warnedFields(a.warnings)).to.deep.equal(['uris', 'async', 'runAsUser'])
      const b = parse(fixture('LREN-CHUV-woken-chronos-job.json'), 'chronos-job.json')
      expect(b.specs[0]).to.deep.include({name: 'hbpmip-somealgo-1', image: 'hbpmip/somealgo', command: ['compute'], env: {JOB_ID: '12345', NODE: 'local', DOCKER_IMAGE: 'hbpmip/somealgo'}})
      expect(b.specs[0]!.resources).to.deep.include({cpuMilli: 500, memBytes: 512 * 1024 ** 2})
      expect(b.specs[0]!.runPolicy).to.deep.equal({...RUNTIME_DEFAULTS, schedule: 'R1//PT24H', retries: 0, startingDeadlineMs: 300_000})
      expect(warnedFields(b.warnings)).to.deep.equal(['name', 'highPriority', 'runAsUser', 'container.forcePullImage', 'container.network', 'container.networkInfos', 'container.parameters'])
    })

    it('ivangfr/springboot-mesos-chronos: full UI exports (lower-case docker type, empty scheduleTimeZone, description label) with every unsupported field warned', () => {
      for (const [file, name, image, memMi, schedule] of [
        ['ivangfr-springboot-mesos-chronos-job.json', 'springboot-mesos-chronos-job', 'docker.mycompany.com/springboot-mesos-chronos:1.0.0', 999, 'R/2018-10-30T18:30:00.000Z/PT2M'],
        ['ivangfr-springboot-mesos-chronos-simple-service.json', 'simple-service-job', 'ivanfranchin/simple-service:1.0.0', 128, 'R/2021-06-21T00:00:00.000Z/PT2M'],
      ] as const) {
        const {specs, warnings} = parse(fixture(file), file)
        expect(specs[0]).to.deep.include({name, image, env: {EXIT_CODE: '0', SLEEP: name === 'simple-service-job' ? '10000' : '1000'}, constraints: [], labels: {'chronos.description': 'What this job does is ...'}})
        expect(specs[0]!.command?.slice(0, 2)).to.deep.equal(['sh', '-c'])
        expect(specs[0]!.resources).to.deep.include({cpuMilli: 100, memBytes: memMi * 1024 ** 2, diskBytes: 0})
        expect(specs[0]!.runPolicy).to.deep.equal({...RUNTIME_DEFAULTS, schedule, retries: 0, startingDeadlineMs: null})
        expect(warnedFields(warnings), file).to.deep.equal(IVANGFR_WARNED)
      }
    })

    it('dave-re/first-mesos: scheduleTimeZone Asia/Seoul, an offset without a colon, a parent and a child (no container: --default-image)', () => {
      const docker = parse(fixture('dave-re-first-mesos-docker.json'), 'docker.json')
      expect(docker.specs[0]).to.deep.include({name: 'dockerjob', image: 'ubuntu:14.04', command: ['sh', '-c', 'date']})
      expect(docker.specs[0]!.runPolicy).to.deep.equal({...RUNTIME_DEFAULTS, schedule: 'R/2016-02-24T22:00:00+0900/PT2M', timezone: 'Asia/Seoul', retries: 2, startingDeadlineMs: null})
      expect(warnedFields(docker.warnings)).to.deep.equal(['name', 'container.network'])
      for (const file of ['hello', 'parent', 'child']) expect(() => parse(fixture(`dave-re-first-mesos-${file}.json`), `${file}.json`)).to.throw(UserError, `${file}.json: Chronos job `)
      const hello = parse(fixture('dave-re-first-mesos-hello.json'), 'hello.json', DEFAULT)
      expect(hello.specs[0]).to.deep.include({name: 'hellochronosjob', image: DEFAULT, command: ['sh', '-c', "echo 'Hello Chronos'"], labels: {'chronos.owner': 'chronos@example.com'}})
      expect(hello.specs[0]!.runPolicy).to.deep.equal({...RUNTIME_DEFAULTS, schedule: 'R/2016-02-24T22:00:00+09:00/PT5S', timezone: 'Asia/Seoul', retries: 2, startingDeadlineMs: 900_000})
      expect(warnedFields(hello.warnings)).to.deep.equal(['name'])
      const both = parse(`[${fixture('dave-re-first-mesos-parent.json')},${fixture('dave-re-first-mesos-child.json')}]`, 'pair.json', DEFAULT)
      expect(both.specs.map((s) => [s.name, s.runPolicy!.schedule, s.runPolicy!.timezone, s.runPolicy!.after])).to.deep.equal([['parentjob', 'R//PT30S', 'Asia/Seoul', []], ['childjob', null, 'UTC', ['parentjob']]])
      checkGraph(both.specs.map((s) => ({name: s.name, after: s.runPolicy!.after, schedule: s.runPolicy!.schedule})))
      expect(warnedFields(both.warnings)).to.deep.equal(['name'])
    })

    it('mjbroekman/toys: the README sample job (backticks in a shell command, epsilon, owner) with --default-image', () => {
      expect(() => parse(fixture('mjbroekman-toys-chronos.json'), 'chronos.json')).to.throw(UserError, 'chronos.json: Chronos job SAMPLE_JOB1 has no container image.')
      const {specs, warnings} = parse(fixture('mjbroekman-toys-chronos.json'), 'chronos.json', DEFAULT)
      expect(specs[0]).to.deep.include({name: 'sample-job1', image: DEFAULT, command: ['sh', '-c', 'echo "Success from `hostname`" | mail -s SAMPLE_JOB1 email@domain.tld >> /tmp/JOB1_OUT'], labels: {'chronos.owner': 'email@domain.tld'}})
      expect(specs[0]!.runPolicy).to.deep.equal({...RUNTIME_DEFAULTS, schedule: 'R/2015-02-17T20:00:00Z/PT12H', retries: 2, startingDeadlineMs: 900_000})
      expect(warnedFields(warnings)).to.deep.equal(['name', 'async'])
    })

    it('refuses the real files Chronos would refuse too: a trailing comma (adamjkeller/vault-ecs), unrendered ${...}/$VAR templates (jobrapido, advancedtelematic/ota-tuf)', () => {
      expect(() => parse(fixture('adamjkeller-vault-ecs-chronos.json'), 'chronos.json')).to.throw(UserError, 'chronos.json:8:3: not valid JSON: trailing comma before }.')
      expect(() => parse(fixture('jobrapido-mail-jobseeker-extractor-chronos.json'), 'jr.json', DEFAULT)).to.throw(UserError, /^jr\.json \(job marathon-app-id---deploy-app-country\) has 3 problems:\n {2}image: "\$\{DOCKER_IMAGE\}:\$\{deploy_release\}" is not an image reference.*\n {2}cpus: expected a CPU count like 2, 0\.5 or 500m, got "\$\{CPUS\}"\n {2}mem: expected a size like 512Mi, 2Gi or 1\.5G, got "\$\{MEMORY\}"$/)
      expect(() => parse(fixture('advancedtelematic-ota-tuf-job.json'), 'job.json', DEFAULT)).to.throw(UserError, /^job\.json \(job job-name\) has 2 problems:\n {2}schedule: "\$SCHEDULE" is not an ISO 8601 repeating interval.*\n {2}image: "\$DOCKER_IMAGE" is not an image reference/)
    })
  })
})
