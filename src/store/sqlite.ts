/**
 * The embedded store: one SQLite file (WAL mode) under the data directory,
 * through better-sqlite3, whose one connection per process is synchronous.
 *
 * - Transactions begin IMMEDIATE: they hold the database's single write lock
 *   from their first statement, so nothing they read can change under them.
 *   That is what FOR UPDATE (and SKIP LOCKED, for job claims) give on
 *   PostgreSQL, so those clauses are empty here. Other processes on the file
 *   wait (busy_timeout).
 * - Within the process, writes and transactions take turns on the writing
 *   connection (turns.ts says why). Reads outside a transaction go to a second,
 *   read-only connection: WAL lets it read the last commit while a transaction
 *   is open, so a 200,000-row upload does not hold up predictions or /readyz.
 * - better-sqlite3 runs each statement synchronously on the event loop, so a
 *   long transaction hands the loop back between its statements (its chunks)
 *   every few milliseconds; its turn and the write lock stay held meanwhile.
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
  jsonArrayHas: (column) => `EXISTS (SELECT 1 FROM json_each(${column}) WHERE value = ?)`,
  // length() of a TEXT counts characters; of a BLOB, bytes.
  octetLength: (expr) => `length(CAST(${expr} AS BLOB))`,
  types: {
    bigint: 'INTEGER',
    bytes: 'BLOB',
    serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    bool: 'INTEGER',
    false: '0',
    keyedTable: ' WITHOUT ROWID',
    // AUTOINCREMENT keeps its high-water mark in sqlite_sequence.
    lastExampleId: "max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'examples'), 0), (SELECT COALESCE(MAX(id), 0) FROM examples))",
  },
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

/** A transaction that has kept the event loop this long hands it back before its next statement. */
const YIELD_AFTER_MS = 10;

const nextTurnOfTheLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class SqliteAdapter implements Adapter {
  readonly dialect = sqliteDialect;
  private readonly db: Database.Database;
  /** Reads outside transactions; absent for an in-memory database, which a second connection would not share. */
  private readonly reader: Database.Database | undefined;
  private readonly turns = new Turns();
  private readonly prepared = new Map<Database.Database, Map<string, Database.Statement>>();
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
    this.lendRows(this.db);
    if (path !== ':memory:') {
      this.reader = new Database(path, { readonly: true });
      this.reader.pragma('busy_timeout = 5000');
      this.lendRows(this.reader);
    }
  }

  /** Registers transferd_rows, through which a statement reads its table parameters, on a connection. */
  private lendRows(db: Database.Database): void {
    const lent = (handle: unknown) => this.lent[Number(handle)]?.columns ?? [];
    db.table('transferd_rows', {
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
    // A read sees the last commit at once; a statement that writes (INSERT … RETURNING) takes its turn.
    const read = this.reader && this.statement(this.reader, sql, true);
    if (read) return Promise.resolve(this.rows(read, params));
    return this.outside(() => this.rows(this.statement(this.db, sql), params));
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.outside(() => this.changes(sql, params));
  }

  /**
   * Reads the schema from the file: the database answers reads. Never waits
   * for the turn: a long upload holding it proves the database busy, not
   * gone, and readiness must not fail for it.
   */
  async ping(): Promise<void> {
    (this.reader ?? this.db).prepare('SELECT count(*) FROM sqlite_schema').get();
  }

  exec(script: string): Promise<void> {
    return this.outside(() => void this.db.exec(script));
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const handOn = await this.turns.take();
    const announced: StoreChange[] = [];
    let busySince = performance.now();
    const breathe = async () => {
      if (performance.now() - busySince < YIELD_AFTER_MS) return;
      await nextTurnOfTheLoop();
      busySince = performance.now();
    };
    let result: T;
    try {
      const tx: Transaction = {
        query: async (sql, params = []) => {
          await breathe();
          return this.rows(this.statement(this.db, sql), params);
        },
        run: async (sql, params = []) => {
          await breathe();
          return this.changes(sql, params);
        },
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
      this.reader?.close();
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

  private rows(statement: Database.Statement, params: readonly unknown[]): Row[] {
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
      return this.statement(this.db, sql).run(...this.bind(params)).changes;
    } finally {
      this.lent = [];
    }
  }

  /** Parameters as better-sqlite3 binds them: a table parameter becomes the number transferd_rows finds it under. */
  private bind(params: readonly unknown[]): unknown[] {
    return params.map((p) => (p instanceof TableParam ? this.lent.push(p) - 1 : p));
  }

  /** `sql` prepared on `db` (kept); with `readOnly`, undefined for a statement that writes. */
  private statement(db: Database.Database, sql: string): Database.Statement;
  private statement(db: Database.Database, sql: string, readOnly: true): Database.Statement | undefined;
  private statement(db: Database.Database, sql: string, readOnly = false): Database.Statement | undefined {
    const kept = this.prepared.get(db) ?? new Map<string, Database.Statement>();
    this.prepared.set(db, kept);
    let statement = kept.get(sql);
    if (statement === undefined) {
      if (kept.size >= MAX_PREPARED) kept.clear();
      try {
        statement = db.prepare(sql);
      } catch (err) {
        // The read-only connection refuses to prepare some writes (CREATE, PRAGMA that sets): they are writes.
        if (readOnly) return undefined;
        throw err;
      }
      kept.set(sql, statement);
    }
    return readOnly && !statement.readonly ? undefined : statement;
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
