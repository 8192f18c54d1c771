import type Database from 'better-sqlite3'

import type {Clock} from '../clock.js'
import {openDatabase, type OpenOptions} from './database.js'

type Db = Database.Database
type Statement = Database.Statement

/**
 * The state store: one SQLite file. Reads return plain objects; every write
 * is a synchronous BEGIN IMMEDIATE transaction with no await inside (a
 * deferred read-then-write transaction fails with SQLITE_BUSY at once under
 * contention, whatever busy_timeout says).
 */
export class Store {
  private readonly statements = new Map<string, Statement>()

  constructor(
    readonly db: Db,
    readonly clock: Clock,
    readonly file: string,
  ) {}

  static open(file: string, clock: Clock, options: OpenOptions = {}): Store {
    return new Store(openDatabase(file, options), clock, file)
  }

  /** A cached prepared statement. */
  stmt(sql: string): Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }

    return statement
  }

  /** Runs fn in a BEGIN IMMEDIATE transaction. fn must be synchronous. */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  /** Runs fn in a read transaction, so everything it reads is one consistent snapshot. */
  read<T>(fn: () => T): T {
    return this.db.transaction(fn).deferred()
  }

  close(): void {
    this.statements.clear()
    if (this.db.open) this.db.close()
  }
}
