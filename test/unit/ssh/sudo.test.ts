import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'
import {execa} from 'execa'

import {RUNTIME_ENV, sudoArgv, sudoShellCommand} from '../../../src/ssh/sudo.js'
import {makeTempDir} from '../../helpers/tmp.js'

describe('ssh/sudo', () => {
  it('carries the runtime environment across sudo through env, only the variables that are set, in sh and bash', async () => {
    const tmp = makeTempDir('clusterctl-sudo-')
    try {
      // a sudo that resets the environment as env_reset does, then runs the rest
      writeFileSync(join(tmp.dir, 'sudo'), `#!/bin/sh\n[ "$1" = -n ] && [ "$2" = -- ] || exit 90\nshift 2\nexec /usr/bin/env -i PATH=/usr/bin:/bin "$@"\n`)
      chmodSync(join(tmp.dir, 'sudo'), 0o755)
      const line = sudoShellCommand(['sh', '-c', 'printf "%s|%s|%s" "${CONTAINERS_CONF-unset}" "${CONTAINERD_ADDRESS-unset}" "$1"', 'x', "it's $HOME"])
      for (const shell of ['/bin/sh', '/bin/bash']) {
        const r = await execa(shell, ['-c', line], {env: {PATH: `${tmp.dir}:/usr/bin:/bin`, CONTAINERS_CONF: '/srv/my conf/containers.conf', HOME: '/root'}, extendEnv: false, reject: false})
        expect(r.stdout, `${shell}: ${r.stderr}`).to.equal("/srv/my conf/containers.conf|unset|it's $HOME")
      }
    } finally {
      tmp.cleanup()
    }
  })

  it('local: the values are read from the given environment', () => {
    expect(sudoArgv(['podman', 'ps'], {CONTAINERD_NAMESPACE: 'ns', OTHER: 'x'})).to.deep.equal(['sudo', '-n', '--', 'env', 'CONTAINERD_NAMESPACE=ns', 'podman', 'ps'])
    expect(RUNTIME_ENV).to.include.members(['CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINERD_ADDRESS'])
  })
})
