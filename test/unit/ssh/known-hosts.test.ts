import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {createHmac, randomBytes} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {
  checkKnownHosts,
  checkKnownHostEntries,
  knownHostAlgorithms,
  knownHostName,
  parseKnownHosts,
} from '../../../src/ssh/known-hosts.js'
import {makeTempDir} from '../../helpers/tmp.js'
import {generateKey, type TestKey} from './keys.js'

describe('ssh/known-hosts', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let a: TestKey
  let b: TestKey
  let ecdsa: TestKey
  before(() => {
    tmp = makeTempDir('clusterctl-known-')
    a = generateKey(tmp.dir, 'a')
    b = generateKey(tmp.dir, 'b')
    ecdsa = generateKey(tmp.dir, 'c', 'ecdsa')
  })
  after(() => tmp.cleanup())

  const keyOf = (key: TestKey) => ({algorithm: key.algorithm, blob: key.blob})
  const line = (hosts: string, key: TestKey) => `${hosts} ${key.publicLine.split(' ').slice(0, 2).join(' ')}`

  it('files non-22 ports as [host]:port', () => {
    expect(knownHostName('Web-1.Example.com', 22)).to.equal('web-1.example.com')
    expect(knownHostName('10.0.0.5', 2222)).to.equal('[10.0.0.5]:2222')
  })

  it('matches plain names and comma lists, case-insensitively', () => {
    const entries = parseKnownHosts([line('web-1,10.0.0.5', a), line('WEB-2', b)].join('\n'))
    expect(checkKnownHostEntries(entries, 'web-1', 22, keyOf(a)).status).to.equal('match')
    expect(checkKnownHostEntries(entries, '10.0.0.5', 22, keyOf(a)).status).to.equal('match')
    expect(checkKnownHostEntries(entries, 'web-2', 22, keyOf(b)).status).to.equal('match')
    const changed = checkKnownHostEntries(entries, 'web-1', 22, keyOf(b))
    expect(changed.status).to.equal('mismatch')
    expect(changed.knownFingerprints).to.deep.equal([a.fingerprint])
    expect(changed.source?.line).to.equal(1)
    expect(checkKnownHostEntries(entries, 'web-3', 22, keyOf(a)).status).to.equal('unknown')
  })

  it('keeps ports apart: [host]:port entries only match that port', () => {
    const entries = parseKnownHosts([line('[10.0.0.5]:2222', a), line('10.0.0.5', b)].join('\n'))
    expect(checkKnownHostEntries(entries, '10.0.0.5', 2222, keyOf(a)).status).to.equal('match')
    expect(checkKnownHostEntries(entries, '10.0.0.5', 2222, keyOf(b)).status).to.equal('mismatch')
    expect(checkKnownHostEntries(entries, '10.0.0.5', 22, keyOf(b)).status).to.equal('match')
    expect(checkKnownHostEntries(entries, '10.0.0.5', 2200, keyOf(a)).status).to.equal('unknown')
  })

  it('honours wildcards and negations', () => {
    const entries = parseKnownHosts(line('*.prod.example.com,!db.prod.example.com', a))
    expect(checkKnownHostEntries(entries, 'web.prod.example.com', 22, keyOf(a)).status).to.equal('match')
    expect(checkKnownHostEntries(entries, 'db.prod.example.com', 22, keyOf(a)).status).to.equal('unknown')
    expect(checkKnownHostEntries(entries, 'web.prod.example.org', 22, keyOf(a)).status).to.equal('unknown')
  })

  it('treats a host listed only with another key type as a mismatch and reports the known types', () => {
    const entries = parseKnownHosts(line('web-1', ecdsa))
    const result = checkKnownHostEntries(entries, 'web-1', 22, keyOf(a))
    expect(result.status).to.equal('mismatch')
    expect(result.algorithms).to.deep.equal(['ecdsa-sha2-nistp256'])
    expect(knownHostAlgorithms(entries, 'web-1', 22)).to.deep.equal(['ecdsa-sha2-nistp256'])
  })

  it('reads entries hashed by ssh-keygen -H', () => {
    const file = join(tmp.dir, 'hashed')
    writeFileSync(file, [line('web-1', a), line('[10.0.0.9]:2222', b)].join('\n') + '\n')
    execFileSync('ssh-keygen', ['-H', '-f', file], {stdio: 'ignore'})
    const text = readFileSync(file, 'utf8')
    expect(text).to.not.contain('web-1')
    expect(text).to.match(/^\|1\|/)
    expect(checkKnownHosts([file], 'web-1', 22, keyOf(a)).status).to.equal('match')
    expect(checkKnownHosts([file], 'web-1', 22, keyOf(b)).status).to.equal('mismatch')
    expect(checkKnownHosts([file], '10.0.0.9', 2222, keyOf(b)).status).to.equal('match')
    expect(checkKnownHosts([file], '10.0.0.9', 22, keyOf(b)).status).to.equal('unknown')
  })

  it('reads a hashed entry computed by hand (HMAC-SHA1 of the name with the salt)', () => {
    const salt = randomBytes(20)
    const hash = createHmac('sha1', salt).update('[node-7]:2200').digest()
    const entries = parseKnownHosts(line(`|1|${salt.toString('base64')}|${hash.toString('base64')}`, a))
    expect(checkKnownHostEntries(entries, 'node-7', 2200, keyOf(a)).status).to.equal('match')
    expect(checkKnownHostEntries(entries, 'node-7', 22, keyOf(a)).status).to.equal('unknown')
  })

  it('refuses a @revoked key even when it is also listed', () => {
    const entries = parseKnownHosts([line('web-1', a), `@revoked ${line('*', a)}`].join('\n'))
    const result = checkKnownHostEntries(entries, 'web-1', 22, keyOf(a))
    expect(result.status).to.equal('revoked')
    expect(result.source?.line).to.equal(2)
    expect(checkKnownHostEntries(entries, 'other', 22, keyOf(b)).status).to.equal('unknown')
  })

  it('skips @cert-authority lines, comments, blank and malformed lines', () => {
    const text = [
      '# a comment',
      '',
      `@cert-authority ${line('*.example.com', a)}`,
      'garbage',
      'host-only ssh-ed25519',
      'web-1 ssh-ed25519 !!!notbase64',
      `@unknown-marker ${line('web-1', b)}`,
      `   ${line('web-1', a)}   # trailing comment`,
    ].join('\r\n')
    const entries = parseKnownHosts(text)
    expect(entries).to.have.length(2)
    expect(checkKnownHostEntries(entries, 'x.example.com', 22, keyOf(a)).status).to.equal('unknown')
    expect(checkKnownHostEntries(entries, 'web-1', 22, keyOf(a)).status).to.equal('match')
  })

  it('skips missing files and reads several in order', () => {
    const first = join(tmp.dir, 'first')
    writeFileSync(first, line('web-1', a) + '\n')
    const result = checkKnownHosts([join(tmp.dir, 'missing'), first], 'web-1', 22, keyOf(b))
    expect(result.status).to.equal('mismatch')
    expect(result.source?.file).to.equal(first)
  })
})
