import {expect} from 'chai'
import fs from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'

const require = createRequire(import.meta.url)
const {summarize} = require('../../../scripts/test-summary.cjs') as {summarize: (dir: string, steps: string[]) => {passed: number; failed: number; lines: string[]}}
const {canonical} = require('../../../scripts/sort-manifest.cjs') as {canonical: (m: unknown) => {commands: Record<string, {flags?: object; args?: object}>}}

describe('scripts: the test summary and the manifest', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clusterctl-summary-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('counts every failed step in "N passed, N failed", not only test failures', () => {
    fs.writeFileSync(path.join(dir, 'unit.json'), JSON.stringify({passes: 400, failures: 0}))
    fs.writeFileSync(path.join(dir, 'e2e.json'), JSON.stringify({passes: 34, failures: 0}))
    // The reported run: everything passed but the stale-manifest step.
    expect(summarize(dir, ['manifest and README reference are fresh']).lines.at(-1)).to.equal('434 passed, 1 failed')
    expect(summarize(dir, []).lines.at(-1)).to.equal('434 passed, 0 failed')
    expect(summarize(dir, ['typecheck', 'lint']).failed).to.equal(2)
  })

  it('a failed mocha step counts its failures once; a crashed one (no failures recorded) counts as one', () => {
    fs.writeFileSync(path.join(dir, 'unit.json'), JSON.stringify({passes: 10, failures: 3}))
    expect(summarize(dir, ['unit tests']).lines.at(-1)).to.equal('10 passed, 3 failed')
    expect(summarize(dir, ['end-to-end tests']).lines.at(-1)).to.equal('10 passed, 4 failed')
    expect(summarize(dir, ['end-to-end tests (a test bed is up)']).failed).to.equal(4)
  })

  it('sorts commands and their flags, keeps the order of args (positional)', () => {
    const manifest = {version: '1', commands: {scale: {flags: {timeout: {}, json: {}, db: {}}, args: {job: {}, instances: {}}}, apply: {flags: {file: {}, db: {}}}}}
    const sorted = canonical(manifest)
    expect(Object.keys(sorted.commands)).to.deep.equal(['apply', 'scale'])
    expect(Object.keys(sorted.commands.scale!.flags!)).to.deep.equal(['db', 'json', 'timeout'])
    expect(Object.keys(sorted.commands.scale!.args!)).to.deep.equal(['job', 'instances'])
    const shuffled = {version: '1', commands: {apply: {flags: {db: {}, file: {}}}, scale: {args: {job: {}, instances: {}}, flags: {db: {}, json: {}, timeout: {}}}}}
    const again = canonical(shuffled)
    expect(JSON.stringify(again.commands.apply)).to.equal(JSON.stringify(sorted.commands.apply))
    expect(JSON.stringify(again.commands.scale!.flags)).to.equal(JSON.stringify(sorted.commands.scale!.flags))
  })
})
