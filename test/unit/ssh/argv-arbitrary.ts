/**
 * Random argv for the quoting property tests (unit: local /bin/sh; e2e: through sshd).
 * Weighted towards everything a shell treats specially.
 */
import fc from 'fast-check'

const SPECIAL = [
  "'", '"', '$', '`', '\\', '\n', '\r', '\t', ' ', '*', '?', '[', ']', '~', ';', '|', '&', '<', '>', '(', ')', '{', '}',
  '!', '#', '=', '%', '^', '-', ',', ':', '@', '+', '.', '/', '\x01', '\x7f', '\u00a0', '\u200b', 'é', 'ß', '日本', '😀', '👩‍👩‍👧', '\u{10FFFD}',
]

const TRICKY_WORDS = [
  '', '-', '--', '-n', '-e', '-E', '--help', '~', '~root', '~/x', '*', '.*', '?', '[a-z]', '[!a]', "'", "''", '"', '\\', '\\\\',
  '$HOME', '${HOME}', '$(id)', '`id`', '$((1+1))', 'a=b', 'A=1', '#comment', '!!', '!$', '{a,b}', '{1..3}', 'a b', ' ',
  '\n', ';rm -rf /', '|cat', '&&', '>out', '<in', '2>&1', "it's", 'say "hi"', 'tab\there', 'x\\ny', '%s', '%n', '\\0',
]

const unit: fc.Arbitrary<string> = fc.oneof(
  {arbitrary: fc.constantFrom(...SPECIAL), weight: 6},
  {arbitrary: fc.string({unit: 'grapheme-ascii', minLength: 1, maxLength: 1}), weight: 4},
  {arbitrary: fc.string({unit: 'binary', minLength: 1, maxLength: 1}).filter((char) => char !== '\0'), weight: 2},
  {arbitrary: fc.string({unit: 'grapheme', minLength: 1, maxLength: 1}), weight: 2},
)

export const argWord: fc.Arbitrary<string> = fc.oneof(
  {arbitrary: fc.string({unit, maxLength: 24}), weight: 8},
  {arbitrary: fc.constantFrom(...TRICKY_WORDS), weight: 2},
)

/** Arguments to pass after the program name (the program itself is fixed by the test). */
export const argList: fc.Arbitrary<string[]> = fc.array(argWord, {maxLength: 8})

/** Split `printf '%s\0' BEGIN ARGS...` output back into the UTF-8 bytes of each argument. */
export function splitNulOutput(output: Buffer): Buffer[] {
  const parts: Buffer[] = []
  let start = 0
  for (let index = 0; index < output.length; index++) {
    if (output[index] === 0) {
      parts.push(output.subarray(start, index))
      start = index + 1
    }
  }
  if (start !== output.length) throw new Error(`output does not end with NUL: ${JSON.stringify(output.subarray(start).toString())}`)
  return parts
}

/** The argv that makes a shell print each argument NUL-terminated, after a BEGIN marker. */
export function printfArgv(args: readonly string[]): string[] {
  return ['printf', '%s\\0', 'BEGIN', ...args]
}
