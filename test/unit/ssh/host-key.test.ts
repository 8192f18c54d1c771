import {expect} from 'chai'

import {algorithmOf, fingerprintOf, hostKeyInfo, normalizeFingerprint} from '../../../src/ssh/host-key.js'
import {makeTempDir} from '../../helpers/tmp.js'
import {generateKey} from './keys.js'

describe('ssh/host-key', () => {
  let tmp: ReturnType<typeof makeTempDir>
  before(() => {
    tmp = makeTempDir('clusterctl-hostkey-')
  })
  after(() => tmp.cleanup())

  for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
    it(`matches ssh-keygen -lf for a ${type} key`, () => {
      const key = generateKey(tmp.dir, `k-${type}`, type)
      expect(fingerprintOf(key.blob)).to.equal(key.fingerprint)
      expect(algorithmOf(key.blob)).to.equal(key.algorithm)
      expect(hostKeyInfo(key.blob)).to.deep.equal({algorithm: key.algorithm, fingerprint: key.fingerprint, key: key.blob.toString('base64')})
    })
  }

  it('refuses blobs that are not SSH public keys', () => {
    expect(() => algorithmOf(Buffer.from([0, 0]))).to.throw(/too short/)
    expect(() => algorithmOf(Buffer.from([0, 0, 1, 0, 1, 2]))).to.throw(/invalid type/)
  })

  it('normalizes fingerprints as people type them', () => {
    const fp = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s'
    expect(normalizeFingerprint(fp)).to.equal(fp)
    expect(normalizeFingerprint(` sha256:${fp.slice(7)}= `)).to.equal(fp)
    expect(normalizeFingerprint(fp.slice(7))).to.equal(fp)
    expect(normalizeFingerprint('MD5:aa:bb')).to.equal(undefined)
    expect(normalizeFingerprint('SHA256:short')).to.equal(undefined)
  })
})
