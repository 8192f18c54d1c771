import {expect} from 'chai'
import fc from 'fast-check'

import {UserError} from '../../../../src/core/errors.js'
import {detectFormat, isChronosJob} from '../../../../src/core/spec/format.js'
import {jsonSyntaxError} from '../../../../src/core/spec/json-syntax.js'
import {parseSpecText} from '../../../../src/core/spec/parse.js'

function refusal(text: string, source: string): string {
  try {
    parseSpecText(text, source)
  } catch (error) {
    expect(error).to.be.instanceOf(UserError)
    return (error as Error).message
  }

  throw new Error('expected a refusal')
}

// The shapes of the Chronos documentation's examples: a scheduled job, a dependent
// job and a Docker job (container.image, strings for cpus and mem).
const SCHEDULED = {schedule: 'R/2014-09-25T17:22:00Z/PT2M', name: 'sample', epsilon: 'PT30M', command: 'echo hi', owner: 'ops@example.com', async: false}
const DEPENDENT = {name: 'after-sample', command: 'echo done', parents: ['sample'], epsilon: 'PT30M', owner: 'ops@example.com'}
const DOCKER = {schedule: 'R/2014-09-25T17:22:00Z/PT2M', name: 'dockerjob', container: {type: 'DOCKER', image: 'libmesos/ubuntu', network: 'BRIDGE'}, cpus: '0.5', mem: '512', fetch: [], command: 'while sleep 10; do date -u +%T; done'}

describe('core/spec formats', () => {
  it('recognises Chronos jobs: scheduled, dependent, Docker, and lists of them', () => {
    for (const job of [SCHEDULED, DEPENDENT, DOCKER]) expect(detectFormat(job), job.name).to.equal('chronos')
    expect(detectFormat([SCHEDULED, DEPENDENT])).to.equal('chronos')
    expect(detectFormat({id: '/web', cmd: 'x'})).to.equal('marathon')
    expect(detectFormat({apps: []})).to.equal('marathon')
  })

  it('takes no job of its own format for Chronos, also one with a schedule', () => {
    expect(detectFormat({name: 'web', image: 'localhost/app:1', command: 'x'})).to.equal('clusterctl')
    expect(detectFormat({name: 'nightly', image: 'localhost/app:1', command: 'x', schedule: 'R/2026-01-01T00:00:00Z/P1D'})).to.equal('clusterctl')
    expect(detectFormat({jobs: [{name: 'a', image: 'i'}]})).to.equal('clusterctl')
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (doc) => !isChronosJob({...doc, image: 'i'})))
  })

  it('reads a Chronos file (the import); a job without a container needs --default-image, named in one sentence', () => {
    const message = refusal(JSON.stringify([SCHEDULED, DEPENDENT, DOCKER], null, 2), 'jobs.json')
    expect(message).to.equal('jobs.json [0]: Chronos job sample has no container image.')
    expect(message).not.to.include('unknown field')
    const specs = parseSpecText(JSON.stringify([SCHEDULED, DEPENDENT, DOCKER]), 'jobs.json', {defaultImage: 'localhost/tools:1'})
    expect(specs.map((s) => [s.name, s.image, s.runPolicy?.schedule ?? null, s.runPolicy?.after ?? []])).to.deep.equal([
      ['sample', 'localhost/tools:1', 'R/2014-09-25T17:22:00Z/PT2M', []],
      ['after-sample', 'localhost/tools:1', null, ['sample']],
      ['dockerjob', 'libmesos/ubuntu', 'R/2014-09-25T17:22:00Z/PT2M', []],
    ])
  })

  it('reports invalid JSON in a .json file as JSON, with line and column', () => {
    const text = '{\n  "name": "web",\n  "image": "localhost/app:1",\n}\n'
    expect(refusal(text, 'web.json')).to.equal('web.json:4:1: not valid JSON: trailing comma before }.')
    expect(refusal('[{"name": "a", "image": "i"},]', 'a.json')).to.equal('a.json:1:30: not valid JSON: trailing comma before ].')
    expect(refusal('{name: "web", image: "i"}', 'b.JSON')).to.equal('b.JSON:1:2: not valid JSON: expected a double-quoted property name, got "n".')
    // The same text is a YAML flow mapping: read as YAML when the file says it is YAML.
    expect(parseSpecText('{name: "web", image: "i"}', 'b.yaml').map((s) => s.name)).to.deep.equal(['web'])
  })

  it('ignores a UTF-8 byte order mark', () => {
    expect(parseSpecText('\uFEFFname: web\nimage: i\n', 'bom.yaml').map((s) => s.name)).to.deep.equal(['web'])
    expect(parseSpecText('\uFEFF{"name": "web", "image": "i"}', 'bom.json').map((s) => s.name)).to.deep.equal(['web'])
  })
})

describe('core/spec/json-syntax', () => {
  it('agrees with JSON.parse on whether a text is JSON', () => {
    const texts = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v, null, 1)),
      fc.jsonValue().map((v) => JSON.stringify(v)).chain((t) => fc.nat(Math.max(0, t.length - 1)).map((n) => t.slice(0, n) + t.slice(n + 1))),
      fc.string(),
    )
    fc.assert(
      fc.property(texts, (text) => {
        let valid = true
        try {
          JSON.parse(text)
        } catch {
          valid = false
        }

        expect(jsonSyntaxError(text) === null, text).to.equal(valid)
      }),
      {numRuns: 2000},
    )
  })

  it('places errors by line and column', () => {
    expect(jsonSyntaxError('{"a": 1}')).to.equal(null)
    expect(jsonSyntaxError('{\n  "a": tru\n}')).to.deep.equal({line: 2, column: 8, message: 'expected a value, got "t"'})
    expect(jsonSyntaxError('{"a": "x')).to.deep.equal({line: 1, column: 7, message: 'unterminated string'})
    expect(jsonSyntaxError('{"a": 1} x')).to.deep.equal({line: 1, column: 10, message: 'unexpected "x" after the JSON value'})
    expect(jsonSyntaxError('')).to.deep.equal({line: 1, column: 1, message: 'expected a value, got the end of the input'})
    expect(jsonSyntaxError('['.repeat(100_000))?.message).to.equal('nested more than 512 levels deep')
  })
})
