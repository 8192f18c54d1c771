import {expect} from 'chai'

import {UserError} from '../../../../src/core/errors.js'
import {parseSpecFlags} from '../../../../src/core/spec/flags.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {DEFAULT_LOCAL_SIZE, nfsOfLocalDriver} from '../../../../src/core/spec/volumes.js'
import {hasLocalVolume, localVolumePath, localVolumesOf} from '../../../../src/core/model/volume.js'

function problem(raw: Record<string, unknown>): string {
  try {
    validateJobSpec({name: 'db', image: 'i', ...raw}, 'db.yaml')
  } catch (error) {
    expect(error).to.be.instanceOf(UserError)
    return (error as Error).message
  }

  throw new Error('expected a validation error')
}

describe('core/spec volumes', () => {
  it('reads host paths, local volumes and NFS exports in every form', () => {
    const spec = validateJobSpec({
      name: 'db',
      image: 'i',
      volumes: [
        '/srv/conf:/conf:ro',
        'data:/data',
        {source: '/srv/logs', target: '/logs'},
        {name: 'wal', mount: '/wal', source: {local: {size: '2Gi'}}},
        {name: 'shared', mount: '/shared', readOnly: true, source: {nfs: {server: '10.0.0.5', export: '/srv/share', options: 'rw,nfsvers=4'}}},
        {mount: '/h', source: {host: '/srv/h'}},
      ],
    }, 'db.yaml')
    expect(spec.volumes).to.deep.equal([
      {source: '/srv/conf', target: '/conf', readOnly: true},
      {source: 'data', target: '/data', readOnly: false, local: {sizeBytes: DEFAULT_LOCAL_SIZE}},
      {source: '/srv/logs', target: '/logs', readOnly: false},
      {source: 'wal', target: '/wal', readOnly: false, local: {sizeBytes: 2 * 1024 ** 3}},
      {source: 'shared', target: '/shared', readOnly: true, nfs: {server: '10.0.0.5', export: '/srv/share', options: 'rw,nfsvers=4'}},
      {source: '/srv/h', target: '/h', readOnly: false},
    ])
    expect(localVolumesOf(spec.volumes, 1)).to.deep.equal([{name: 'data-1', sizeBytes: DEFAULT_LOCAL_SIZE}, {name: 'wal-1', sizeBytes: 2 * 1024 ** 3}])
    expect(localVolumePath({name: 'data-1', id: '0123456789abcdef'})).to.equal('/var/lib/clusterctl/volumes/data-1-0123456789abcdef')
  })

  it('reads -v NAME:DST and --nfs NAME=SERVER:/EXPORT:DST[:ro] from run flags', () => {
    const spec = parseSpecFlags({name: 'db', image: 'i', command: [], volume: ['data:/data'], nfs: ['shared=nfs-1:/srv/share:/shared:ro']})
    expect(spec.volumes).to.deep.equal([
      {source: 'data', target: '/data', readOnly: false, local: {sizeBytes: DEFAULT_LOCAL_SIZE}},
      {source: 'shared', target: '/shared', readOnly: true, nfs: {server: 'nfs-1', export: '/srv/share', options: 'rw'}},
    ])
    expect(() => parseSpecFlags({name: 'db', image: 'i', command: [], nfs: ['shared=nfs-1:/data']})).to.throw(UserError, /--nfs expects NAME=SERVER:\/EXPORT:DST/)
  })

  it('a job with a local volume updates stop-then-start and refuses a surge', () => {
    const spec = validateJobSpec({name: 'db', image: 'i', instances: 3, volumes: ['data:/data']}, 'db.yaml')
    expect(hasLocalVolume(spec.volumes)).to.equal(true)
    expect(spec.upgrade).to.deep.include({maxSurge: 0, maxUnavailable: 1})
    expect(problem({instances: 3, volumes: ['data:/data'], upgrade: {maxSurge: 1}})).to.match(/upgrade.maxSurge: a job with a local volume updates stop-then-start/)
    expect(validateJobSpec({name: 'db', image: 'i', instances: 3, volumes: ['/srv:/srv']}, 'db.yaml').upgrade).to.deep.include({maxSurge: 1})
  })

  it("Marathon's fractions on a job with a local volume read as a resident app's: never a surge, at least one stopped at a time", () => {
    const upgrade = (instances: number, u: Record<string, unknown>) => {
      const warnings: string[] = []
      const spec = validateJobSpec({name: 'db', image: 'i', instances, volumes: ['data:/data'], upgrade: u}, 'db.yaml', {warn: (m) => warnings.push(m)})
      return {...spec.upgrade, warnings}
    }

    // Marathon's resident default 0.5/0 on one instance: it stops the old task first, no over-capacity, nothing to warn about
    expect(upgrade(1, {minimumHealthCapacity: 0.5, maximumOverCapacity: 0})).to.deep.include({maxUnavailable: 1, maxSurge: 0, warnings: []})
    expect(upgrade(4, {minimumHealthCapacity: 0.5, maximumOverCapacity: 0})).to.deep.include({maxUnavailable: 2, maxSurge: 0, warnings: []})
    expect(upgrade(3, {minimumHealthCapacity: 1, maximumOverCapacity: 0})).to.deep.include({maxUnavailable: 1, maxSurge: 0, warnings: []})
    expect(upgrade(4, {maximumOverCapacity: 0})).to.deep.include({maxUnavailable: 2, maxSurge: 0})
    expect(problem({instances: 2, volumes: ['data:/data'], upgrade: {minimumHealthCapacity: 0.5, maximumOverCapacity: 0.5}})).to.match(/upgrade.maximumOverCapacity: a job with a local volume updates stop-then-start .*must be 0, as Marathon requires for resident apps, got 0.5/)
  })

  it("Docker's local driver mounting NFS is an NFS source (Chronos' and Marathon's external volumes); any other driver, type or option is not", () => {
    expect(nfsOfLocalDriver('local', {type: 'nfs', o: 'addr=10.0.0.5,rw,nfsvers=4', device: ':/srv/share'})).to.deep.equal({server: '10.0.0.5', export: '/srv/share', options: 'rw,nfsvers=4'})
    expect(nfsOfLocalDriver('local', {type: 'nfs', device: 'nfs-1:/srv'})).to.deep.equal({server: 'nfs-1', export: '/srv', options: 'rw'})
    expect(nfsOfLocalDriver('rexray', {type: 'nfs', device: 'nfs-1:/srv'})).to.equal(null)
    expect(nfsOfLocalDriver('local', {type: 'tmpfs', device: 'tmpfs'})).to.equal(null)
    expect(nfsOfLocalDriver('local', {type: 'nfs', device: ':/srv'})).to.equal(null)
    expect(nfsOfLocalDriver('local', {type: 'nfs', device: 'nfs-1:/srv', size: '1'})).to.equal(null)
    expect(nfsOfLocalDriver('local', {type: 'nfs', device: 'bad host:/srv'})).to.equal(null)
  })

  it('names the field and the fix for bad sources', () => {
    expect(problem({volumes: ['data:relative']})).to.match(/volumes\[0\]: the mount must be an absolute path/)
    expect(problem({volumes: [{name: 'x', mount: '/x', source: {local: {size: 'huge'}}}]})).to.match(/volumes\[0\]: source.local.size: expected a size/)
    expect(problem({volumes: [{name: 'x', mount: '/x', source: {local: {size: '1Gi'}, host: '/a'}}]})).to.match(/exactly one of local, nfs and host/)
    expect(problem({volumes: [{mount: '/x', source: {local: {}}}]})).to.match(/name is required for a local volume/)
    expect(problem({volumes: [{name: 'x', mount: '/x', source: {nfs: {server: 'a b', export: '/e'}}}]})).to.match(/nfs.server must be a host name/)
    expect(problem({volumes: [{name: 'x', mount: '/x', source: {nfs: {server: 'a', export: 'e'}}}]})).to.match(/nfs.export must be an absolute path/)
    expect(problem({volumes: [{name: 'x', mount: '/x', source: {nfs: {server: 'a', export: '/e', options: 'addr=1.2.3.4'}}}]})).to.match(/must not set addr=/)
    expect(problem({volumes: [{name: 'x', mount: '/x', source: {nfs: {server: 'a', export: '/e', options: 'rw;reboot'}}}]})).to.match(/nfs.options must be comma-separated/)
    expect(problem({volumes: ['data:/a', 'data:/b']})).to.match(/volumes: the volume data is listed twice/)
    expect(problem({volumes: ['data:/a', 'other:/a']})).to.match(/volumes: \/a is mounted twice/)
    expect(problem({volumes: [{name: 'x', mount: '/x', size: 1, source: {local: {}}}]})).to.match(/unknown field size/)
  })
})
