import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {hostname as localHostname, userInfo} from 'node:os'
import {join} from 'node:path'

import {UserError} from '../../../src/core/errors.js'
import {parseJumpHop, resolveSshTarget} from '../../../src/ssh/ssh-config.js'
import {makeTempDir} from '../../helpers/tmp.js'

describe('ssh/ssh-config', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let home: string
  const touch = (path: string): string => {
    mkdirSync(join(path, '..'), {recursive: true})
    writeFileSync(path, 'not really a key\n')
    return path
  }
  const writeConfig = (text: string): void => writeFileSync(join(home, '.ssh', 'config'), text)
  const resolve = (input: Parameters<typeof resolveSshTarget>[0]) => resolveSshTarget(input, {homeDir: home, localUser: 'me'})

  beforeEach(() => {
    tmp = makeTempDir('clusterctl-sshconfig-')
    home = tmp.dir
    mkdirSync(join(home, '.ssh'))
  })
  afterEach(() => tmp.cleanup())

  it('defaults to the current user, port 22 and the default keys that exist', () => {
    touch(join(home, '.ssh', 'id_rsa'))
    touch(join(home, '.ssh', 'id_ed25519'))
    const target = resolveSshTarget({host: '10.0.0.5'}, {homeDir: home})
    expect(target).to.deep.equal({
      alias: '10.0.0.5',
      hostname: '10.0.0.5',
      port: 22,
      user: userInfo().username,
      identityFiles: [join(home, '.ssh', 'id_ed25519'), join(home, '.ssh', 'id_rsa')],
      identitiesFromConfig: false,
      proxyJump: [],
    })
  })

  it('resolves an alias: HostName, User, Port, IdentityFile with ~ and tokens', () => {
    const k1 = touch(join(home, '.ssh', 'web.key'))
    const k2 = touch(join(home, 'keys', 'deploy-10.0.0.5-2222'))
    const k3 = touch(join(home, 'keys', `me-${localHostname()}`))
    writeConfig(`
# production
Host web
  HostName 10.0.0.5
  User deploy
  Port 2222
  IdentityFile ~/.ssh/web.key
  IdentityFile %d/keys/%r-%h-%p
  IdentityFile ~/keys/%u-%l
  IdentityFile ~/.ssh/missing.key

Host *
  User fallback
  IdentityFile ~/.ssh/web.key
`)
    const target = resolve({host: 'web'})
    expect(target).to.deep.include({alias: 'web', hostname: '10.0.0.5', port: 2222, user: 'deploy', identitiesFromConfig: true, proxyJump: []})
    expect(target.identityFiles).to.deep.equal([k1, k2, k3])
  })

  it('lets explicit values win over the config', () => {
    writeConfig('Host web\n  HostName 10.0.0.5\n  User deploy\n  Port 2222\n')
    const key = touch(join(home, 'explicit.key'))
    const target = resolve({host: 'web', user: 'root', port: 22, keyPath: key})
    expect(target).to.deep.include({hostname: '10.0.0.5', user: 'root', port: 22, keyPath: key})
  })

  it('expands %h in HostName and matches wildcard and negated Host patterns', () => {
    writeConfig(`
Host *.internal !bastion.internal
  HostName %h.example.com
  User ops
Host *
  Port 2200
`)
    expect(resolve({host: 'db.internal'})).to.deep.include({hostname: 'db.internal.example.com', user: 'ops', port: 2200})
    expect(resolve({host: 'bastion.internal'})).to.deep.include({hostname: 'bastion.internal', user: 'me', port: 2200})
  })

  it('first obtained value wins, as in OpenSSH', () => {
    writeConfig('Host web\n  User first\nHost web\n  User second\n')
    expect(resolve({host: 'web'}).user).to.equal('first')
  })

  it('IdentityFile none means no identity files', () => {
    touch(join(home, '.ssh', 'id_ed25519'))
    writeConfig('Host web\n  IdentityFile none\n')
    expect(resolve({host: 'web'})).to.deep.include({identityFiles: [], identitiesFromConfig: true})
  })

  it('resolves a ProxyJump chain, each hop through the config', () => {
    const bastionKey = touch(join(home, '.ssh', 'bastion.key'))
    writeConfig(`
Host web
  HostName 10.0.0.5
  User root
  ProxyJump bastion,admin@inner:2022

Host bastion
  HostName bastion.example.com
  User jump
  IdentityFile ~/.ssh/bastion.key

Host inner
  HostName 192.168.1.1
  ProxyJump ignored-for-later-hops
`)
    const target = resolve({host: 'web'})
    expect(target.proxyJump.map((hop) => [hop.alias, hop.user, hop.hostname, hop.port])).to.deep.equal([
      ['bastion', 'jump', 'bastion.example.com', 22],
      ['inner', 'admin', '192.168.1.1', 2022],
    ])
    expect(target.proxyJump[0]!.identityFiles).to.deep.equal([bastionKey])
    expect(target.proxyJump.every((hop) => hop.proxyJump.length === 0)).to.equal(true)
  })

  it("flattens the first hop's own ProxyJump in front of it", () => {
    writeConfig(`
Host web
  ProxyJump mid
Host mid
  ProxyJump edge
`)
    expect(resolve({host: 'web'}).proxyJump.map((hop) => hop.alias)).to.deep.equal(['edge', 'mid'])
  })

  it('ProxyJump none disables an inherited jump', () => {
    writeConfig('Host direct\n  ProxyJump none\nHost * !bastion\n  ProxyJump bastion\n')
    expect(resolve({host: 'direct'}).proxyJump).to.deep.equal([])
    expect(resolve({host: 'other'}).proxyJump.map((hop) => hop.alias)).to.deep.equal(['bastion'])
  })

  it('refuses a ProxyJump loop with a UserError', () => {
    writeConfig('Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n')
    expect(() => resolve({host: 'a'})).to.throw(UserError, /loops/)
  })

  it('expands Include files, relative to ~/.ssh, with globs', () => {
    mkdirSync(join(home, '.ssh', 'conf.d'))
    writeFileSync(join(home, '.ssh', 'conf.d', '10-web.conf'), 'Host web\n  HostName 10.1.1.1\n')
    writeFileSync(join(home, '.ssh', 'conf.d', '20-db.conf'), 'Host db\n  HostName 10.2.2.2\n')
    writeConfig('Include conf.d/*.conf\nHost *\n  User ops\n')
    expect(resolve({host: 'web'})).to.deep.include({hostname: '10.1.1.1', user: 'ops'})
    expect(resolve({host: 'db'})).to.deep.include({hostname: '10.2.2.2', user: 'ops'})
  })

  it('never runs Match exec', () => {
    const marker = join(home, 'ran')
    writeConfig(`Match exec "touch ${marker}"\n  User hacked\n`)
    expect(resolve({host: 'web'}).user).to.equal('me')
  })

  it('uses a missing config as an empty one, and a custom config path', () => {
    expect(resolve({host: 'x'}).hostname).to.equal('x')
    const custom = join(home, 'other-config')
    writeFileSync(custom, 'Host x\n  HostName 1.2.3.4\n')
    expect(resolveSshTarget({host: 'x'}, {homeDir: home, configPath: custom}).hostname).to.equal('1.2.3.4')
  })

  it('refuses a bad Port and a missing --key', () => {
    writeConfig('Host web\n  Port http\n')
    expect(() => resolve({host: 'web'})).to.throw(UserError, /not a TCP port/)
    expect(() => resolve({host: 'x', keyPath: join(home, 'nope')})).to.throw(UserError, /does not exist/)
  })

  it('parses jump hops', () => {
    expect(parseJumpHop('host')).to.deep.equal({host: 'host'})
    expect(parseJumpHop('u@host:2022')).to.deep.equal({host: 'host', user: 'u', port: 2022})
    expect(parseJumpHop('ssh://u@host:2022')).to.deep.equal({host: 'host', user: 'u', port: 2022})
    expect(parseJumpHop('u@[fe80::1]:2022')).to.deep.equal({host: 'fe80::1', user: 'u', port: 2022})
    expect(() => parseJumpHop('u@host:99999')).to.throw(UserError)
  })
})
