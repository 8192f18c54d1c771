/**
 * The `--json` document as text, in pieces: exactly `JSON.stringify(value, null, 2)`, with
 * a top-level array (or an object's array fields) serialised one element at a time, so a
 * listing of 10,000 jobs is written as it is produced instead of built as one string and
 * tokenised again for colour (`--json` never has colour: docs/json.md).
 */
export function* jsonPieces(value: unknown): Generator<string> {
  if (!Array.isArray(value) || value.length === 0) {
    yield JSON.stringify(value, null, 2) ?? 'null'
    return
  }

  yield '['
  for (let i = 0; i < value.length; i++) {
    // An element as JSON.stringify would place it: indented by two more spaces, null for what JSON cannot hold.
    const text = JSON.stringify(value[i], null, 2) ?? 'null'
    yield `\n  ${text.includes('\n') ? text.replaceAll('\n', '\n  ') : text}${i === value.length - 1 ? '' : ','}`
  }

  yield '\n]'
}

/** Groups pieces into writes of about `size` characters (few syscalls, little memory). */
export function* batched(pieces: Iterable<string>, size = 64 * 1024): Generator<string> {
  let buffer = ''
  for (const piece of pieces) {
    buffer += piece
    if (buffer.length >= size) {
      yield buffer
      buffer = ''
    }
  }

  if (buffer.length > 0) yield buffer
}

/** Lines with a newline between them (what joining them with newlines gives, lazily). */
export function* joinLines(lines: Iterable<string>): Generator<string> {
  let first = true
  for (const line of lines) {
    yield first ? line : `\n${line}`
    first = false
  }
}
