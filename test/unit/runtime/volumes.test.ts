import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {createContainerdRuntime} from '../../../src/runtime/containerd.js'
import {createPodmanRuntime} from '../../../src/runtime/podman.js'
import {VOLUME_PREP_SCRIPT, withVolumePrep} from '../../../src/runtime/spec.js'
import type {ContainerSpec} from '../../../src/runtime/types.js'
import {SPEC} from './helpers.js'

const nfs = {name: 'shared', server: 'nfs-1', export: '/srv/share', options: 'rw,nfsvers=4'}
const spec: ContainerSpec = {
  ...SPEC,
  volumes: [
    {source: '/var/lib/clusterctl/volumes/data-0-abcd1234', target: '/data', readOnly: false, create: true},
    {source: '/var/lib/clusterctl/nfs/shared', target: '/shared', readOnly: true, nfs},
  ],
}

describe('runtime volumes', () => {
  it('podman: makes the local directory, creates the NFS volume of its local driver when absent, then starts; the NFS volume is mounted by name', () => {
    const argv = createPodmanRuntime().startArgv(spec)
    expect(argv.slice(0, 16)).to.deep.equal(['sh', '-c', VOLUME_PREP_SCRIPT, 'clusterctl-volumes', '2', 'dir', '/var/lib/clusterctl/volumes/data-0-abcd1234', 'podman-nfs', 'clusterctl-nfs-shared', 'nfs-1', '/srv/share', 'rw,nfsvers=4', 'sh', '-c', argv[14]!, 'clusterctl-start'])
    const run = argv.slice(16)
    expect(run.join(' ')).to.contain('--volume /var/lib/clusterctl/volumes/data-0-abcd1234:/data --volume clusterctl-nfs-shared:/shared:ro')
  })

  it('containerd: mounts the export on the node, then binds it', () => {
    const argv = createContainerdRuntime().startArgv(spec)
    expect(argv.slice(3, 13)).to.deep.equal(['clusterctl-volumes', '2', 'dir', '/var/lib/clusterctl/volumes/data-0-abcd1234', 'nfs-mount', '/var/lib/clusterctl/nfs/shared', 'nfs-1:/srv/share', 'rw,nfsvers=4', 'sh', '-c'])
    expect(argv.join(' ')).to.contain('type=bind,src=/var/lib/clusterctl/nfs/shared,dst=/shared,options=rbind:ro')
  })

  it('a start without volumes to prepare is unchanged', () => {
    const plain = {...SPEC, volumes: [{source: '/srv', target: '/srv', readOnly: false}]}
    expect(withVolumePrep(plain, 'podman', ['true'])).to.deep.equal(['true'])
  })

  it('the preparation script makes the directories, then runs the start; a failed one stops it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cctl-vol-'))
    try {
      const target = join(dir, 'a', 'b')
      const out = execFileSync('sh', ['-c', VOLUME_PREP_SCRIPT, 'x', '1', 'dir', target, 'sh', '-c', 'test -d "$1" && echo started', 'y', target], {encoding: 'utf8'})
      expect(out.trim()).to.equal('started')
      expect(existsSync(target)).to.equal(true)
      expect(() => execFileSync('sh', ['-c', VOLUME_PREP_SCRIPT, 'x', '1', 'dir', '/proc/nope/x', 'echo', 'started'], {encoding: 'utf8', stdio: 'pipe'})).to.throw(/cannot create the volume directory/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
