/**
 * What the SQL store needs from a database, and nothing more: statements
 * with `?` placeholders, transactions, the migration lock and change notices.
 * The store's SQL is written once against this; each database supplies an
 * adapter (sqlite.ts, postgres.ts) and a Dialect: the few fragments of SQL
 * the two databases spell differently.
 */
import type { Row } from './rows.js';
import type { StoreChange } from './types.js';

export interface Statements {
  /** The rows a statement returns (none for a statement that returns none). */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a statement; resolves to the number of rows it inserted, changed or deleted. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/** Statements inside one transaction. A handle is good only until its transaction ends. */
export interface Transaction extends Statements {
  /** Announces a change to every listener (on every replica, where the database can tell), once and only if the transaction commits. */
  notify(change: StoreChange): Promise<void>;
}

/** One connection on which transactions can run, one after another. */
export interface Session extends Statements {
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when
   * it throws. Inside `fn`, every statement goes through `tx`: on SQLite one
   * made on the adapter would wait for this very transaction to end (never),
   * on PostgreSQL it would run outside it.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

export interface Adapter extends Session {
  readonly dialect: Dialect;
  /** Proves the database answers (see Store.ping): never queued behind this process's transactions. */
  ping(): Promise<void>;
  /** Runs `fn` holding the lock that lets one process at a time migrate the schema. */
  migrating<T>(fn: (session: Session) => Promise<T>): Promise<T>;
  /** Starts delivering the changes transactions announce (on PostgreSQL, from every replica; a `'*'` change after a gap). */
  listen(listener: (change: StoreChange) => void): Promise<void>;
  close(): Promise<void>;
}

/** A piece of SQL with the parameters of its placeholders, in order. */
export interface Fragment {
  sql: string;
  params: unknown[];
}

/** One column of a table passed as a parameter. */
export type Column =
  | { type: 'text'; values: readonly string[] }
  | { type: 'integer'; values: readonly number[] }
  | { type: 'bytes'; values: readonly Buffer[] };

export const text = (values: readonly string[]): Column => ({ type: 'text', values });
export const integer = (values: readonly number[]): Column => ({ type: 'integer', values });
export const bytes = (values: readonly Buffer[]): Column => ({ type: 'bytes', values });

/** What the migrations spell differently: column types, and one fact of the schema only each database can tell. */
export interface ColumnTypes {
  bigint: string;
  bytes: string;
  /** An integer primary key the database numbers. */
  serial: string;
  bool: string;
  false: string;
  /** Ends CREATE TABLE for a table read only through its primary key. */
  keyedTable: string;
  /** The highest examples.id the database ever issued, deleted rows included; 0 before any. */
  lastExampleId: string;
}

/** The SQL the two databases spell differently; everything else is written once. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** The database's clock in epoch milliseconds: one value throughout a statement, the same clock for every replica. */
  readonly now: string;
  /** Ends a SELECT whose rows the transaction goes on to change: other writers wait for the commit. */
  readonly forUpdate: string;
  /** Ends a SELECT like forUpdate, but rows another transaction holds are passed over instead of waited for. */
  readonly forUpdateSkipLocked: string;
  /** A statement that makes job claims take turns (held until the transaction ends), where transactions do not already. */
  readonly claimLock: string | null;
  /** `column ${inList}` with `list(values)` as its parameter: membership in a list of texts. */
  readonly inList: string;
  list(values: readonly string[]): unknown;
  /** A table named `alias` from parallel columns, with their position in column `o`: many rows in one statement. */
  rows(alias: string, columns: Record<string, Column>): Fragment;
  isUniqueViolation(err: unknown): boolean;
  /** True when the JSON array of texts in `column` holds the text of its one `?` parameter (a multi-label example's set). */
  jsonArrayHas(column: string): string;
  /** The length in bytes of a text (UTF-8) or binary expression. */
  octetLength(expr: string): string;
  readonly types: ColumnTypes;
}

/**
 * BEGIN, `fn`, COMMIT; ROLLBACK when anything throws (a failed rollback is
 * not the error worth reporting). `fn` gets a handle that refuses statements
 * once the transaction has ended: kept and used later, it would run them on
 * a connection the transaction no longer owns.
 */
export async function transact<T>(tx: Transaction, begin: string, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  let ended = false;
  const live =
    <A extends unknown[], R>(statement: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (ended) throw new Error('a statement on a transaction that has ended');
      return statement(...args);
    };
  const handle: Transaction = { query: live(tx.query.bind(tx)), run: live(tx.run.bind(tx)), exec: live(tx.exec.bind(tx)), notify: live(tx.notify.bind(tx)) };
  await tx.exec(begin);
  try {
    const result = await fn(handle);
    await tx.exec('COMMIT');
    return result;
  } catch (err) {
    await tx.exec('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    ended = true;
  }
}
