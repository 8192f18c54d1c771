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

    it('mesos/chronos sample.json: a MESOS container whose external and persistent volumes are warned by name, not refused as "source undefined"', () => {
      const {specs, warnings} = parse(fixture('mesos-chronos-sample.json'), 'sample.json')
      expect(specs[0]).to.deep.include({name: 'test', image: 'debian', command: ['sh', '-c', 'date'], volumes: []})
      expect(specs[0]!.resources).to.deep.include({cpuMilli: 100, memBytes: 32 * 1024 ** 2})
      expect(specs[0]!.runPolicy).to.deep.equal({...RUNTIME_DEFAULTS, schedule: 'R/2016-01-01T00:00:00Z/PT1M', retries: 2, startingDeadlineMs: null})
      expect(warnedFields(warnings)).to.deep.equal(['container.forcePullImage', 'container.networkName', 'container.volumes.external', 'container.volumes.persistent'])
      expect(warnings).to.include('sample.json: field container.volumes.external is not supported and the volume at "/tmp" was not mounted (job test).')
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
  })
})
