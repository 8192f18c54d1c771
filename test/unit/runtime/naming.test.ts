import {expect} from 'chai'
import fc from 'fast-check'

import {
  CONTAINER_NAME_MAX,
  LABELS,
  clusterSelector,
  containerName,
  effectiveSpecHash,
  isValidContainerName,
  specHashOf,
  taskLabels,
} from '../../../src/runtime/naming.js'
import type {ContainerSpec} from '../../../src/runtime/types.js'

const BASE: ContainerSpec = {
  name: 'cctl-web-0-1f3a9c2e',
  image: 'localhost/app:1',
  command: ['sh', '-c', 'exec httpd -f -p "$PORT0"'],
  env: {A: '1', B: '2'},
  cpuMilli: 500,
  memBytes: 64 * 1024 * 1024,
  ports: [{containerPort: 0, hostPort: 31000, protocol: 'tcp'}],
  volumes: [{source: '/srv/data', target: '/data', readOnly: true}],
  labels: {},
}

describe('runtime/naming', () => {
  describe('containerName', () => {
    it('is cctl-<job>-<instance>-<first 8 of the task id>', () => {
      expect(containerName({clusterId: 'c1', jobName: 'web', instance: 0, taskId: '1f3a9c2e-7425-40de-944b-e07fc1f90ae7'})).to.equal('cctl-web-0-1f3a9c2e')
      expect(containerName({clusterId: 'c1', jobName: 'api', instance: 12, taskId: 'abc'})).to.equal('cctl-api-12-abc')
    })

    it('makes any job name safe: Marathon group ids, spaces, repeated separators', () => {
      expect(containerName({clusterId: 'c', jobName: '/shop/web', instance: 1, taskId: 'deadbeef00'})).to.equal('cctl-shop-web-1-deadbeef')
      expect(containerName({clusterId: 'c', jobName: 'My App!!', instance: 0, taskId: 'x'})).to.equal('cctl-My-App-0-x')
      expect(containerName({clusterId: 'c', jobName: 'a..b__c', instance: 0, taskId: 'x'})).to.equal('cctl-a.b_c-0-x')
      expect(containerName({clusterId: 'c', jobName: '///', instance: 0, taskId: '---'})).to.equal('cctl-job-0-task')
    })

    it('does not depend on the cluster id, and is deterministic', () => {
      const a = containerName({clusterId: 'one', jobName: 'web', instance: 3, taskId: '0123456789'})
      const b = containerName({clusterId: 'two', jobName: 'web', instance: 3, taskId: '0123456789'})
      expect(a).to.equal(b)
    })

    it('rejects a negative or fractional instance', () => {
      expect(() => containerName({clusterId: 'c', jobName: 'w', instance: -1, taskId: 'x'})).to.throw(RangeError)
      expect(() => containerName({clusterId: 'c', jobName: 'w', instance: 1.5, taskId: 'x'})).to.throw(RangeError)
    })

    it('always yields a name both podman and containerd accept (property)', () => {
      fc.assert(
        fc.property(fc.string({maxLength: 200}), fc.nat(), fc.string({maxLength: 40}), (jobName, instance, taskId) => {
          const name = containerName({clusterId: 'c', jobName, instance, taskId})
          expect(isValidContainerName(name), name).to.equal(true)
          expect(name.length).to.be.at.most(CONTAINER_NAME_MAX)
          expect(name.endsWith(`-${instance}-${name.split('-').pop()}`)).to.equal(true)
        }),
      )
    })
  })

  describe('isValidContainerName', () => {
    it('follows containerd identifiers: alphanumeric runs joined by single separators, at most 76', () => {
      for (const ok of ['a', 'cctl-web-0-1f3a9c2e', 'A.b_c-d', 'x'.repeat(76)]) expect(isValidContainerName(ok), ok).to.equal(true)
      for (const bad of ['', '-a', 'a-', 'a--b', 'a b', 'a/b', 'x'.repeat(77), 'é', "a'b"]) expect(isValidContainerName(bad), bad).to.equal(false)
    })
  })

  it('taskLabels names cluster, job, task, instance and spec hash', () => {
    expect(taskLabels({clusterId: 'c1', jobName: 'web', taskId: 't-1', instance: 2, specHash: 'abc'})).to.deep.equal({
      'io.clusterctl.cluster': 'c1',
      'io.clusterctl.job': 'web',
      'io.clusterctl.task': 't-1',
      'io.clusterctl.instance': '2',
      'io.clusterctl.spec-hash': 'abc',
    })
    expect(clusterSelector('c1')).to.deep.equal({[LABELS.cluster]: 'c1'})
    expect(clusterSelector('c1', 'web')).to.deep.equal({[LABELS.cluster]: 'c1', [LABELS.job]: 'web'})
  })

  describe('specHashOf', () => {
    it('is 16 hex digits, ignores env key order, name, labels and grace', () => {
      const h = specHashOf(BASE)
      expect(h).to.match(/^[0-9a-f]{16}$/)
      expect(specHashOf({...BASE, env: {B: '2', A: '1'}})).to.equal(h)
      expect(specHashOf({...BASE, name: 'other', labels: {x: 'y'}, stopGraceSeconds: 3} as ContainerSpec)).to.equal(h)
      expect(specHashOf({...BASE, command: []})).to.equal(specHashOf({...BASE, command: undefined}))
    })

    it('changes with anything that changes the container', () => {
      const h = specHashOf(BASE)
      const variants: ContainerSpec[] = [
        {...BASE, image: 'localhost/app:2'},
        {...BASE, command: ['sh']},
        {...BASE, env: {A: '1', B: '3'}},
        {...BASE, cpuMilli: 501},
        {...BASE, memBytes: 1},
        {...BASE, ports: [{containerPort: 0, hostPort: 31001, protocol: 'tcp'}]},
        {...BASE, volumes: [{source: '/srv/data', target: '/data', readOnly: false}]},
      ]
      for (const v of variants) expect(specHashOf(v)).to.not.equal(h)
    })

    it('effectiveSpecHash prefers the label the caller set', () => {
      expect(effectiveSpecHash(BASE)).to.equal(specHashOf(BASE))
      expect(effectiveSpecHash({...BASE, labels: {[LABELS.specHash]: 'job-v7'}})).to.equal('job-v7')
    })
  })
})
