import Database from 'better-sqlite3'
import {expect} from 'chai'

import {migrate, schemaVersion} from '../../../../src/core/state/database.js'
import {MIGRATIONS} from '../../../../src/core/state/migrations/index.js'

/** One test per migration: migrate to N-1, seed, migrate to N, assert (Signal-Desktop style). */
describe('core/state/migrations', () => {
  let db: Database.Database
  beforeEach(() => {
    db = new Database(':memory:')
  })
  afterEach(() => db.close())

  it('are numbered 1..N without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).to.deep.equal(MIGRATIONS.map((_, i) => i + 1))
  })

  it('0001 creates meta and nodes with their checks', () => {
    migrate(db, MIGRATIONS, 1)
    expect(schemaVersion(db)).to.equal(1)
    const insert = db.prepare(`INSERT INTO nodes (id, name, host, resolved_address, runtime, state, cap_cpu_milli, cap_mem_bytes, cap_disk_bytes, cap_gpus, inventory, inventoried_at, created_at)
      VALUES (?, ?, 'h', 'root@h:22', ?, ?, 1000, 1, 1, 0, '{}', 0, 0)`)
    insert.run('n1', 'web-1', 'podman', 'ready')
    expect(() => insert.run('n2', 'web-1', 'podman', 'ready')).to.throw(/UNIQUE/)
    expect(() => insert.run('n3', 'web-3', 'docker', 'ready')).to.throw(/CHECK/)
    expect(() => insert.run('n4', 'web-4', 'podman', 'sleepy')).to.throw(/CHECK/)
    expect(() => db.prepare(`UPDATE nodes SET cap_cpu_milli = 'lots'`).run()).to.throw(/cannot store TEXT value in INTEGER column/)
  })

  it('0002 adds the event log and keeps the nodes', () => {
    migrate(db, MIGRATIONS, 1)
    db.prepare(`INSERT INTO nodes (id, name, host, resolved_address, runtime, state, cap_cpu_milli, cap_mem_bytes, cap_disk_bytes, cap_gpus, inventory, inventoried_at, created_at)
      VALUES ('n1', 'web-1', 'h', 'root@h:22', 'podman', 'ready', 1000, 1, 1, 0, '{}', 0, 0)`).run()
    migrate(db, MIGRATIONS, 2)
    expect(schemaVersion(db)).to.equal(2)
    expect(db.prepare(`SELECT name FROM nodes`).all()).to.deep.equal([{name: 'web-1'}])
    db.prepare(`INSERT INTO events (at, type, subject_kind, subject, message) VALUES (1, 'node.added', 'node', 'web-1', 'added')`).run()
    expect(() => db.prepare(`INSERT INTO events (at, type, subject_kind, subject, message) VALUES (1, 'x', 'planet', 'p', 'm')`).run()).to.throw(/CHECK/)
  })

  it('0003 adds jobs and tasks and a cluster id; tasks go with their job and outlive their node', () => {
    migrate(db, MIGRATIONS, 2)
    db.prepare(`INSERT INTO nodes (id, name, host, resolved_address, runtime, state, cap_cpu_milli, cap_mem_bytes, cap_disk_bytes, cap_gpus, inventory, inventoried_at, created_at)
      VALUES ('n1', 'web-1', 'h', 'root@h:22', 'podman', 'ready', 1000, 1, 1, 0, '{}', 0, 0)`).run()
    migrate(db, MIGRATIONS, 3)
    expect(schemaVersion(db)).to.equal(3)
    expect((db.prepare(`SELECT value FROM meta WHERE key = 'cluster_id'`).get() as {value: string}).value).to.match(/^[0-9a-f]{12}$/)
    db.pragma('foreign_keys = ON')
    db.prepare(`INSERT INTO jobs (id, name, kind, spec, spec_hash, instances, state, created_at, updated_at) VALUES ('j1', 'web', 'service', '{}', 'h', 2, 'active', 0, 0)`).run()
    const task = db.prepare(`INSERT INTO tasks (id, job_id, instance, node_id, state, spec_hash, created_at, updated_at) VALUES (?, 'j1', ?, ?, ?, 'h', 0, 0)`)
    task.run('t1', 0, 'n1', 'running')
    task.run('t2', 1, null, 'pending')
    expect(() => task.run('t3', 2, null, 'sleeping')).to.throw(/CHECK/)
    expect(() => task.run('t4', 3, 'nope', 'pending')).to.throw(/FOREIGN KEY/)
    db.prepare(`DELETE FROM nodes WHERE id = 'n1'`).run()
    expect(db.prepare(`SELECT node_id FROM tasks WHERE id = 't1'`).get()).to.deep.equal({node_id: null})
    db.prepare(`DELETE FROM jobs WHERE id = 'j1'`).run()
    expect(db.prepare(`SELECT count(*) AS n FROM tasks`).get()).to.deep.equal({n: 0})
  })

  it('0004 adds a restart generation to jobs, 0 for existing ones', () => {
    migrate(db, MIGRATIONS, 3)
    db.prepare(`INSERT INTO jobs (id, name, kind, spec, spec_hash, instances, state, created_at, updated_at) VALUES ('j1', 'web', 'service', '{}', 'h', 2, 'active', 0, 0)`).run()
    migrate(db, MIGRATIONS, 4)
    expect(db.prepare(`SELECT generation FROM jobs`).get()).to.deep.equal({generation: 0})
    expect(() => db.prepare(`UPDATE jobs SET generation = -1`).run()).to.throw(/CHECK/)
  })

  it('0005 adds the controller lease table', () => {
    migrate(db, MIGRATIONS, 4)
    migrate(db, MIGRATIONS, 5)
    db.prepare(`INSERT INTO leases (name, holder, kind, pid, hostname, acquired_at, expires_at) VALUES ('controller', 'x', 'daemon', 1, 'h', 0, 1)`).run()
    expect(() => db.prepare(`INSERT INTO leases (name, holder, kind, pid, hostname, acquired_at, expires_at) VALUES ('controller', 'y', 'daemon', 1, 'h', 0, 1)`).run()).to.throw(/UNIQUE|PRIMARY/)
    expect(() => db.prepare(`INSERT INTO leases (name, holder, kind, pid, hostname, acquired_at, expires_at) VALUES ('other', 'y', 'robot', 1, 'h', 0, 1)`).run()).to.throw(/CHECK/)
  })

  it('0006 splits the admin state from the observed one and adds heartbeat, move and health columns', () => {
    migrate(db, MIGRATIONS, 5)
    const insert = db.prepare(`INSERT INTO nodes (id, name, host, resolved_address, runtime, state, cap_cpu_milli, cap_mem_bytes, cap_disk_bytes, cap_gpus, inventory, inventoried_at, created_at)
      VALUES (?, ?, 'h', 'root@h:22', 'podman', ?, 1000, 1, 1, 0, '{}', 0, 0)`)
    insert.run('n1', 'a', 'cordoned')
    insert.run('n2', 'b', 'down')
    db.prepare(`INSERT INTO jobs (id, name, kind, spec, spec_hash, instances, state, created_at, updated_at) VALUES ('j1', 'web', 'service', '{}', 'h', 2, 'active', 0, 0)`).run()
    db.prepare(`INSERT INTO tasks (id, job_id, instance, node_id, state, spec_hash, created_at, updated_at) VALUES ('t1', 'j1', 0, 'n1', 'running', 'h', 0, 0)`).run()
    migrate(db, MIGRATIONS, 6)
    expect(db.prepare(`SELECT name, state, admin_state, missed_heartbeats FROM nodes ORDER BY name`).all()).to.deep.equal([
      {name: 'a', state: 'cordoned', admin_state: 'cordoned', missed_heartbeats: 0},
      {name: 'b', state: 'down', admin_state: 'ready', missed_heartbeats: 0},
    ])
    expect(() => db.prepare(`UPDATE nodes SET admin_state = 'down'`).run()).to.throw(/CHECK/)
    expect(db.prepare(`SELECT replaces, health_failures, health_checked_at FROM tasks`).get()).to.deep.equal({replaces: null, health_failures: 0, health_checked_at: null})
    db.pragma('foreign_keys = ON')
    db.prepare(`INSERT INTO orphan_sightings (node_id, container_name, first_seen_at) VALUES ('n1', 'c', 1)`).run()
    db.prepare(`DELETE FROM nodes WHERE id = 'n1'`).run()
    expect(db.prepare(`SELECT count(*) AS n FROM orphan_sightings`).get()).to.deep.equal({n: 0})
  })

  it('0007 gives every node an empty heartbeat latency history, and takes only a JSON array', () => {
    migrate(db, MIGRATIONS, 6)
    db.prepare(`INSERT INTO nodes (id, name, host, resolved_address, runtime, state, cap_cpu_milli, cap_mem_bytes, cap_disk_bytes, cap_gpus, inventory, inventoried_at, created_at)
      VALUES ('n1', 'a', 'h', 'root@h:22', 'podman', 'ready', 1000, 1, 1, 0, '{}', 0, 0)`).run()
    migrate(db, MIGRATIONS, 7)
    expect(db.prepare(`SELECT heartbeat_latencies FROM nodes`).get()).to.deep.equal({heartbeat_latencies: '[]'})
    db.prepare(`UPDATE nodes SET heartbeat_latencies = '[1200,1300]'`).run()
    expect(() => db.prepare(`UPDATE nodes SET heartbeat_latencies = '{"a":1}'`).run()).to.throw(/CHECK/)
    expect(() => db.prepare(`UPDATE nodes SET heartbeat_latencies = 'slow'`).run()).to.throw(/CHECK/)
  })

  it('0008 adds runs (one row per firing: the id is unique), schedule cursors and parent counters, gone with their job', () => {
    migrate(db, MIGRATIONS, 7)
    db.prepare(`INSERT INTO jobs (id, name, kind, spec, spec_hash, instances, state, created_at, updated_at) VALUES ('j1', 'etl', 'batch', '{}', 'h', 1, 'active', 0, 0)`).run()
    migrate(db, MIGRATIONS, 8)
    const insert = db.prepare(`INSERT INTO runs (id, job_id, job_name, trigger, scheduled_at, attempt, state, created_at) VALUES (?, 'j1', 'etl', 'schedule', 1, 1, 'waiting', 1)`)
    insert.run('etl@19700101T000000.001Z')
    expect(() => insert.run('etl@19700101T000000.001Z')).to.throw(/UNIQUE/)
    expect(() => db.prepare(`UPDATE runs SET state = 'lost'`).run()).to.throw(/CHECK/)
    db.prepare(`INSERT INTO run_cursors (job_id, key, anchor, evaluated_to, next_at, remaining) VALUES ('j1', '@daily|UTC', 0, 0, 1, NULL)`).run()
    db.prepare(`INSERT INTO parent_successes (child_id, parent, successes) VALUES ('j1', 'extract', 1)`).run()
    db.pragma('foreign_keys = ON')
    db.prepare(`DELETE FROM jobs`).run()
    for (const table of ['runs', 'run_cursors', 'parent_successes']) expect(db.prepare(`SELECT count(*) AS n FROM ${table}`).get()).to.deep.equal({n: 0})
  })

  it('0009 adds node conditions (one per node and type, a known severity) and health samples (JSON), gone with their node', () => {
    migrate(db, MIGRATIONS, 8)
    db.prepare(`INSERT INTO nodes (id, name, host, resolved_address, runtime, state, cap_cpu_milli, cap_mem_bytes, cap_disk_bytes, cap_gpus, inventory, inventoried_at, created_at) VALUES ('n1', 'h1', 'h1', 'root@h1:22', 'podman', 'ready', 1000, 1, 0, 0, '{}', 0, 0)`).run()
    migrate(db, MIGRATIONS, 9)
    expect(db.prepare(`SELECT health_probed_at FROM nodes`).get()).to.deep.equal({health_probed_at: null})
    const insert = db.prepare(`INSERT INTO node_conditions (node_id, type, severity, reason, message, since, last_seen) VALUES ('n1', ?, ?, 'LowDiskSpace', '/ 5% free', 1, 1)`)
    insert.run('DiskPressure', 'warning')
    expect(() => insert.run('DiskPressure', 'warning')).to.throw(/UNIQUE/)
    expect(() => insert.run('MemoryPressure', 'fatal')).to.throw(/CHECK/)
    db.prepare(`INSERT INTO health_samples (node_id, at, sample) VALUES ('n1', 1, '{}')`).run()
    expect(() => db.prepare(`INSERT INTO health_samples (node_id, at, sample) VALUES ('n1', 2, 'not json')`).run()).to.throw(/CHECK/)
    db.pragma('foreign_keys = ON')
    db.prepare(`DELETE FROM nodes`).run()
    for (const table of ['node_conditions', 'health_samples']) expect(db.prepare(`SELECT count(*) AS n FROM ${table}`).get()).to.deep.equal({n: 0})
  })

  it('0010 adds teams: a positive weight and optional quotas', () => {
    migrate(db, MIGRATIONS, 9)
    migrate(db, MIGRATIONS, 10)
    const insert = db.prepare(`INSERT INTO teams (name, weight, quota_cpu_milli, quota_mem_bytes, quota_disk_bytes, quota_gpus, created_at, updated_at) VALUES (?, ?, ?, NULL, NULL, NULL, 0, 0)`)
    insert.run('data', 2, 12_000)
    insert.run('web', 0.5, null)
    expect(() => insert.run('data', 1, null)).to.throw(/UNIQUE|PRIMARY/)
    expect(() => insert.run('ml', 0, null)).to.throw(/CHECK/)
    expect(() => insert.run('ml', 1, -1)).to.throw(/CHECK/)
    expect(db.prepare(`SELECT name, weight, quota_cpu_milli FROM teams ORDER BY name`).all()).to.deep.equal([{name: 'data', weight: 2, quota_cpu_milli: 12_000}, {name: 'web', weight: 0.5, quota_cpu_milli: null}])
  })

  it('0011 adds the indexes that keep the reconcile read and retention off the history', () => {
    migrate(db, MIGRATIONS, 10)
    migrate(db, MIGRATIONS, 11)
    const names = (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND name IN ('tasks_ended', 'tasks_failed', 'tasks_done', 'runs_ended', 'tasks_live_instance') ORDER BY name`).all() as Array<{name: string}>).map((r) => r.name)
    expect(names).to.deep.equal(['runs_ended', 'tasks_done', 'tasks_ended', 'tasks_failed', 'tasks_live_instance'])
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT id FROM tasks WHERE job_id = 'j' AND instance = 0 AND state IN ('finished', 'failed', 'lost') ORDER BY created_at DESC LIMIT 1`).all() as Array<{detail: string}>
    expect(plan.map((p) => p.detail).join('; ')).to.match(/USING INDEX tasks_ended/)
  })

  it('0012 adds deployments (one version per job once), gone with their job, and ready_at on tasks', () => {
    migrate(db, MIGRATIONS, 11)
    db.prepare(`INSERT INTO jobs (id, name, kind, spec, spec_hash, instances, state, created_at, updated_at) VALUES ('j1', 'web', 'service', '{}', 'h', 1, 'active', 0, 0)`).run()
    db.prepare(`INSERT INTO tasks (id, job_id, instance, state, spec_hash, created_at, updated_at) VALUES ('t1', 'j1', 0, 'running', 'h', 0, 0)`).run()
    migrate(db, MIGRATIONS, 12)
    expect(db.prepare(`SELECT ready_at FROM tasks`).get()).to.deep.equal({ready_at: null})
    const insert = db.prepare(`INSERT INTO deployments (id, job_id, version, cause, spec, spec_hash, generation, state, progress_at, counted_from, created_at, updated_at) VALUES (?, 'j1', ?, 'apply', '{}', 'h', 0, ?, 0, 0, 0, 0)`)
    insert.run('d1', 1, 'succeeded')
    expect(() => insert.run('d2', 1, 'running')).to.throw(/UNIQUE/)
    expect(() => insert.run('d3', 2, 'exploded')).to.throw(/CHECK/)
    db.pragma('foreign_keys = ON')
    db.prepare(`DELETE FROM jobs`).run()
    expect(db.prepare(`SELECT count(*) AS n FROM deployments`).get()).to.deep.equal({n: 0})
  })

  it('0013 gives existing services with a TCP port a unique service port (from 10000, oldest first), others none, freed with the job; nodes are not edges', () => {
    migrate(db, MIGRATIONS, 12)
    const job = db.prepare(`INSERT INTO jobs (id, name, kind, spec, spec_hash, instances, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'h', 1, 'active', ?, 0)`)
    const tcp = JSON.stringify({ports: [{containerPort: 53, protocol: 'udp'}, {containerPort: 80, protocol: 'tcp'}]})
    job.run('j1', 'web', 'service', tcp, 20)
    job.run('j2', 'api', 'service', tcp, 10)
    job.run('j3', 'dns', 'service', JSON.stringify({ports: [{containerPort: 53, protocol: 'udp'}]}), 5)
    job.run('j4', 'etl', 'batch', tcp, 1)
    job.run('j5', 'old', 'service', '{}', 1)
    db.prepare(`INSERT INTO nodes (id, name, host, resolved_address, runtime, state, cap_cpu_milli, cap_mem_bytes, cap_disk_bytes, cap_gpus, inventory, inventoried_at, created_at)
      VALUES ('n1', 'web-1', 'h', 'root@h:22', 'podman', 'ready', 1000, 1, 1, 0, '{}', 0, 0)`).run()
    migrate(db, MIGRATIONS, 13)
    expect(db.prepare(`SELECT name, service_port FROM jobs ORDER BY name`).all()).to.deep.equal([
      {name: 'api', service_port: 10_000}, {name: 'dns', service_port: null}, {name: 'etl', service_port: null}, {name: 'old', service_port: null}, {name: 'web', service_port: 10_001},
    ])
    expect(db.prepare(`SELECT edge FROM nodes`).get()).to.deep.equal({edge: 0})
    expect(() => db.prepare(`UPDATE jobs SET service_port = 10000 WHERE name = 'dns'`).run()).to.throw(/UNIQUE/)
    expect(() => db.prepare(`UPDATE jobs SET service_port = 70000 WHERE name = 'dns'`).run()).to.throw(/CHECK/)
    expect(() => db.prepare(`UPDATE nodes SET edge = 2`).run()).to.throw(/CHECK/)
    db.prepare(`DELETE FROM jobs WHERE name = 'api'`).run()
    db.prepare(`UPDATE jobs SET service_port = 10000 WHERE name = 'dns'`).run()
  })

  it('is idempotent: migrating twice changes nothing', () => {
    migrate(db)
    const schema = db.prepare(`SELECT sql FROM sqlite_schema ORDER BY name`).all()
    migrate(db)
    expect(db.prepare(`SELECT sql FROM sqlite_schema ORDER BY name`).all()).to.deep.equal(schema)
  })
})
