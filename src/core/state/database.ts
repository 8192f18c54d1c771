import Database from 'better-sqlite3'
import fs from 'node:fs'
import path from 'node:path'

import {FailedError, NotFoundError} from '../errors.js'
import {MIGRATIONS, type Migration} from './migrations/index.js'

type Db = Database.Database

/** Marks a file as ours in the SQLite header ("CTL1"), so a foreign database is never touched. */
export const APPLICATION_ID = 0x43_54_4c_31
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')
const BUSY_TIMEOUT_MS = 5000

export interface OpenOptions {
  /**
   * When the file does not exist: `create` it (the default: `clusterctl init`, the
   * first `add-node`, tests), `refuse` (NotFoundError: a typo'd path must not become a
   * new empty cluster), or open an `empty` state in memory (listings: nothing to list,
   * nothing created).
   */
  missing?: 'create' | 'refuse' | 'empty'
  /** Where the path came from (`--db`, `CLUSTERCTL_DB`), named when the file is missing. */
  origin?: string
  migrations?: readonly Migration[]
  /** Migrate only up to this version (tests of single migrations). */
  targetVersion?: number
}

/**
 * Opens (creating if needed) the state file: folder 0700 and file 0600 when we
 * create them, WAL, synchronous=FULL, foreign keys, busy_timeout, then applies
 * pending migrations. A file that is not an SQLite database, or an SQLite
 * database that is not clusterctl's, is refused and left byte-for-byte as it was.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const migrations = options.migrations ?? MIGRATIONS
  const exists = prepareFile(file, options)
  let db: Db
  try {
    db = new Database(exists ? file : ':memory:', {timeout: BUSY_TIMEOUT_MS})
  } catch (error) {
    throw new FailedError(`Cannot open the state file ${file}: ${(error as Error).message}.`, {code: 'db-open', cause: error})
  }

  try {
    checkOwnership(db, file, migrations)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    migrate(db, migrations, options.targetVersion)
    return db
  } catch (error) {
    db.close()
    if (error instanceof FailedError) throw error
    throw asDbError(error, file)
  }
}

/** Checks (and, unless told otherwise, creates) the file; false when it is missing and stays so. */
function prepareFile(file: string, options: OpenOptions): boolean {
  let stat: fs.Stats | undefined
  try {
    stat = fs.statSync(file)
  } catch {
    stat = undefined
  }

  if (stat) {
    if (!stat.isFile()) throw new FailedError(`The state file ${file} is not a regular file; pass --db with a file path.`, {code: 'foreign-db'})
    if (stat.size > 0) {
      const header = Buffer.alloc(16)
      const fd = fs.openSync(file, 'r')
      try {
        fs.readSync(fd, header, 0, 16, 0)
      } finally {
        fs.closeSync(fd)
      }

      if (!header.equals(SQLITE_MAGIC)) {
        throw new FailedError(`${file} is not a clusterctl state file (it is not an SQLite database); it was left untouched. Pass --db (or set CLUSTERCTL_DB) to use another file.`, {code: 'foreign-db'})
      }
    } else restrictMode(file)

    return true
  }

  if (options.missing === 'empty') return false
  if (options.missing === 'refuse') {
    throw new NotFoundError(`There is no state file at ${file}${options.origin ? ` (from ${options.origin})` : ''}.`, {
      code: 'no-state-file',
      hint: 'Create it with `clusterctl init` (or add the first node with `clusterctl add-node HOST`), or point --db / CLUSTERCTL_DB at an existing state file.',
    })
  }

  const dir = path.dirname(file)
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, {recursive: true, mode: 0o700})
    fs.chmodSync(dir, 0o700)
  }

  try {
    fs.closeSync(fs.openSync(file, 'wx', 0o600))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new FailedError(`Cannot create the state file ${file}: ${(error as Error).message}.`, {code: 'db-open', cause: error})
  }

  fs.chmodSync(file, 0o600)
  return true
}

/** An empty file is about to become a state file: only its owner may read it (0600), as when we create one. */
function restrictMode(file: string): void {
  try {
    fs.chmodSync(file, 0o600)
  } catch (error) {
    throw new FailedError(`Cannot make the empty state file ${file} private (chmod 0600): ${(error as Error).message}.`, {code: 'db-open', cause: error})
  }
}

function checkOwnership(db: Db, file: string, migrations: readonly Migration[]): void {
  const appId = db.pragma('application_id', {simple: true}) as number
  const userVersion = db.pragma('user_version', {simple: true}) as number
  if (appId === APPLICATION_ID) {
    const latest = migrations.at(-1)?.version ?? 0
    if (userVersion > latest) {
      throw new FailedError(`The state file ${file} was written by a newer clusterctl (schema ${userVersion}; this one knows up to ${latest}): upgrade clusterctl.`, {code: 'db-too-new'})
    }

    return
  }

  const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_schema`).get() as {n: number}
  if (appId !== 0 || userVersion !== 0 || tables.n > 0) {
    throw new FailedError(`${file} is an SQLite database that clusterctl did not create; it was left untouched. Pass --db (or set CLUSTERCTL_DB) to use another file.`, {code: 'foreign-db'})
  }
}

/** Applies pending migrations, each in its own BEGIN IMMEDIATE transaction that also bumps user_version. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS, targetVersion?: number): void {
  for (const migration of migrations) {
    if (targetVersion !== undefined && migration.version > targetVersion) break
    db.transaction(() => {
      const current = db.pragma('user_version', {simple: true}) as number
      if (current >= migration.version) return
      if (current !== migration.version - 1) throw new FailedError(`The state file is at schema ${current} and cannot take migration ${migration.version}.`, {code: 'db-schema'})
      if (current === 0) db.pragma(`application_id = ${APPLICATION_ID}`)
      migration.up(db)
      db.pragma(`user_version = ${migration.version}`)
    }).immediate()
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', {simple: true}) as number
}

function asDbError(error: unknown, file: string): FailedError {
  const code = (error as {code?: string}).code ?? ''
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new FailedError(`The state file ${file} is damaged (${(error as Error).message}); it was left untouched. Restore it from a backup, or pass --db to start another.`, {code: 'corrupt-db', cause: error})
  }

  if (code === 'SQLITE_BUSY') {
    return new FailedError(`The state file ${file} stayed locked by another clusterctl for ${BUSY_TIMEOUT_MS / 1000}s; try again.`, {code: 'db-busy', cause: error})
  }

  return new FailedError(`Cannot use the state file ${file}: ${(error as Error).message}.`, {code: 'db-open', cause: error})
}

export {asDbError}
