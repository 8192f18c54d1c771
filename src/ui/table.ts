import Table from 'cli-table3'

/** A borderless, kubectl-like table: columns split by two spaces, easy on the eye and for awk. */
export function renderTable(head: string[], rows: string[][]): string {
  const table = new Table({
    head,
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '  ',
    },
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
  })
  table.push(...rows)
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}

/** Key/value lines for detail views. */
export function renderFields(fields: Array<[string, string]>): string {
  const width = Math.max(...fields.map(([k]) => k.length))
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n')
}
