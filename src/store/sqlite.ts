/**
 * The embedded store: one SQLite file (WAL mode) under the data directory,
 * through better-sqlite3, whose one connection per process is synchronous.
 *
 * - Transactions begin IMMEDIATE: they hold the database's single write lock
 *   from their first statement, so nothing they read can change under them.
 *   That is what FOR UPDATE (and SKIP LOCKED, for job claims) give on
 *   PostgreSQL, so those clauses are empty here. Other processes on the file
 *   wait (busy_timeout).
 * - Within the process, statements and transactions take turns on the
 *   connection (turns.ts says why).
 * - Changes are announced in-process, after the commit.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type Adapter, type Column, type Dialect, type Fragment, type Session, type Transaction, transact } from './adapter.js';
import type { Row } from './rows.js';
import { SqlStore, type SqlStoreOptions } from './sql-store.js';
import { Turns } from './turns.js';
import type { StoreChange } from './types.js';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  // 'subsec' keeps the clock's milliseconds as a fraction of a second; ×1000 can land a hair below the whole number, hence round().
  now: `CAST(round(unixepoch('now', 'subsec') * 1000) AS INTEGER)`,
  forUpdate: '',
  forUpdateSkipLocked: '',
  claimLock: null,
  inList: 'IN (SELECT value FROM json_each(?))',
  list: (values) => JSON.stringify(values),
  rows: lentRows,
  isUniqueViolation: (err) => (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE',
  // length() of a TEXT counts characters; of a BLOB, bytes.
  octetLength: (expr) => `length(CAST(${expr} AS BLOB))`,
  types: { bigint: 'INTEGER', bytes: 'BLOB', serial: 'INTEGER PRIMARY KEY AUTOINCREMENT', bool: 'INTEGER', false: '0', keyedTable: ' WITHOUT ROWID' },
};

/** The widest table a statement can pass as a parameter (Dialect.rows). */
const TABLE_COLUMNS = 4;

/** SQLite binds no arrays: a table parameter is lent, for the run of its statement, to the table-valued function transferd_rows. */
class TableParam {
  constructor(readonly columns: readonly Column[]) {}
}

function lentRows(alias: string, columns: Record<string, Column>): Fragment {
  const names = Object.keys(columns);
  if (names.length > TABLE_COLUMNS) throw new Error(`a table parameter has at most ${TABLE_COLUMNS} columns`);
  return {
    sql: `(SELECT ${names.map((name, i) => `c${i} AS ${name}`).join(', ')}, o FROM transferd_rows(?)) AS ${alias}`,
    params: [new TableParam(Object.values(columns))],
  };
}

/** Prepared statements are kept: the store's statements are few and fixed (the bound guards against SQL built from data). */
const MAX_PREPARED = 500;

export class SqliteAdapter implements Adapter {
  readonly dialect = sqliteDialect;
  private readonly db: Database.Database;
  private readonly turns = new Turns();
  private readonly prepared = new Map<string, Database.Statement>();
  private listener: ((change: StoreChange) => void) | undefined;
  /** The table parameters of the statement running now (statements run one at a time, synchronously). */
  private lent: TableParam[] = [];

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    const lent = (handle: unknown) => this.lent[Number(handle)]?.columns ?? [];
    this.db.table('transferd_rows', {
      columns: [...Array.from({ length: TABLE_COLUMNS }, (_, i) => `c${i}`), 'o'],
      parameters: ['handle'],
      *rows(handle: unknown) {
        const columns = Array.from({ length: TABLE_COLUMNS }, (_, i) => lent(handle)[i]?.values);
        const count = columns[0]?.length ?? 0;
        for (let r = 0; r < count; r++) yield [...columns.map((values) => values?.[r] ?? null), r];
      },
    });
  }

  query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.outside(() => this.rows(sql, params));
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.outside(() => this.changes(sql, params));
  }

  exec(script: string): Promise<void> {
    return this.outside(() => void this.db.exec(script));
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const handOn = await this.turns.take();
    const announced: StoreChange[] = [];
    let result: T;
    try {
      const tx: Transaction = {
        query: async (sql, params = []) => this.rows(sql, params),
        run: async (sql, params = []) => this.changes(sql, params),
        exec: async (script) => void this.db.exec(script),
        notify: async (change) => void announced.push(change),
      };
      result = await transact(tx, 'BEGIN IMMEDIATE', fn);
    } finally {
      handOn();
    }
    for (const change of announced) this.listener?.(change);
    return result;
  }

  /** Needs no lock of its own: each migration is applied in an IMMEDIATE transaction that re-checks it was not applied meanwhile. */
  migrating<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async listen(listener: (change: StoreChange) => void): Promise<void> {
    this.listener = listener;
  }

  async close(): Promise<void> {
    const handOn = await this.turns.take();
    try {
      this.db.close();
    } finally {
      handOn();
    }
  }

  /** A statement outside any transaction: at once when the connection is free, else when the transactions ahead of it have ended. */
  private async outside<T>(fn: () => T): Promise<T> {
    if (this.turns.free) return fn();
    const handOn = await this.turns.take();
    try {
      return fn();
    } finally {
      handOn();
    }
  }

  private rows(sql: string, params: readonly unknown[]): Row[] {
    const statement = this.statement(sql);
    try {
      if (statement.reader) return statement.all(...this.bind(params)) as Row[];
      statement.run(...this.bind(params));
      return [];
    } finally {
      this.lent = [];
    }
  }

  private changes(sql: string, params: readonly unknown[]): number {
    try {
      return this.statement(sql).run(...this.bind(params)).changes;
    } finally {
      this.lent = [];
    }
  }

  /** Parameters as better-sqlite3 binds them: a table parameter becomes the number transferd_rows finds it under. */
  private bind(params: readonly unknown[]): unknown[] {
    return params.map((p) => (p instanceof TableParam ? this.lent.push(p) - 1 : p));
  }

  private statement(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      if (this.prepared.size >= MAX_PREPARED) this.prepared.clear();
      statement = this.db.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }
}

export interface SqliteOptions extends SqlStoreOptions {
  path: string;
}

/** The default store: every statement in SqlStore, on this process's SQLite file. */
export class SqliteStore extends SqlStore {
  constructor(options: SqliteOptions) {
    super(new SqliteAdapter(options.path), options);
  }
}
