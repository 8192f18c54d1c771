import {expect} from 'chai'

import {UserError} from '../../../../src/core/errors.js'
import {defaultNodeName, parseTarget} from '../../../../src/core/model/target.js'

describe('core/model/target', () => {
  const cases: Array<[string, ReturnType<typeof parseTarget>]> = [
    ['local', {host: 'local', user: null, port: null}],
    ['10.0.0.5', {host: '10.0.0.5', user: null, port: null}],
    ['root@10.0.0.5:2222', {host: '10.0.0.5', user: 'root', port: 2222}],
    ['web-1', {host: 'web-1', user: null, port: null}],
    ['admin@web-1.example.com', {host: 'web-1.example.com', user: 'admin', port: null}],
    ['[fd00::5]:22', {host: 'fd00::5', user: null, port: 22}],
    ['root@[fd00::5]', {host: 'fd00::5', user: 'root', port: null}],
    ['fd00::5', {host: 'fd00::5', user: null, port: null}],
  ]
  for (const [input, expected] of cases) {
    it(`parses ${input}`, () => expect(parseTarget(input)).to.deep.equal(expected))
  }

  it('rejects bad targets with the reason', () => {
    expect(() => parseTarget('')).to.throw(UserError, /empty/)
    expect(() => parseTarget('h:abc')).to.throw(UserError, /port must be a number/)
    expect(() => parseTarget('h:70000')).to.throw(UserError, /out of range/)
    expect(() => parseTarget('h;rm -rf /')).to.throw(UserError, /not a host name/)
    expect(() => parseTarget('bad user@h')).to.throw(UserError, /not a valid user name/)
  })

  it('derives a node name from the host', () => {
    expect(defaultNodeName(parseTarget('root@192.168.240.11'))).to.equal('192.168.240.11')
    expect(defaultNodeName(parseTarget('[fd00::5]:22'))).to.equal('fd00-5')
  })
})
