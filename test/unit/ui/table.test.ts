import {expect} from 'chai'
import Table from 'cli-table3'
import fc from 'fast-check'

import {displayWidth, renderTable} from '../../../src/ui/table.js'

/** The cli-table3 layout the listings used before: the oracle for one-line cells. */
function oracle(head: string[], rows: string[][]): string {
  const empty = {top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  '}
  const table = new Table({head, chars: empty, style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0}})
  table.push(...rows)
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}

describe('ui/table', () => {
  const cell = fc.oneof(fc.string({unit: fc.constantFrom('a', 'b', 'Z', '0', '-', '/', ':', '.', 'é', '日'), maxLength: 12}), fc.constantFrom('\u001B[32mrunning\u001B[39m', '', '1/4'))

  const heading = fc.stringMatching(/^[A-Z]{1,8}$/)

  it('lays out one-line cells exactly as cli-table3 did (headings are never empty)', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 5}).chain((cols) => fc.tuple(fc.array(heading, {minLength: cols, maxLength: cols}), fc.array(fc.array(cell, {minLength: cols, maxLength: cols}), {maxLength: 6}))), ([head, rows]) => {
        expect(renderTable(head, rows)).to.equal(oracle(head, rows))
      }),
    )
  })

  it('keeps a cell with line breaks on one line', () => {
    expect(renderTable(['A', 'REASON'], [['x', 'Error: pull failed\n  at line 1\r\n  more']])).to.equal('A  REASON\nx  Error: pull failed at line 1 more')
  })

  it('counts colour codes as nothing and wide characters as two columns', () => {
    expect(displayWidth('\u001B[31mfailed\u001B[39m')).to.equal(6)
    expect(displayWidth('日本')).to.equal(4)
  })

  it('renders 10,000 rows in well under a second (linear)', () => {
    const rows = Array.from({length: 10_000}, (_, i) => [`job-${i}`, 'service', 'active', '1/1', '0', 'localhost/app:1', '0.1', '64Mi', '3m'])
    const t = performance.now()
    const text = renderTable(['NAME', 'KIND', 'STATE', 'RUNNING', 'PENDING', 'IMAGE', 'CPUS', 'MEM', 'AGE'], rows)
    expect(performance.now() - t).to.be.below(3000) // cli-table3 took about 40 s here
    expect(text.split('\n')).to.have.length(10_001)
  })
})
