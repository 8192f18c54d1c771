import {expect} from 'chai'

import {UserError} from '../../../../src/core/errors.js'
import {
  formatConstraint,
  parseConstraint,
  parsePortRange,
  parsePreference,
  validateConstraint,
} from '../../../../src/core/scheduler/index.js'

describe('core/scheduler constraints parsing', () => {
  it('parses every Marathon operator', () => {
    const table: Array<[string, object]> = [
      ['hostname:UNIQUE', {field: 'hostname', operator: 'UNIQUE'}],
      ['rack_id:CLUSTER:rack-1', {field: 'rack_id', operator: 'CLUSTER', value: 'rack-1'}],
      ['rack_id:CLUSTER', {field: 'rack_id', operator: 'CLUSTER'}],
      ['rack_id:GROUP_BY', {field: 'rack_id', operator: 'GROUP_BY'}],
      ['rack_id:GROUP_BY:3', {field: 'rack_id', operator: 'GROUP_BY', value: '3'}],
      ['rack_id:LIKE:rack-[1-3]', {field: 'rack_id', operator: 'LIKE', value: 'rack-[1-3]'}],
      ['rack_id:UNLIKE:rack-[7-9]', {field: 'rack_id', operator: 'UNLIKE', value: 'rack-[7-9]'}],
      ['rack_id:MAX_PER:2', {field: 'rack_id', operator: 'MAX_PER', value: '2'}],
      ['disk:IS:ssd', {field: 'disk', operator: 'IS', value: 'ssd'}],
    ]
    for (const [text, want] of table) {
      expect(parseConstraint(text), text).to.deep.equal(want)
      expect(formatConstraint(parseConstraint(text))).to.equal(text)
    }
  })

  it('accepts @hostname, lower-case operators, and colons inside the value', () => {
    expect(parseConstraint('@hostname:unique')).to.deep.equal({field: 'hostname', operator: 'UNIQUE'})
    expect(parseConstraint('addr:LIKE:10\\.0\\.0\\.[0-9]+:80')).to.deep.equal({field: 'addr', operator: 'LIKE', value: '10\\.0\\.0\\.[0-9]+:80'})
  })

  it('names the fix in every error', () => {
    const table: Array<[string, string]> = [
      ['rack:MAX_PER', '--constraint rack:MAX_PER needs a value: rack:MAX_PER:2'],
      ['rack:MAX_PER:two', '--constraint rack:MAX_PER:two needs a whole number of at least 1: rack:MAX_PER:2'],
      ['rack:MAX_PER:0', '--constraint rack:MAX_PER:0 needs a whole number of at least 1: rack:MAX_PER:2'],
      ['hostname:UNIQUE:yes', '--constraint hostname:UNIQUE:yes takes no value: hostname:UNIQUE'],
      ['rack:LIKE', '--constraint rack:LIKE needs a regular expression: rack:LIKE:rack-[1-3]'],
      ['rack:IS', '--constraint rack:IS needs a value: rack:IS:rack-1'],
      ['rack:GROUP_BY:many', '--constraint rack:GROUP_BY:many needs a whole number of groups of at least 1, or none: rack:GROUP_BY or rack:GROUP_BY:3'],
      ['rack:SAME', '--constraint rack:SAME: unknown operator SAME; use one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS, e.g. rack:MAX_PER:2'],
      ['rack', '--constraint "rack": expected FIELD:OPERATOR[:VALUE], e.g. hostname:UNIQUE or rack:MAX_PER:2'],
      [':UNIQUE', '--constraint ":UNIQUE": expected FIELD:OPERATOR[:VALUE], e.g. hostname:UNIQUE or rack:MAX_PER:2'],
    ]
    for (const [text, message] of table) expect(() => parseConstraint(text), text).to.throw(UserError, message)
  })

  it('validates LIKE and UNLIKE regular expressions', () => {
    expect(() => parseConstraint('rack:LIKE:rack-[1-3')).to.throw(UserError, /--constraint rack:LIKE:rack-\[1-3 has an invalid regular expression \(.+\): fix the pattern, e.g. rack:LIKE:rack-\[1-3\]/)
    expect(() => parseConstraint('rack:UNLIKE:(')).to.throw(UserError, /invalid regular expression/)
  })

  it('validates constraints from specs with their origin in the message', () => {
    expect(() => validateConstraint({field: 'rack', operator: 'MAX_PER'}, 'job web: constraints[1]')).to.throw(UserError, 'job web: constraints[1] rack:MAX_PER needs a value: rack:MAX_PER:2')
    expect(validateConstraint({field: '@hostname', operator: 'unique' as 'UNIQUE'})).to.deep.equal({field: 'hostname', operator: 'UNIQUE'})
  })

  it('parses preferences with an optional weight', () => {
    expect(parsePreference('zone=eu-1')).to.deep.equal({field: 'zone', value: 'eu-1'})
    expect(parsePreference('zone=eu-1:3')).to.deep.equal({field: 'zone', value: 'eu-1', weight: 3})
    expect(() => parsePreference('zone')).to.throw(UserError, '--prefer "zone": expected LABEL=VALUE, e.g. --prefer zone=eu-1')
    expect(() => parsePreference('zone=a:0')).to.throw(UserError, 'the weight must be a whole number from 1 to 100, e.g. zone=a:3')
  })

  it('parses port ranges', () => {
    expect(parsePortRange('31000-32000')).to.deep.equal({from: 31000, to: 32000})
    expect(() => parsePortRange('32000-31000')).to.throw(UserError, 'expected FROM-TO with 1 <= FROM <= TO <= 65535, e.g. 31000-32000')
    expect(() => parsePortRange('31000')).to.throw(UserError, '--port-range "31000": expected FROM-TO, e.g. --port-range 31000-32000')
  })
})
