/**
 * The one place where an argv array becomes a shell command line (DESIGN principle 7).
 *
 * sshd runs every command through the remote user's login shell (`$SHELL -c LINE`), so
 * the argv has to be quoted for that shell. We use POSIX single quotes, which every
 * Bourne-style shell (sh, dash, bash, ksh, zsh) treats as fully literal: inside '...'
 * nothing is special, not even a backslash or a newline; a single quote itself is
 * written as '\'' (close, escaped quote, reopen). csh/tcsh and fish are not supported
 * as login shells of the account clusterctl uses.
 *
 * Two things cannot survive the trip and are refused instead of silently mangled:
 * a NUL byte (C strings end there) and a lone UTF-16 surrogate (it has no UTF-8 form,
 * so it would arrive as U+FFFD).
 */
import {UserError} from '../core/errors.js'

/**
 * Words made only of these characters mean the same bare or quoted in every POSIX shell,
 * in any position. Deliberately missing: `=` (a bare `A=b` first word is an assignment),
 * `~` (tilde expansion), `#` (comment), `{}` (brace expansion in bash/zsh), `!` (history
 * in interactive bash/zsh), `^` (a pipe in old Bourne shells), plus all the obvious ones.
 */
const SAFE_WORD = /^[A-Za-z0-9_@%+:,./-]+$/

/** With the `u` flag a surrogate pair is one astral code point, so only unpaired halves match. */
const LONE_SURROGATE = /\p{Cs}/u

/** Quote one word for a POSIX shell. */
export function quoteWord(word: string): string {
  if (SAFE_WORD.test(word)) return word
  return `'${word.replaceAll("'", `'\\''`)}'`
}

/**
 * Turn argv into one POSIX shell command line that, run by `sh -c`, executes exactly
 * that argv. Throws UserError for arguments that no shell command line can carry.
 */
export function toShellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new UserError('Cannot run an empty command: argv has no program name.', {code: 'empty-command'})
  return argv
    .map((word, index) => {
      if (typeof word !== 'string') {
        throw new UserError(`Argument ${index} of the command is ${typeof word}, not a string.`, {code: 'invalid-argument'})
      }
      if (word.includes('\0')) {
        throw new UserError(
          `Argument ${index} (${describe(word)}) contains a NUL byte, which no shell command can carry: remove it from the argument.`,
          {code: 'invalid-argument'},
        )
      }
      if (LONE_SURROGATE.test(word)) {
        throw new UserError(
          `Argument ${index} (${describe(word)}) contains a lone UTF-16 surrogate, which has no UTF-8 form: pass valid Unicode text.`,
          {code: 'invalid-argument'},
        )
      }
      return quoteWord(word)
    })
    .join(' ')
}

function describe(word: string): string {
  const shown = JSON.stringify(word.length > 60 ? `${word.slice(0, 60)}…` : word)
  return shown
}
