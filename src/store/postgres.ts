/**
 * The shared store for replicas: PostgreSQL through a `pg` pool.
 *
 * - Migrations run under an advisory lock, so replicas starting together apply them once.
 * - Rows a transaction will change are locked (FOR UPDATE); job claims pass
 *   over the rows other replicas are claiming (SKIP LOCKED).
 * - Changes (activations, deletions, cancellations) are announced with NOTIFY
 *   in the transaction that makes them; every replica LISTENs (postgres-listener.ts).
 * - Connection failures surface as StoreUnavailable (HTTP 503); the pool
 *   replaces broken connections, so the store recovers by itself.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { type Adapter, type Dialect, type Session, type Statements, type Transaction, transact } from './adapter.js';
import { isConnectionError, StoreUnavailable } from './errors.js';
import { numberedPlaceholders } from './placeholders.js';
import { ChangeListener } from './postgres-listener.js';
import type { Row } from './rows.js';
import { SqlStore, type SqlStoreOptions } from './sql-store.js';
import type { StoreChange } from './types.js';

const ARRAY_TYPES = { text: 'text[]', integer: 'bigint[]', bytes: 'bytea[]' } as const;

export const postgresDialect: Dialect = {
  name: 'postgres',
  // statement_timestamp(): one value for the whole statement, as SQLite's 'now' is; later statements of a transaction see the clock move on.
  now: '(extract(epoch from statement_timestamp()) * 1000)::bigint',
  forUpdate: ' FOR UPDATE',
  // Replicas claiming at the same moment take different jobs instead of queueing on one row.
  forUpdateSkipLocked: ' FOR UPDATE SKIP LOCKED',
  // Per schema, released at commit. Claims are few (a poll a second per replica), so taking turns costs nothing.
  claimLock: "SELECT pg_advisory_xact_lock(hashtext('transferd-claims-' || current_schema()))",
  inList: '= ANY(?::text[])',
  list: (values) => values,
  rows: (alias, columns) => ({
    sql: `unnest(${Object.values(columns)
      .map((c) => `?::${ARRAY_TYPES[c.type]}`)
      .join(', ')}) WITH ORDINALITY AS ${alias}(${Object.keys(columns).join(', ')}, o)`,
    params: Object.values(columns).map((c) => c.values),
  }),
  isUniqueViolation: (err) => (err as { code?: string }).code === '23505',
  jsonArrayHas: (column) => `EXISTS (SELECT 1 FROM jsonb_array_elements_text(${column}::jsonb) AS v(value) WHERE v.value = ?)`,
  octetLength: (expr) => `octet_length(${expr})`,
  types: {
    bigint: 'BIGINT',
    bytes: 'BYTEA',
    serial: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    bool: 'BOOLEAN',
    false: 'FALSE',
    keyedTable: '',
    // The identity column's sequence (null before its first value).
    lastExampleId:
      "GREATEST(COALESCE(pg_sequence_last_value(pg_get_serial_sequence('examples', 'id')::regclass), 0), (SELECT COALESCE(MAX(id), 0) FROM examples))",
  },
};

const CHANNEL = 'transferd_task_change';

/** Runs `fn` and turns connection failures into StoreUnavailable. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isConnectionError(err)) throw new StoreUnavailable(err);
    throw err;
  }
}

/** Statements on the pool (each on whichever connection is free) or on one checked-out connection. */
class PgStatements implements Statements {
  constructor(protected readonly db: pg.Pool | pg.PoolClient) {}

  query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return guard(async () => (await this.db.query(numberedPlaceholders(sql), [...params])).rows as Row[]);
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return guard(async () => (await this.db.query(numberedPlaceholders(sql), [...params])).rowCount ?? 0);
  }

  exec(script: string): Promise<void> {
    return guard(async () => void (await this.db.query(script)));
  }
}

class PgTransaction extends PgStatements implements Transaction {
  readonly announced: StoreChange[] = [];

  constructor(
    db: pg.PoolClient,
    private readonly origin: string,
  ) {
    super(db);
  }

  // Delivered by the server at commit to every other listening replica; this process delivers its own
  // at once (PgSession), so that what it just did (a revocation, a deletion) holds for its next request.
  async notify(change: StoreChange): Promise<void> {
    await this.query('SELECT pg_notify(?, ?)', [CHANNEL, JSON.stringify({ ...change, origin: this.origin })]);
    this.announced.push(change);
  }
}

