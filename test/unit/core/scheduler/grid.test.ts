import {expect} from 'chai'
import fc from 'fast-check'

import {ClusterState, resolveOptions} from '../../../../src/core/scheduler/cluster-state.js'
import {bucket, CellColumn, EDGES, FreeGrid, GRID, highEdge, lowEdge} from '../../../../src/core/scheduler/grid.js'
import {Gi, node, res, task} from './fixtures.js'

describe('core/scheduler free-resource grid', () => {
  it('buckets are monotone and each value lies inside its bucket', () => {
    fc.assert(
      fc.property(fc.double({min: -1, max: 1.5, noNaN: true}), fc.double({min: -1, max: 1.5, noNaN: true}), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        expect(bucket(lo)).to.be.at.most(bucket(hi))
        const k = bucket(a)
        if (a >= 0 && a <= 1) {
          expect(a).to.be.at.least(lowEdge(k))
          expect(a).to.be.at.most(highEdge(k))
        }
      }),
    )
    expect(bucket(0)).to.equal(0)
    expect(bucket(1)).to.equal(GRID - 1)
    expect(EDGES[1]).to.equal(2 ** -10)
  })

  it('keeps every member in exactly the cell of its current free resources', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(19), fc.integer({min: 0, max: 900}), fc.integer({min: 0, max: 900})), {maxLength: 60}), (steps) => {
        const nodes = Array.from({length: 20}, (_, i) => node(`n${i}`, {allocatable: res(8000, 8 * Gi)}))
        const state = new ClusterState({nodes, placed: []}, resolveOptions({seed: 1}))
        const column = new CellColumn(state)
        state.listeners.push(column)
        const members = [0, 2, 4, 6, 8, 10, 12, 14]
        const grid = new FreeGrid(state, column, members)
        state.listeners.push(grid)
        for (const [i, cpu, mem] of steps) state.place(i, task('t', {resources: res(cpu, mem * 1024 * 1024)}))
        // Walk every cell list: each member exactly once, in the right cell, masks consistent.
        const seen: number[] = []
        for (let cell = 0; cell < GRID * GRID; cell++) {
          const x = Math.floor(cell / GRID)
          const y = cell % GRID
          const nonEmpty = grid.firstAtOrAfter(x, y) === y
          expect(nonEmpty, `mask of cell ${x},${y}`).to.equal(grid.head[cell] !== -1)
          for (let n = grid.head[cell]!; n !== -1; n = grid.next[n]!) {
            seen.push(n)
            expect(column.cell[n]).to.equal(cell)
          }
        }
        expect(seen.sort((a, b) => a - b)).to.deep.equal(members)
      }),
      {numRuns: 100},
    )
  })
})
