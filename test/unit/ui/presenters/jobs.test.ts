import {expect} from 'chai'

import {renderTaskDetail, renderTasksTable, taskToJson, type Addresses} from '../../../../src/ui/presenters/jobs.js'
import {aJob, aTask, NOW} from '../dashboard/fixtures.js'

describe('ui/presenters/jobs: where a task and its service are reached (ps, inspect)', () => {
  const web = aJob('web', {servicePort: 10_000})
  const etl = aJob('etl', {kind: 'batch', servicePort: null})
  const where: Addresses = {
    hosts: new Map([['w1', '10.0.0.5']]),
    services: new Map([['web', {servicePort: 10_000, address: '192.0.2.10:10000', addresses: ['192.0.2.10:10000', '192.0.2.11:10000']}]]),
  }

  it('--json: each task gets its job\'s service address and port (null for a job without one)', () => {
    expect(taskToJson(aTask(web, 0, 'w1'), where)).to.include({serviceAddress: '192.0.2.10:10000', servicePort: 10_000})
    expect(taskToJson(aTask(etl, 0, 'w1'), where)).to.include({serviceAddress: null, servicePort: null})
    const noEdge: Addresses = {...where, services: new Map([['web', {servicePort: 10_000, address: null, addresses: []}]])}
    expect(taskToJson(aTask(web, 0, 'w1'), noEdge)).to.include({serviceAddress: null, servicePort: 10_000})
  })

  it('ps: a SERVICE column beside PORTS (`:PORT` without an edge node, - without a service port); inspect TASK: every edge address', () => {
    const text = renderTasksTable([aTask(web, 0, 'w1'), aTask(etl, 0, 'w1')], where, NOW, false)
    expect(text).to.match(/PORTS +SERVICE +RESTARTS/)
    expect(text).to.match(/10\.0\.0\.5:31000->8080\/tcp +192\.0\.2\.10:10000 +0/)
    expect(text).to.match(/etl .*31000->8080\/tcp +- +0/)
    expect(renderTasksTable([aTask(web, 0, 'w1')], {...where, services: new Map([['web', {servicePort: 10_000, address: null, addresses: []}]])}, NOW, false)).to.match(/tcp +:10000 +0/)
    const job = {job: web, counts: {running: 1, pending: 0, finished: 0}, status: 'active' as const}
    expect(renderTaskDetail(aTask(web, 0, 'w1'), job as never, [], where, NOW, false)).to.contain('10000 at 192.0.2.10:10000 192.0.2.11:10000 (`clusterctl endpoints web`)')
  })
})
