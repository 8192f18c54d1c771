import {expect} from 'chai'
import {Readable} from 'node:stream'

import {readLimited} from '../../../src/cli/read-input.js'
import {UserError} from '../../../src/core/errors.js'

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    expect(error).to.be.instanceOf(UserError)
    return (error as Error).message
  }

  throw new Error('expected a refusal')
}

describe('cli/read-input', () => {
  it('joins the chunks of a stream, multi-byte characters split across chunks included', async () => {
    const bytes = Buffer.from('name: café\n')
    const chunks = [bytes.subarray(0, 9), bytes.subarray(9)]
    expect(await readLimited(Readable.from(chunks), 'standard input', 100)).to.equal('name: café\n')
  })

  it('accepts exactly the limit and refuses one byte more, naming the input', async () => {
    expect(await readLimited(Readable.from([Buffer.alloc(10, 'a')]), 'x', 10)).to.equal('a'.repeat(10))
    expect(await refusal(readLimited(Readable.from([Buffer.alloc(6), Buffer.alloc(5)]), 'standard input', 10))).to.equal('standard input is larger than 10 bytes; split it into several files.')
  })

  it('stops reading an endless stream at the limit', async () => {
    let pulled = 0
    const endless = new Readable({
      read() {
        pulled++
        this.push(Buffer.alloc(1024))
      },
    })
    expect(await refusal(readLimited(endless, '/dev/zero', 1024 * 1024))).to.equal('/dev/zero is larger than 1 MiB; split it into several files.')
    expect(pulled).to.be.lessThan(2000)
    expect(endless.destroyed).to.equal(true)
  })

  it('turns a read error into one sentence', async () => {
    const failing = new Readable({
      read() {
        this.destroy(Object.assign(new Error('ENOENT: no such file or directory'), {code: 'ENOENT'}))
      },
    })
    expect(await refusal(readLimited(failing, 'web.yaml', 10))).to.equal('Cannot read web.yaml: no such file.')
  })
})
