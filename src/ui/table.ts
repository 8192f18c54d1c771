/**
 * Tables as text: borderless and kubectl-like, columns split by two spaces, easy on the
 * eye and for awk. Linear in the number of cells (two passes: widths, then lines), so a
 * listing of 10,000 rows renders in milliseconds; a cell is always one line (a line
 * break inside a value is shown as a space, so a row never spills over several lines).
 */

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g

/** Columns a string takes on a terminal: colour codes take none, East Asian wide characters two. */
export function displayWidth(text: string): number {
  const plain = text.includes('\u001B') ? text.replace(ANSI, '') : text
  let width = 0
  for (const ch of plain) width += isWide(ch.codePointAt(0)!) ? 2 : 1
  return width
}

function isWide(cp: number): boolean {
  if (cp < 0x1100) return false
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
}

const oneLine = (cell: string): string => (cell.includes('\n') || cell.includes('\r') ? cell.replace(/\s*[\r\n]+\s*/g, ' ') : cell)

/** The table's lines, one per row after the head (for writing a long listing as it renders). */
export function* tableLines(head: readonly string[], rows: Iterable<readonly string[]>): Generator<string> {
  const all = [head, ...rows].map((row) => row.map(oneLine))
  const widths = head.map(() => 0)
  const cellWidths = all.map((row) =>
    row.map((cell, i) => {
      const w = displayWidth(cell)
      if (w > (widths[i] ?? 0)) widths[i] = w
      return w
    }),
  )
  for (let r = 0; r < all.length; r++) {
    const row = all[r]!
    let line = ''
    for (let i = 0; i < row.length; i++) {
      const last = i === row.length - 1
      line += last ? row[i] : row[i] + ' '.repeat((widths[i] ?? 0) - cellWidths[r]![i]! + 2)
    }

    yield line.trimEnd()
  }
}

export function renderTable(head: string[], rows: string[][]): string {
  return [...tableLines(head, rows)].join('\n')
}

/** Key/value lines for detail views. */
export function renderFields(fields: Array<[string, string]>): string {
  const width = Math.max(...fields.map(([k]) => k.length))
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n')
}
