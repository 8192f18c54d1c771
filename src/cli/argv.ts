/**
 * The container command of `clusterctl run NAME ... -- CMD ARGS`: everything after the
 * `--` that ended flag parsing, byte-identical and in order.
 *
 * oclif's non-strict `argv` cannot be used for it: it sorts the extra tokens by the
 * position of their FIRST occurrence in the command line, so a container argument that
 * also appears among clusterctl's own flags (`-p 8080` in both) jumps to the front.
 */
import {UserError} from '../core/errors.js'

/** The parser's record of one token (oclif's `raw`): a flag and its value, or an argument. */
export type RawToken = {type: 'flag'; flag: string; input: string} | {type: 'arg'; input: string}

/**
 * `argv`: the command's tokens as given (after its id); `raw`: what the parser made of
 * them; `extras`: oclif's argv (the positional tokens, sorted its way); `positional`:
 * how many of those are the command's own arguments (`run NAME`: 1).
 */
export function containerCommand(argv: readonly string[], raw: readonly RawToken[], extras: readonly string[], positional: number): string[] {
  // A `--` given as a flag's value (`--label --`) is not the terminator: skip as many.
  const consumed = raw.filter((t) => t.type === 'flag' && t.input === '--').length
  let seen = 0
  const at = argv.findIndex((token) => token === '--' && seen++ === consumed)
  if (at === -1) {
    // `run t1 t2` once ran t2 as the command of t1: a word beside NAME without `--` is a mistake.
    if (extras.length > positional) {
      const words = extras.slice(positional).join(' ')
      throw new UserError(`Only one job name is taken (got also ${JSON.stringify(words)}); the container command goes after \`--\` (e.g. \`clusterctl run web --image IMG -- ${words}\`).`, {code: 'invalid-command'})
    }

    return []
  }

  const command = argv.slice(at + 1)
  if (extras.length - positional > command.length) {
    throw new UserError('The container command goes after `--` only: move the words between the job name and `--` after it (e.g. `clusterctl run web --image IMG -- httpd -f -p 8080`).', {code: 'invalid-command'})
  }

  return command
}
