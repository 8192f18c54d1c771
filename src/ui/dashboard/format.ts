/** Pure text helpers of the dashboard: bars, fitted cells, column widths. ASCII only, so any terminal shows them. */
import type {HostPortBinding} from '../../core/model/task.js'

/**
 * `[|||||     ]  52%` in exactly `width` characters (an htop-like meter); the
 * percentage is dropped when there is no room. A zero total reads `n/a`.
 */
export function bar(used: number, total: number, width: number): string {
  const pct = total > 0 ? Math.round((used / total) * 100) : null
  const label = pct === null ? ' n/a' : ` ${String(pct).padStart(3)}%`
  const withLabel = width - label.length >= 5
  const inner = Math.max(1, (withLabel ? width - label.length : width) - 2)
  const filled = total > 0 ? Math.min(inner, Math.round((used / total) * inner)) : 0
  const meter = `[${'|'.repeat(filled)}${' '.repeat(inner - filled)}]`
  return fit(withLabel ? meter + label : meter, width)
}

/** Exactly `width` characters: cut with `…` when longer, padded when shorter (right-aligned numbers with `align`). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return ''
  const clean = withoutControls(text, ' ')
  if (clean.length > width) return width === 1 ? '…' : `${clean.slice(0, width - 1)}…`
  return align === 'right' ? clean.padStart(width) : clean.padEnd(width)
}

/** Lines of at most `width` characters, broken between words (a word longer than a line is cut). */
export function wrapWords(text: string, width: number): string[] {
  const w = Math.max(1, width)
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`
    if (next.length <= w) {
      line = next
      continue
    }

    if (line !== '') lines.push(line)
    let rest = word
    while (rest.length > w) {
      lines.push(rest.slice(0, w))
      rest = rest.slice(w)
    }

    line = rest
  }

  lines.push(line)
  return lines
}

/** Control characters (escape sequences, tabs, newlines) replaced: they would move the cursor. */
export function withoutControls(text: string, by = ''): string {
  let out = ''
  for (const ch of text) {
    const code = ch.codePointAt(0)!
    out += code < 0x20 || code === 0x7f ? by : ch
  }

  return out
}

export interface ColumnSpec {
  header: string
  /** Width it always gets. */
  min: number
  /** Share of the width left over (0: fixed). */
  grow?: number
  align?: 'left' | 'right'
}

/**
 * Widths of columns separated by one space in `total` characters: every column
 * gets its minimum, the rest is shared by `grow`. When even the minimums do not
 * fit, the last columns shrink (to zero: they are then hidden).
 */
export function layoutColumns(columns: readonly ColumnSpec[], total: number): number[] {
  const gaps = Math.max(0, columns.length - 1)
  const widths = columns.map((c) => c.min)
  let spare = total - gaps - widths.reduce((a, b) => a + b, 0)
  if (spare >= 0) {
    const weight = columns.reduce((a, c) => a + (c.grow ?? 0), 0)
    if (weight > 0) {
      let given = 0
      const growing = columns.map((c, i) => [i, c.grow ?? 0] as const).filter(([, g]) => g > 0)
      for (const [n, [i, g]] of growing.entries()) {
        const share = n === growing.length - 1 ? spare - given : Math.floor((spare * g) / weight)
        widths[i]! += share
        given += share
      }
    }

    return widths
  }

  for (let i = widths.length - 1; i >= 0 && spare < 0; i--) {
    const cut = Math.min(widths[i]!, -spare)
    widths[i]! -= cut
    spare += cut
  }

  return widths
}

/** A column's minimum width that shows its longest value whole, between `min` and `max`. */
export function contentWidth(values: readonly string[], min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.max(0, ...values.map((v) => v.length))))
}

/** `31002->8080` per published port, `-` for none. */
export function portsText(ports: readonly HostPortBinding[]): string {
  if (ports.length === 0) return '-'
  return ports.map((p) => `${p.hostPort}->${p.containerPort}${p.protocol === 'udp' ? '/udp' : ''}`).join(',')
}

/** Which rows of `total` to show in `height` lines so that `selected` is visible (kept near the middle). */
export function windowStart(selected: number, total: number, height: number): number {
  if (total <= height || height <= 0) return 0
  return Math.max(0, Math.min(selected - Math.floor(height / 2), total - height))
}
