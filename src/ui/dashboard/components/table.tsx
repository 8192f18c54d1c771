/** A k9s-like table: a header, then rows fitted to their columns; the selected row is marked `>` and shown inverse. */
import {Box, Text} from 'ink'

import {type ColumnSpec, fit, layoutColumns, windowStart} from '../format.js'
import {colorOf, type Tone, useColor} from './theme.js'

export interface Cell {
  /** The text, or how to draw it in the width its column got (bars). */
  text: string | ((width: number) => string)
  tone?: Tone
}

export interface TableRow {
  key: string
  cells: Cell[]
}

export interface TableProps {
  columns: readonly ColumnSpec[]
  rows: readonly TableRow[]
  width: number
  /** Lines for the header and the rows. */
  height: number
  /** Index of the selected row; -1 for none. */
  selected: number
  /** Shown instead of rows when there are none. */
  empty: string
}

const MARK = 2

export function Table({columns, rows, width, height, selected, empty}: TableProps) {
  const color = useColor()
  const widths = layoutColumns(columns, Math.max(0, width - MARK))
  const visible = Math.max(0, height - 1)
  const start = windowStart(Math.max(0, selected), rows.length, visible)
  const shown = rows.slice(start, start + visible)
  const header = columns.map((c, i) => fit(c.header, widths[i]!, c.align)).join(' ')
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text bold wrap="truncate">
        {`${' '.repeat(MARK)}${header}`}
      </Text>
      {rows.length === 0 ? (
        <Text wrap="truncate" color={colorOf('muted', color)}>{`${' '.repeat(MARK)}${empty}`}</Text>
      ) : (
        shown.map((row, n) => {
          const isSelected = start + n === selected
          return (
            <Text key={row.key} wrap="truncate" inverse={isSelected}>
              {isSelected ? '> ' : '  '}
              {row.cells.map((cell, i) => (
                <Text key={i} color={isSelected ? undefined : colorOf(cell.tone, color)}>
                  {fit(typeof cell.text === 'function' ? cell.text(widths[i]!) : cell.text, widths[i]!, columns[i]!.align) + (i < row.cells.length - 1 ? ' ' : '')}
                </Text>
              ))}
            </Text>
          )
        })
      )}
    </Box>
  )
}
