/**
 * The `--json` document as text, in pieces: exactly `JSON.stringify(value, null, 2)`, with
 * a top-level array serialised a batch of elements at a time, so a listing of 10,000 jobs
 * is written as it is produced instead of built as one string and tokenised again for
 * colour (`--json` never has colour: docs/json.md).
 */
export function* jsonPieces(value: unknown, batch = 256): Generator<string> {
  if (!Array.isArray(value) || value.length === 0) {
    yield JSON.stringify(value, null, 2) ?? 'null'
    return
  }

  // JSON.stringify of a slice, less its brackets: the elements as they sit in the whole
  // document (indented, null for what JSON cannot hold), at native speed.
  for (let i = 0; i < value.length; i += batch) {
    const text = JSON.stringify(value.slice(i, i + batch), null, 2)
    yield `${i === 0 ? '[\n' : ',\n'}${text.slice(2, -2)}`
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
