/** The dependency rule of docs/architecture.md is enforced by eslint: a forbidden import fails lint. */
import {expect} from 'chai'
import {ESLint} from 'eslint'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

async function problems(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({cwd: ROOT})
  const [result] = await eslint.lintText(code, {filePath: path.join(ROOT, file)})
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`)
}

describe('lint: the dependency rule by folder', function () {
  this.timeout(60_000)

  const forbidden: Array<[string, string, RegExp]> = [
    ['src/core/scheduler/new-file.ts', "import {SshPool} from '../../ssh/pool.js'\nexport const x = SshPool\n", /no-restricted-imports/],
    ['src/core/scheduler/new-file.ts', "import {getJob} from '../services/jobs.js'\nexport const x = getJob\n", /no-restricted-imports/],
    ['src/core/reconcile/new-file.ts', "import {listJobs} from '../state/jobs.js'\nexport const x = listJobs\n", /no-restricted-imports/],
    ['src/core/reconcile/new-file.ts', 'export const now = (): number => Date.now()\n', /no-restricted-properties/],
    ['src/core/model/new-file.ts', "import type {Plan} from '../scheduler/types.js'\nexport type X = Plan\n", /no-restricted-imports/],
    ['src/core/services/new-file.ts', "import {paint} from '../../ui/style.js'\nexport const x = paint\n", /no-restricted-imports/],
    ['src/ui/new-file.ts', "import {runPass} from '../core/reconcile/pass.js'\nexport const x = runPass\n", /no-restricted-imports/],
    ['src/commands/new-file.ts', "import {listEvents} from '../core/state/events.js'\nexport const x = listEvents\n", /no-restricted-imports/],
    ['src/ssh/new-file.ts', "import {getNodes} from '../core/services/nodes.js'\nexport const x = getNodes\n", /no-restricted-imports/],
    ['src/runtime/new-file.ts', 'export const r = (): number => Math.random()\n', /no-restricted-properties/],
  ]
  for (const [file, code, rule] of forbidden) {
    it(`refuses in ${file}: ${code.split('\n')[0]}`, async () => {
      expect((await problems(file, code)).join('\n')).to.match(rule)
    })
  }

  it('allows what the table allows (reconcile -> model, scheduler, runtime builders, ssh quoting)', async () => {
    const code = "import type {Job} from '../model/task.js'\nimport type {Plan} from '../scheduler/types.js'\nimport {containerName} from '../../runtime/index.js'\nimport {toShellCommand} from '../../ssh/quote.js'\nexport const x = [containerName, toShellCommand]\nexport type Y = [Job, Plan]\n"
    expect(await problems('src/core/reconcile/new-file.ts', code)).to.deep.equal([])
  })
})
