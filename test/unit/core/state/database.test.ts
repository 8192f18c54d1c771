import Database from 'better-sqlite3'
import {expect} from 'chai'
import {execFileSync, spawn} from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import {FailedError, NotFoundError} from '../../../../src/core/errors.js'
import {APPLICATION_ID, openDatabase, schemaVersion} from '../../../../src/core/state/database.js'
import {MIGRATIONS} from '../../../../src/core/state/migrations/index.js'
import {resolveDbPath} from '../../../../src/core/state/paths.js'
import {Store} from '../../../../src/core/state/store.js'
import {makeTempDir} from '../../../helpers/tmp.js'

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

describe('core/state/database', () => {
  let tmp: ReturnType<typeof makeTempDir>
  beforeEach(() => {
    tmp = makeTempDir()
  })
  afterEach(() => tmp.cleanup())

  it('creates the folder 0700 and the file 0600, in WAL mode with foreign keys, fully migrated', () => {
    const file = path.join(tmp.dir, 'a', 'b', 'state.db')
    const db = openDatabase(file)
    try {
      expect(fs.statSync(path.dirname(file)).mode & 0o777).to.equal(0o700)
      expect(fs.statSync(file).mode & 0o777).to.equal(0o600)
      expect(db.pragma('journal_mode', {simple: true})).to.equal('wal')
      expect(db.pragma('foreign_keys', {simple: true})).to.equal(1)
      expect(db.pragma('synchronous', {simple: true})).to.equal(2)
      expect(db.pragma('busy_timeout', {simple: true})).to.equal(5000)
      expect(db.pragma('application_id', {simple: true})).to.equal(APPLICATION_ID)
      expect(schemaVersion(db)).to.equal(MIGRATIONS.at(-1)!.version)
    } finally {
      db.close()
    }
  })

  describe('a state file that does not exist', () => {
    it('is refused with missing: refuse (exit 3, the path and its origin named) and not created, nor its folder', () => {
      const file = path.join(tmp.dir, 'typo', 'state.db')
      let error: unknown
      try {
        openDatabase(file, {missing: 'refuse', origin: '--db'})
      } catch (e) {
        error = e
      }

      expect(error).to.be.instanceOf(NotFoundError)
      expect((error as NotFoundError).exitCode).to.equal(3)
      expect((error as Error).message).to.equal(`There is no state file at ${file} (from --db).`)
      expect((error as NotFoundError).hint).to.match(/clusterctl init/)
      expect(fs.existsSync(path.dirname(file))).to.equal(false)
    })

    it('reads as an empty cluster with missing: empty, and is not created', () => {
      const file = path.join(tmp.dir, 'state.db')
      const store = Store.open(file, new ManualClock(0), {missing: 'empty'})
      try {
        expect(store.db.prepare('SELECT count(*) AS n FROM nodes').get()).to.deep.equal({n: 0})
      } finally {
        store.close()
      }

      expect(fs.existsSync(file)).to.equal(false)
    })

    it('an existing empty file is initialised and made 0600, whatever it was', () => {
      const file = path.join(tmp.dir, 'state.db')
      fs.writeFileSync(file, '', {mode: 0o644})
      fs.chmodSync(file, 0o644)
      openDatabase(file, {missing: 'refuse'}).close()
      expect(fs.statSync(file).mode & 0o777).to.equal(0o600)
    })
  })

  it('uses only STRICT tables', () => {
    const db = openDatabase(path.join(tmp.dir, 'state.db'))
    try {
      const tables = db.prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'table'`).all() as Array<{name: string; sql: string}>
      expect(tables.length).to.be.greaterThan(0)
      for (const t of tables) expect(t.sql, t.name).to.match(/\)\s*STRICT\s*$/)
    } finally {
      db.close()
    }
  })

  it('reopens an existing file without migrating it again', () => {
    const file = path.join(tmp.dir, 'state.db')
    openDatabase(file).close()
    const db = openDatabase(file)
    expect(schemaVersion(db)).to.equal(MIGRATIONS.at(-1)!.version)
    db.close()
  })

  it('refuses a file that is not SQLite and leaves it untouched', () => {
    const file = path.join(tmp.dir, 'notes.txt')
    fs.writeFileSync(file, 'my precious notes\n'.repeat(100))
    const before = sha256(file)
    expect(() => openDatabase(file)).to.throw(FailedError, /is not a clusterctl state file \(it is not an SQLite database\); it was left untouched/)
    expect(sha256(file)).to.equal(before)
    expect(fs.existsSync(`${file}-wal`)).to.equal(false)
  })

  it('refuses a foreign SQLite database and leaves it untouched', () => {
    const file = path.join(tmp.dir, 'other.db')
    const other = new Database(file)
    other.exec(`CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('a')`)
    other.close()
    const before = sha256(file)
    expect(() => openDatabase(file)).to.throw(FailedError, /an SQLite database that clusterctl did not create/)
    expect(sha256(file)).to.equal(before)
  })

  it('refuses a damaged state file with a clear error', () => {
    const file = path.join(tmp.dir, 'state.db')
    openDatabase(file).close()
    const bytes = fs.readFileSync(file)
    bytes.fill(0xab, 100, bytes.length) // keep the header, ruin the pages
    fs.writeFileSync(file, bytes)
    fs.rmSync(`${file}-wal`, {force: true})
    fs.rmSync(`${file}-shm`, {force: true})
    const before = sha256(file)
    expect(() => openDatabase(file)).to.throw(FailedError, /is damaged \(database disk image is malformed\); it was left untouched/)
    expect(sha256(file)).to.equal(before)
  })

  it('refuses a state file from a newer clusterctl', () => {
    const file = path.join(tmp.dir, 'state.db')
    const db = openDatabase(file)
    db.pragma('user_version = 999')
    db.close()
    expect(() => openDatabase(file)).to.throw(FailedError, /written by a newer clusterctl \(schema 999/)
  })

  it('resolves the path from --db, CLUSTERCTL_DB, XDG_DATA_HOME, then HOME', () => {
    expect(resolveDbPath('/x/y.db', {})).to.equal('/x/y.db')
    expect(resolveDbPath(undefined, {CLUSTERCTL_DB: '/e/s.db'})).to.equal('/e/s.db')
    expect(resolveDbPath(undefined, {XDG_DATA_HOME: '/xdg', HOME: '/h'})).to.equal('/xdg/clusterctl/state.db')
    expect(resolveDbPath(undefined, {HOME: '/h'})).to.equal('/h/.local/share/clusterctl/state.db')
  })

  it('waits for another process that holds the write lock instead of failing (BEGIN IMMEDIATE + busy_timeout)', async () => {
    const file = path.join(tmp.dir, 'state.db')
    const store = Store.open(file, new ManualClock())
    // Given another process holding a write transaction for 400 ms
    const holder = spawn(process.execPath, [
      '-e',
      `const D = require(${JSON.stringify(require_('better-sqlite3'))});
       const db = new D(${JSON.stringify(file)});
       db.exec('BEGIN IMMEDIATE'); db.exec("INSERT INTO meta VALUES ('held', '1')");
       process.stdout.write('locked\\n');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
       db.exec('COMMIT'); db.close();`,
    ])
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()))
    // When we write
    const started = Date.now()
    store.write(() => store.stmt(`INSERT INTO meta VALUES ('mine', '1')`).run())
    // Then we waited for the lock and both writes are there
    expect(Date.now() - started).to.be.greaterThan(100)
    expect(store.stmt(`SELECT count(*) AS n FROM meta WHERE key IN ('held', 'mine')`).get()).to.deep.equal({n: 2})
    await new Promise((resolve) => holder.once('exit', resolve))
    store.close()
  })
})

function require_(name: string): string {
  return execFileSync(process.execPath, ['-p', `require.resolve(${JSON.stringify(name)})`], {encoding: 'utf8'}).trim()
}
