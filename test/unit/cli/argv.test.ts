import {Flags, Parser} from '@oclif/core'
import {expect} from 'chai'
import fc from 'fast-check'

import {containerCommand, type RawToken} from '../../../src/cli/argv.js'
import Run from '../../../src/commands/run.js'
import {argWord} from '../ssh/argv-arbitrary.js'

/** Every flag name and alias `run` defines, as a user would type them. */
const RUN_FLAG_WORDS = Object.entries({...Run.baseFlags, ...Run.flags}).flatMap(([name, flag]) => ['--json', `--${name}`, ...('char' in flag && flag.char ? [`-${flag.char}`] : []), ...(flag.type === 'boolean' && 'allowNo' in flag && flag.allowNo ? [`--no-${name}`] : [])])

/** Parses like `clusterctl run` does (oclif's parser, the command's own flags) and takes the container command. */
async function commandOf(argv: string[]): Promise<string[]> {
  const parsed = await Parser.parse(argv, {flags: {...Run.baseFlags, ...Run.flags, json: Flags.boolean()}, args: Run.args, strict: false})
  return containerCommand(argv, parsed.raw as RawToken[], parsed.argv as string[], 1)
}

describe('cli/argv: the container command after `--`', () => {
  it('keeps `-p 8080` in place when run has -p too (the reported bug)', async () => {
    expect(await commandOf(['web', '--image', 'IMG', '-p', '8080', '--', 'httpd', '-f', '-p', '8080', '-h', '/www'])).to.deep.equal(['httpd', '-f', '-p', '8080', '-h', '/www'])
  })

  it('a `--` given as a flag value is not the terminator', async () => {
    expect(await commandOf(['web', '--image', '--', '--', 'echo', '--'])).to.deep.equal(['echo', '--'])
  })

  it('without `--`, a word beside the name is refused, not taken as the command (`run t1 t2`)', async () => {
    const error = await commandOf(['t1', 't2', '--image', 'IMG']).catch((e: Error) => e)
    expect((error as Error).message).to.equal('Only one job name is taken (got also "t2"); the container command goes after `--` (e.g. `clusterctl run web --image IMG -- t2`).')
    expect(await commandOf(['web', '--image', 'IMG'])).to.deep.equal([])
  })

  it('words between the name and `--` are refused, not merged', async () => {
    const error = await commandOf(['web', 'extra', '--image', 'IMG', '--', 'sleep']).catch((e: Error) => e)
    expect((error as Error).message).to.match(/goes after `--` only/)
  })

  it('everything after `--` arrives byte-identical and in order, whatever run flags precede or follow it (property)', async () => {
    const word = fc.oneof({arbitrary: argWord, weight: 3}, {arbitrary: fc.constantFrom(...RUN_FLAG_WORDS, '--', '-', '', '8080', 'IMG', 'web'), weight: 3})
    const before = fc.uniqueArray(fc.constantFrom(['-p', '8080'], ['-e', 'A=1'], ['-v', '/a:/b'], ['--label', 'k=v'], ['--instances', '2'], ['--no-start'], ['--cpus', '0.5'], ['--json']), {maxLength: 4, selector: (f) => f[0]})
    await fc.assert(
      fc.asyncProperty(before, fc.array(word, {maxLength: 12}), async (flags, command) => {
        const argv = ['web', '--image', 'IMG', ...flags.flat(), '--', ...command]
        expect(await commandOf(argv)).to.deep.equal(command)
      }),
      {numRuns: 300},
    )
  })
})
