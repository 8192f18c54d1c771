import {expect} from 'chai'

import {UserError} from '../../../../src/core/errors.js'
import {formatBytes, parseBytes, parseCpuMilli, parseResourceList} from '../../../../src/core/model/resources.js'

describe('core/model/resources', () => {
  it('parses binary and decimal sizes', () => {
    expect(parseBytes('512Mi')).to.equal(512 * 1024 * 1024)
    expect(parseBytes('1.5Gi')).to.equal(1.5 * 1024 ** 3)
    expect(parseBytes('2G')).to.equal(2e9)
    expect(parseBytes('1024')).to.equal(1024)
    expect(parseBytes('10KiB')).to.equal(10240)
  })

  it('parses cpu counts into milli-cores', () => {
    expect(parseCpuMilli('2')).to.equal(2000)
    expect(parseCpuMilli('0.5')).to.equal(500)
    expect(parseCpuMilli('250m')).to.equal(250)
  })

  it('parses a resource list', () => {
    expect(parseResourceList('cpus=4,mem=8Gi,gpus=1', '--resources')).to.deep.equal({cpuMilli: 4000, memBytes: 8 * 1024 ** 3, gpus: 1})
  })

  it('names the flag and the fix on bad input', () => {
    expect(() => parseResourceList('cpus=4,ram=1Gi', '--reserve')).to.throw(UserError, /--reserve: unknown resource "ram"; use cpus, mem, disk or gpus/)
    expect(() => parseResourceList('cpus', '--reserve')).to.throw(UserError, /expected key=value/)
    expect(() => parseBytes('lots', 'mem')).to.throw(UserError, /mem: expected a size/)
  })

  it('formats sizes', () => {
    expect(formatBytes(1536 * 1024 * 1024)).to.equal('1.5Gi')
    expect(formatBytes(512)).to.equal('512')
  })
})
