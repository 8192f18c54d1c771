/**
 * A JSON syntax check that says where the first error is, as line and column,
 * and what it is ("trailing comma before }"). JSON.parse's messages name a
 * position only sometimes; a `.json` spec file gets this check before it is
 * read (YAML would accept, or misreport, what is not JSON).
 */

export interface JsonSyntaxError {
  line: number
  column: number
  message: string
}

class Invalid extends Error {
  constructor(readonly offset: number, message: string) {
    super(message)
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])
const MAX_DEPTH = 512

/** The first syntax error of `text` as JSON, or null when it is one valid JSON value. */
export function jsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0
  let depth = 0
  const at = (): string => text[i] ?? ''
  const shown = (): string => (i >= text.length ? 'the end of the input' : JSON.stringify(text.slice(i, i + 1)))
  const skip = (): void => {
    while (WHITESPACE.has(at())) i++
  }

  const string = (): void => {
    const start = i
    i++
    for (;;) {
      const c = at()
      if (c === '' || c === '\n') throw new Invalid(start, 'unterminated string')
      if (c === '"') {
        i++
        return
      }

      if (c < ' ') throw new Invalid(i, 'control character in a string (write it as an escape, e.g. \\n)')
      if (c === '\\') {
        const e = text[i + 1] ?? ''
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Invalid(i, 'invalid \\u escape (four hex digits expected)')
          i += 6
          continue
        }

        if (!'"\\/bfnrt'.includes(e) || e === '') throw new Invalid(i, `invalid escape \\${e}`)
        i += 2
        continue
      }

      i++
    }
  }

  const value = (): void => {
    skip()
    const c = at()
    if (c === '{') return container('}', true)
    if (c === '[') return container(']', false)
    if (c === '"') return string()
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (number && number[0] !== '-' && number[0] !== '') {
      i += number[0].length
      return
    }

    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length
        return
      }
    }

    throw new Invalid(i, `expected a value, got ${shown()}`)
  }

  const container = (close: string, object: boolean): void => {
    if (++depth > MAX_DEPTH) throw new Invalid(i, `nested more than ${MAX_DEPTH} levels deep`)
    i++
    skip()
    if (at() === close) {
      i++
      depth--
      return
    }

    for (;;) {
      skip()
      if (object) {
        if (at() === close) throw new Invalid(i, `trailing comma before ${close}`)
        if (at() !== '"') throw new Invalid(i, `expected a double-quoted property name, got ${shown()}`)
        string()
        skip()
        if (at() !== ':') throw new Invalid(i, `expected ':' after the property name, got ${shown()}`)
        i++
      } else if (at() === close) throw new Invalid(i, `trailing comma before ${close}`)

      value()
      skip()
      if (at() === ',') {
        i++
        continue
      }

      if (at() === close) {
        i++
        depth--
        return
      }

      throw new Invalid(i, `expected ',' or ${close}, got ${shown()}`)
    }
  }

  try {
    value()
    skip()
    if (i < text.length) throw new Invalid(i, `unexpected ${shown()} after the JSON value`)
    return null
  } catch (error) {
    if (!(error instanceof Invalid)) throw error
    const before = text.slice(0, error.offset)
    const line = before.split('\n').length
    const column = error.offset - (before.lastIndexOf('\n') + 1) + 1
    return {line, column, message: error.message}
  }
}
