import {expect} from 'chai'
import fc from 'fast-check'
import {spawnSync} from 'node:child_process'

import {UserError} from '../../../src/core/errors.js'
import {quoteWord, toShellCommand} from '../../../src/ssh/quote.js'
import {argList, printfArgv, splitNulOutput} from './argv-arbitrary.js'

/** Run argv through a real shell exactly as sshd would (`SHELL -c LINE`) and return each argument's bytes. */
function roundTrip(shell: string, args: readonly string[]): Buffer[] {
  const line = toShellCommand(printfArgv(args))
  const result = spawnSync(shell, ['-c', line], {maxBuffer: 1 << 20})
  if (result.status !== 0) throw new Error(`${shell} exited ${result.status}: ${result.stderr.toString()} for ${line}`)
  const parts = splitNulOutput(result.stdout)
  expect(parts[0]?.toString()).to.equal('BEGIN')
  return parts.slice(1)
}

function expectArrived(shell: string, args: readonly string[]): void {
  const arrived = roundTrip(shell, args)
  expect(arrived.map((part) => part.toString('hex'))).to.deep.equal(args.map((arg) => Buffer.from(arg, 'utf8').toString('hex')))
}

/**
 * Many argv in one shell process: one quoted command line each, joined by newlines, as a
 * script would hold them. One process per batch keeps thousands of cases cheap on a busy
 * machine; each argv's bytes are still checked on their own.
 */
function expectBatchArrived(shell: string, batch: readonly (readonly string[])[]): void {
  const script = batch.map((args) => toShellCommand(printfArgv(args))).join('\n')
  const result = spawnSync(shell, ['-c', script], {maxBuffer: 64 << 20})
  if (result.status !== 0) throw new Error(`${shell} exited ${result.status}: ${result.stderr.toString()}`)
  const parts = splitNulOutput(result.stdout)
  let at = 0
  for (const args of batch) {
    expect(parts[at]?.toString(), `the output of ${JSON.stringify(args)} starts with BEGIN`).to.equal('BEGIN')
    const arrived = parts.slice(at + 1, at + 1 + args.length)
    expect(arrived.map((part) => part.toString('hex'))).to.deep.equal(args.map((arg) => Buffer.from(arg, 'utf8').toString('hex')))
    at += 1 + args.length
  }
  expect(at, 'nothing printed beyond the batch').to.equal(parts.length)
}

const BATCH = 100

describe('ssh/quote', () => {
  describe('toShellCommand', () => {
    const table: Array<[string[], string]> = [
      [['ls'], 'ls'],
      [['ls', '-la', '/var/lib'], 'ls -la /var/lib'],
      [['echo', ''], "echo ''"],
      [['echo', "it's"], `echo 'it'\\''s'`],
      [['echo', "'"], `echo ''\\'''`],
      [['echo', '$HOME'], "echo '$HOME'"],
      [['echo', '`id`'], "echo '`id`'"],
      [['echo', '$(id)'], "echo '$(id)'"],
      [['echo', 'a b'], "echo 'a b'"],
      [['echo', 'line1\nline2'], "echo 'line1\nline2'"],
      [['echo', '*'], "echo '*'"],
      [['echo', '~'], "echo '~'"],
      [['echo', 'a=b'], "echo 'a=b'"],
      [['A=1', 'cmd'], "'A=1' cmd"],
      [['echo', '#x'], "echo '#x'"],
      [['echo', '{a,b}'], "echo '{a,b}'"],
      [['echo', '\\'], "echo '\\'"],
      [['echo', 'x;y|z&w'], "echo 'x;y|z&w'"],
      [['echo', '日本'], "echo '日本'"],
      [['podman', 'run', '--name=web-1', '-e', 'X=1'], "podman run '--name=web-1' -e 'X=1'"],
      [['curl', 'user@host:8080/path,x+y%20'], 'curl user@host:8080/path,x+y%20'],
    ]
    for (const [argv, expected] of table) {
      it(`quotes ${JSON.stringify(argv)}`, () => {
        expect(toShellCommand(argv)).to.equal(expected)
      })
    }

    it('refuses a NUL byte and names the argument', () => {
      expect(() => toShellCommand(['echo', 'ok', 'bad\0arg'])).to.throw(UserError, /Argument 2 \("bad\\u0000arg"\) contains a NUL byte/)
    })

    it('refuses a lone surrogate, which cannot be encoded as UTF-8', () => {
      expect(() => toShellCommand(['echo', 'x\uD800'])).to.throw(UserError, /lone UTF-16 surrogate/)
      expect(toShellCommand(['echo', '😀'])).to.equal("echo '😀'")
    })

    it('refuses an empty argv', () => {
      expect(() => toShellCommand([])).to.throw(UserError, /empty command/)
    })

    it('leaves only words made of safe characters bare', () => {
      fc.assert(
        fc.property(fc.string({unit: 'binary-ascii', maxLength: 12}), (word) => {
          const quoted = quoteWord(word)
          if (quoted === word) expect(word).to.match(/^[A-Za-z0-9_@%+:,./-]+$/)
          else expect(quoted.startsWith("'") && quoted.endsWith("'")).to.equal(true)
        }),
        {numRuns: 2000},
      )
    })
  })

  describe('round trip through a real local shell', function () {
    // The timeout only guards against a hang (performance is the benchmarks' business).
    this.timeout(300_000)

    it('delivers the tricky table byte for byte through /bin/sh and bash', () => {
      const args = ['', "'", '"', '$HOME', '`id`', '$(id)', '\\', '\\n', '\n', '*', '?', '[a]', '~', '~root', '-n', '-e', '--', ';', '|', '&', '<', '>', '(', ')', '{a,b}', '!x', '#c', 'a=b', ' lead', 'trail ', '日本語', '😀', '\t']
      expectArrived('/bin/sh', args)
      expectArrived('bash', args)
    })

    it('delivers 3000 random argv byte for byte through /bin/sh (dash)', () => {
      fc.assert(
        fc.property(fc.array(argList, {minLength: BATCH, maxLength: BATCH}), (batch) => {
          expectBatchArrived('/bin/sh', batch)
        }),
        {numRuns: 3000 / BATCH},
      )
    })

    it('delivers 500 random argv byte for byte through bash', () => {
      fc.assert(
        fc.property(fc.array(argList, {minLength: BATCH, maxLength: BATCH}), (batch) => {
          expectBatchArrived('bash', batch)
        }),
        {numRuns: 500 / BATCH},
      )
    })
  })
})
