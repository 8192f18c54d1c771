import {expect} from 'chai'
import fc from 'fast-check'

import {batched, jsonPieces} from '../../../src/ui/json.js'

describe('ui/json', () => {
  it('writes exactly what JSON.stringify(value, null, 2) writes, whatever the value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue()), fc.array(fc.oneof(fc.constant(undefined), fc.string(), fc.object()))), (value) => {
        expect([...batched(jsonPieces(value), 7)].join('')).to.equal(JSON.stringify(value, null, 2) ?? 'null')
        expect([...jsonPieces(value, 2)].join('')).to.equal(JSON.stringify(value, null, 2) ?? 'null')
      }),
    )
  })

  it('serialises a long array a batch of elements at a time', () => {
    const pieces = [...jsonPieces(Array.from({length: 1000}, (_, i) => ({i})), 100)]
    expect(pieces).to.have.length(11)
  })
})