/** One checked-out connection, for transactions in turn (the migration lock is held per connection). */
class PgSession extends PgStatements implements Session {
  constructor(
    protected override readonly db: pg.PoolClient,
    private readonly origin: string,
    private readonly deliver: (change: StoreChange) => void,
  ) {
    super(db);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const tx = new PgTransaction(this.db, this.origin);
    const result = await transact(tx, 'BEGIN', fn);
    for (const change of tx.announced) this.deliver(change);
    return result;
  }
}

export interface PostgresOptions extends SqlStoreOptions {
  url: string;
  /** Schema holding the tables (created if missing); separate schemas keep test runs or deployments apart. */
  schema: string;
  poolSize: number;
  onWarning?: (msg: string, fields: Record<string, unknown>) => void;
}

/** Names our connections in pg_stat_activity, per schema (operators and tests can find them). */
export function applicationName(schema: string): string {
  return `transferd:${schema}`.slice(0, 63);
}

export class PostgresAdapter extends PgStatements implements Adapter {
  readonly dialect = postgresDialect;
  private readonly connection: pg.ClientConfig;
  private listener: ChangeListener | undefined;
  private deliverLocal: (change: StoreChange) => void = () => undefined;
  /** Tags this process's notices, so that it delivers them once: itself, at commit. */
  private readonly origin = randomUUID();
  private closed = false;

  constructor(private readonly o: PostgresOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(o.schema)) throw new Error(`schema "${o.schema}": use lower-case letters, digits and _`);
    const connection = {
      connectionString: o.url,
      connectionTimeoutMillis: 3000,
      options: `-c search_path=${o.schema}`,
      application_name: applicationName(o.schema),
    };
    const pool = new pg.Pool({ ...connection, max: o.poolSize, idleTimeoutMillis: 30_000 });
    // An idle connection that dies (server restart, pg_terminate_backend) must not crash the process.
    pool.on('error', (err) => o.onWarning?.('idle database connection failed', { error: err.message }));
    super(pool);
    this.connection = connection;
  }

  private get pool(): pg.Pool {
    return this.db as pg.Pool;
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.onOneConnection((session) => session.transaction(fn));
  }

  migrating<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    return this.onOneConnection(async (session) => {
      const lock = [`transferd-migrations-${this.o.schema}`];
      // One replica migrates; the others wait here, then find nothing left to do.
      await session.query('SELECT pg_advisory_lock(hashtext(?))', lock);
      try {
        await session.exec(`CREATE SCHEMA IF NOT EXISTS ${this.o.schema}`);
        return await fn(session);
      } finally {
        await session.query('SELECT pg_advisory_unlock(hashtext(?))', lock).catch(() => undefined);
      }
    });
  }

  async listen(deliver: (change: StoreChange) => void): Promise<void> {
    if (this.closed || this.listener) return;
    this.deliverLocal = deliver;
    this.listener = new ChangeListener({ client: this.connection, channel: CHANNEL, origin: this.origin, onWarning: this.o.onWarning }, deliver);
    await this.listener.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.close();
    await this.pool.end();
  }

  private onOneConnection<T>(fn: (session: PgSession) => Promise<T>): Promise<T> {
    return guard(async () => {
      const client = await this.checkout();
      try {
        return await fn(new PgSession(client, this.origin, (change) => this.deliverLocal(change)));
      } finally {
        client.done();
      }
    });
  }

  /**
   * A pooled connection for several statements. While checked out, a dropped
   * connection is reported as an 'error' event on the client itself (the pool
   * listens only to idle ones); unheard, it would crash the process. The
   * failure also rejects the statement in progress, which is what callers see.
   */
  private checkout(): Promise<pg.PoolClient & { done: () => void }> {
    const onError = (err: Error) => this.o.onWarning?.('database connection failed during a transaction', { error: err.message });
    return new Promise((resolve, reject) => {
      // The callback form, not the promise: the listener must be attached in the same tick the pool
      // hands the client over, or an error message arriving in the same network read (a connection
      // killed right after it opened) would be emitted with nobody listening.
      this.pool.connect((err, client) => {
        if (err || !client) return reject(err ?? new Error('no database connection'));
        client.on('error', onError);
        resolve(
          Object.assign(client, {
            done: () => {
              client.off('error', onError);
              client.release();
            },
          }),
        );
      });
    });
  }
}

/** The store for replicas: every statement in SqlStore, on a shared PostgreSQL schema. */
export class PostgresStore extends SqlStore {
  constructor(options: PostgresOptions) {
    super(new PostgresAdapter(options), options);
  }
}
