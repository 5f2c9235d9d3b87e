/**
 * The shared store for replicas: PostgreSQL through a `pg` pool.
 *
 * - Migrations run under an advisory lock, so replicas starting together apply them once.
 * - Jobs are claimed with SELECT … FOR UPDATE SKIP LOCKED; leases use the
 *   database clock, so replicas with skewed clocks agree on expiry.
 * - A change of a task's active version is announced with NOTIFY in the same
 *   transaction; every replica LISTENs and drops its cached head. When the
 *   listening connection is lost, replicas reconnect and drop every cached
 *   head (notifications may have been missed meanwhile).
 * - Connection failures surface as StoreUnavailable (HTTP 503); the pool
 *   replaces broken connections, so the store recovers by itself.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { packArtifact, unpackArtifact } from './artifact.js';
import { isConnectionError, StoreUnavailable } from './errors.js';
import { planExamples } from './examples-plan.js';
import { DomainError } from '../errors.js';
import { bytesToVector, decodeCursor, encodeCursor, newId, vectorToBytes } from './ids.js';
import { migrations } from './migrations.js';
import {
  exampleFromRow,
  INITIAL_PROGRESS,
  jobFromRow,
  lapsedError,
  pageOf,
  TASK_SELECT,
  taskFromRow,
  VERSION_COLUMNS,
  versionFromRow,
  type Row,
} from './rows.js';
import type {
  AddExamplesResult,
  ConflictPolicy,
  ExampleRecord,
  JobOutcome,
  JobProgress,
  JobRecord,
  NewExample,
  NewJob,
  NewTask,
  Page,
  Store,
  TaskChange,
  TaskPatch,
  TaskRecord,
  VersionRecord,
} from './types.js';

type Db = pg.Pool | pg.PoolClient;

const CHANNEL = 'transferd_task_change';
const NOW = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
/** Rows per multi-row statement: keeps parameter arrays and statement sizes moderate. */
const CHUNK = 5000;

export interface PostgresOptions {
  url: string;
  /** Schema holding the tables (created if missing); separate schemas keep test runs or deployments apart. */
  schema: string;
  maxLabels: number;
  poolSize: number;
  onWarning?: (msg: string, fields: Record<string, unknown>) => void;
}

/** Names our connections in pg_stat_activity, per schema (operators and tests can find them). */
export function applicationName(schema: string): string {
  return `transferd:${schema}`.slice(0, 63);
}

function chunks<T>(xs: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly changes = new EventEmitter<{ change: [TaskChange] }>();
  private listener: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: PostgresOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(o.schema)) throw new Error(`schema "${o.schema}": use lower-case letters, digits and _`);
    this.pool = new pg.Pool({
      connectionString: o.url,
      max: o.poolSize,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      options: `-c search_path=${o.schema}`,
      application_name: applicationName(o.schema),
    });
    // An idle connection that dies (server restart, pg_terminate_backend) must not crash the process.
    this.pool.on('error', (err) => o.onWarning?.('idle database connection failed', { error: err.message }));
  }

  /** Runs `fn` and turns connection failures into StoreUnavailable. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isConnectionError(err)) throw new StoreUnavailable(err);
      throw err;
    }
  }

  private q(sql: string, params: unknown[] = [], db: Db = this.pool): Promise<Row[]> {
    return this.guard(async () => (await db.query(sql, params)).rows as Row[]);
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

  /** A transaction on one pooled connection; rolled back if `fn` throws. */
  private tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.guard(async () => {
      const c = await this.checkout();
      try {
        await c.query('BEGIN');
        const r = await fn(c);
        await c.query('COMMIT');
        return r;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.done();
      }
    });
  }

  async migrate(): Promise<void> {
    await this.guard(async () => {
      const c = await this.checkout();
      try {
        // One replica migrates; the others wait here, then find nothing left to do.
        await c.query(`SELECT pg_advisory_lock(hashtext('transferd-migrations-' || $1))`, [this.o.schema]);
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.o.schema}`);
        await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
        const applied = new Set((await c.query('SELECT version FROM schema_migrations')).rows.map((r: Row) => Number(r.version)));
        for (const m of migrations('postgres')) {
          if (applied.has(m.version)) continue;
          await c.query('BEGIN');
          try {
            await c.query(m.sql);
            await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
            await c.query('COMMIT');
          } catch (err) {
            await c.query('ROLLBACK');
            throw err;
          }
        }
      } finally {
        await c.query(`SELECT pg_advisory_unlock(hashtext('transferd-migrations-' || $1))`, [this.o.schema]).catch(() => undefined);
        c.done();
      }
    });
    await this.listen();
  }

  /** LISTENs for task changes on a dedicated connection; on loss, reconnects and resets every cache. */
  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.o.url,
      connectionTimeoutMillis: 3000,
      options: `-c search_path=${this.o.schema}`,
      application_name: applicationName(this.o.schema),
    });
    const retry = (why: string) => {
      if (this.closed || this.listener !== client) return;
      this.listener = undefined;
      this.o.onWarning?.('lost the notification connection; reconnecting', { reason: why });
      client.end().catch(() => undefined);
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => void this.listen().catch((err) => retry(err.message)), 500);
      this.reconnectTimer.unref();
    };
    this.listener = client;
    client.on('error', (err) => retry(err.message));
    client.on('end', () => retry('connection ended'));
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      try {
        this.changes.emit('change', JSON.parse(n.payload) as TaskChange);
      } catch {
        // not ours
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      retry((err as Error).message);
      return;
    }
    // Whatever changed while nobody listened is unknown: every replica cache must be dropped.
    this.changes.emit('change', { tenantId: '*', taskId: '*', activeVersion: null });
  }

  async ping(): Promise<void> {
    await this.q('SELECT 1');
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.listener?.end().catch(() => undefined);
    await this.pool.end();
  }

  onTaskChange(listener: (change: TaskChange) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }

  private notify(c: Db, change: TaskChange): Promise<Row[]> {
    return this.q(`SELECT pg_notify('${CHANNEL}', $1)`, [JSON.stringify(change)], c);
  }

  // ---- tasks

  async createTask(task: NewTask): Promise<TaskRecord> {
    const id = newId('task');
    try {
      await this.q('INSERT INTO tasks (id, tenant_id, name, description, spec, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)', [
        id,
        task.tenantId,
        task.name,
        task.description,
        JSON.stringify(task.spec),
        Date.now(),
      ]);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new DomainError('name_taken', `a task named "${task.name}" already exists`, 'name');
      throw err;
    }
    return (await this.getTask(task.tenantId, id))!;
  }

  async getTask(tenantId: string, taskId: string): Promise<TaskRecord | undefined> {
    const [row] = await this.q(`${TASK_SELECT} WHERE t.tenant_id = $1 AND t.id = $2`, [tenantId, taskId]);
    return row && taskFromRow(row);
  }

  async listTasks(tenantId: string, limit: number, after?: string): Promise<Page<TaskRecord>> {
    const cursor = decodeCursor(after);
    const rows = cursor
      ? await this.q(`${TASK_SELECT} WHERE t.tenant_id = $1 AND (t.created_at, t.id) > ($2, $3) ORDER BY t.created_at, t.id LIMIT $4`, [
          tenantId,
          cursor[0],
          cursor[1],
          limit + 1,
        ])
      : await this.q(`${TASK_SELECT} WHERE t.tenant_id = $1 ORDER BY t.created_at, t.id LIMIT $2`, [tenantId, limit + 1]);
    return pageOf(rows.map(taskFromRow), limit, (t) => encodeCursor(t.createdAt, t.id));
  }

  async updateTask(tenantId: string, taskId: string, patch: TaskPatch): Promise<TaskRecord | undefined> {
    const current = await this.getTask(tenantId, taskId);
    if (!current) return undefined;
    try {
      await this.q('UPDATE tasks SET name = $1, description = $2, spec = $3, updated_at = $4 WHERE tenant_id = $5 AND id = $6', [
        patch.name ?? current.name,
        patch.description === undefined ? current.description : patch.description,
        JSON.stringify(patch.spec ?? current.spec),
        Date.now(),
        tenantId,
        taskId,
      ]);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new DomainError('name_taken', `a task named "${patch.name}" already exists`, 'name');
      throw err;
    }
    return this.getTask(tenantId, taskId);
  }

  async deleteTask(tenantId: string, taskId: string): Promise<boolean> {
    return this.tx(async (c) => {
      const rows = await this.q('DELETE FROM tasks WHERE tenant_id = $1 AND id = $2 RETURNING id', [tenantId, taskId], c);
      if (rows.length) await this.notify(c, { tenantId, taskId, activeVersion: null });
      return rows.length > 0;
    });
  }

  // ---- examples

  private async checkLabelLimit(c: Db, taskId: string): Promise<void> {
    const [row] = await this.q('SELECT COUNT(DISTINCT label) AS n FROM examples WHERE task_id = $1', [taskId], c);
    const labels = Number(row!.n);
    if (labels > this.o.maxLabels) throw new DomainError('too_many_labels', `the task would have ${labels} distinct labels; the limit is ${this.o.maxLabels}`);
  }

  async addExamples(tenantId: string, taskId: string, examples: NewExample[], policy: ConflictPolicy): Promise<AddExamplesResult> {
    return this.tx(async (c) => {
      // Uploads to one task take turns, so duplicate detection sees every committed row.
      await this.q('SELECT id FROM tasks WHERE id = $1 FOR UPDATE', [taskId], c);
      const existing = new Map<string, string>();
      for (const part of chunks([...new Set(examples.map((e) => e.textHash))])) {
        for (const r of await this.q('SELECT text_hash, label FROM examples WHERE task_id = $1 AND text_hash = ANY($2::text[])', [taskId, part], c)) {
          existing.set(String(r.text_hash), String(r.label));
        }
      }
      const plan = planExamples(existing, examples, policy);
      if (plan.result.conflicts.length) return plan.result;
      const now = Date.now();
      for (const part of chunks(plan.insert)) {
        await this.q(
          `INSERT INTO examples (tenant_id, task_id, text, text_hash, label, created_at)
           SELECT $1, $2, t, h, l, $3 FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(t, h, l, o) ORDER BY o`,
          [tenantId, taskId, now, part.map((e) => e.text), part.map((e) => e.textHash), part.map((e) => e.label)],
          c,
        );
      }
      for (const part of chunks(plan.relabel)) {
        await this.q(
          'UPDATE examples e SET label = u.l FROM unnest($2::text[], $3::text[]) AS u(h, l) WHERE e.task_id = $1 AND e.text_hash = u.h',
          [taskId, part.map((r) => r.textHash), part.map((r) => r.label)],
          c,
        );
      }
      await this.checkLabelLimit(c, taskId);
      await this.q('UPDATE tasks SET updated_at = $1 WHERE id = $2', [now, taskId], c);
      return plan.result;
    });
  }

  async listExamples(tenantId: string, taskId: string, options: { limit: number; after?: number; label?: string }): Promise<Page<ExampleRecord>> {
    const rows =
      options.label === undefined
        ? await this.q('SELECT * FROM examples WHERE tenant_id = $1 AND task_id = $2 AND id > $3 ORDER BY id LIMIT $4', [
            tenantId,
            taskId,
            options.after ?? 0,
            options.limit + 1,
          ])
        : await this.q('SELECT * FROM examples WHERE tenant_id = $1 AND task_id = $2 AND id > $3 AND label = $4 ORDER BY id LIMIT $5', [
            tenantId,
            taskId,
            options.after ?? 0,
            options.label,
            options.limit + 1,
          ]);
    return pageOf(rows.map(exampleFromRow), options.limit, (e) => String(e.id));
  }

  async getExample(tenantId: string, taskId: string, exampleId: number): Promise<ExampleRecord | undefined> {
    const [row] = await this.q('SELECT * FROM examples WHERE tenant_id = $1 AND task_id = $2 AND id = $3', [tenantId, taskId, exampleId]);
    return row && exampleFromRow(row);
  }

  async relabelExample(tenantId: string, taskId: string, exampleId: number, label: string): Promise<ExampleRecord | undefined> {
    return this.tx(async (c) => {
      await this.q('SELECT id FROM tasks WHERE id = $1 FOR UPDATE', [taskId], c);
      const [row] = await this.q(
        'UPDATE examples SET label = $1 WHERE tenant_id = $2 AND task_id = $3 AND id = $4 RETURNING *',
        [label, tenantId, taskId, exampleId],
        c,
      );
      if (!row) return undefined;
      await this.checkLabelLimit(c, taskId);
      return exampleFromRow(row);
    });
  }

  async deleteExample(tenantId: string, taskId: string, exampleId: number): Promise<boolean> {
    return (await this.q('DELETE FROM examples WHERE tenant_id = $1 AND task_id = $2 AND id = $3 RETURNING id', [tenantId, taskId, exampleId])).length > 0;
  }

  async deleteExamples(tenantId: string, taskId: string, label?: string): Promise<number> {
    const rows =
      label === undefined
        ? await this.q('WITH d AS (DELETE FROM examples WHERE tenant_id = $1 AND task_id = $2 RETURNING 1) SELECT COUNT(*) AS n FROM d', [tenantId, taskId])
        : await this.q('WITH d AS (DELETE FROM examples WHERE tenant_id = $1 AND task_id = $2 AND label = $3 RETURNING 1) SELECT COUNT(*) AS n FROM d', [
            tenantId,
            taskId,
            label,
          ]);
    return Number(rows[0]!.n);
  }

  async labelCounts(tenantId: string, taskId: string): Promise<Map<string, number>> {
    const rows = await this.q('SELECT label, COUNT(*) AS n FROM examples WHERE tenant_id = $1 AND task_id = $2 GROUP BY label ORDER BY label', [
      tenantId,
      taskId,
    ]);
    return new Map(rows.map((r) => [String(r.label), Number(r.n)]));
  }

  async allExamples(tenantId: string, taskId: string): Promise<ExampleRecord[]> {
    return (await this.q('SELECT * FROM examples WHERE tenant_id = $1 AND task_id = $2 ORDER BY id', [tenantId, taskId])).map(exampleFromRow);
  }

  // ---- features

  async getFeatures(specKey: string, textHashes: string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const part of chunks(textHashes)) {
      for (const r of await this.q('SELECT text_hash, vector FROM features WHERE spec_key = $1 AND text_hash = ANY($2::text[])', [specKey, part])) {
        out.set(String(r.text_hash), bytesToVector(r.vector as Buffer));
      }
    }
    return out;
  }

  async putFeatures(specKey: string, entries: Array<[string, Float32Array]>): Promise<void> {
    for (const part of chunks(entries, 2000)) {
      await this.q(
        'INSERT INTO features (spec_key, text_hash, vector) SELECT $1, h, v FROM unnest($2::text[], $3::bytea[]) AS u(h, v) ON CONFLICT DO NOTHING',
        [specKey, part.map(([h]) => h), part.map(([, v]) => vectorToBytes(v))],
      );
    }
  }

  // ---- jobs

  async createJob(job: NewJob): Promise<JobRecord> {
    const [row] = await this.q(
      `INSERT INTO jobs (id, tenant_id, task_id, state, request, progress, max_attempts, created_at) VALUES ($1, $2, $3, 'queued', $4, $5, $6, ${NOW}) RETURNING *`,
      [newId('job'), job.tenantId, job.taskId, JSON.stringify(job.request), INITIAL_PROGRESS, job.maxAttempts],
    );
    return jobFromRow(row!);
  }

  async getJob(tenantId: string, taskId: string, jobId: string): Promise<JobRecord | undefined> {
    const [row] = await this.q('SELECT * FROM jobs WHERE tenant_id = $1 AND task_id = $2 AND id = $3', [tenantId, taskId, jobId]);
    return row && jobFromRow(row);
  }

  async listJobs(tenantId: string, taskId: string, limit: number, after?: string): Promise<Page<JobRecord>> {
    const cursor = decodeCursor(after);
    const rows = cursor
      ? await this.q('SELECT * FROM jobs WHERE tenant_id = $1 AND task_id = $2 AND (created_at, id) > ($3, $4) ORDER BY created_at, id LIMIT $5', [
          tenantId,
          taskId,
          cursor[0],
          cursor[1],
          limit + 1,
        ])
      : await this.q('SELECT * FROM jobs WHERE tenant_id = $1 AND task_id = $2 ORDER BY created_at, id LIMIT $3', [tenantId, taskId, limit + 1]);
    return pageOf(rows.map(jobFromRow), limit, (j) => encodeCursor(j.createdAt, j.id));
  }

  async cancelJob(tenantId: string, taskId: string, jobId: string): Promise<JobRecord | undefined> {
    await this.q(
      `UPDATE jobs SET state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
                       finished_at = CASE WHEN state = 'queued' THEN ${NOW} ELSE finished_at END,
                       cancel_requested = (state = 'running') OR cancel_requested,
                       progress = CASE WHEN state = 'queued' THEN jsonb_set(progress::jsonb, '{phase}', '"cancelled"')::text ELSE progress END
       WHERE tenant_id = $1 AND task_id = $2 AND id = $3 AND state IN ('queued', 'running')`,
      [tenantId, taskId, jobId],
    );
    return this.getJob(tenantId, taskId, jobId);
  }

  async claimJob(owner: string, leaseMs: number): Promise<JobRecord | undefined> {
    return this.tx(async (c) => {
      await this.q(
        `UPDATE jobs SET state = 'cancelled', finished_at = ${NOW}, lease_owner = NULL WHERE state = 'running' AND lease_expires_at < ${NOW} AND cancel_requested`,
        [],
        c,
      );
      await this.q(
        `UPDATE jobs SET state = 'failed', finished_at = ${NOW}, lease_owner = NULL, error = $1 WHERE state = 'running' AND lease_expires_at < ${NOW} AND attempts >= max_attempts`,
        [JSON.stringify(lapsedError())],
        c,
      );
      // SKIP LOCKED: replicas claiming at the same moment take different jobs instead of queueing on one row.
      const [next] = await this.q(
        `SELECT id FROM jobs WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < ${NOW}) ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [],
        c,
      );
      if (!next) return undefined;
      const [row] = await this.q(
        `UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = ${NOW} + $2, attempts = attempts + 1, started_at = COALESCE(started_at, ${NOW})
         WHERE id = $3 RETURNING *`,
        [owner, leaseMs, next.id],
        c,
      );
      return jobFromRow(row!);
    });
  }

  async heartbeat(jobId: string, owner: string, leaseMs: number, progress: JobProgress): Promise<{ owned: boolean; cancelRequested: boolean }> {
    const [row] = await this.q(
      `UPDATE jobs SET lease_expires_at = ${NOW} + $1, progress = $2 WHERE id = $3 AND lease_owner = $4 AND state = 'running' RETURNING cancel_requested`,
      [leaseMs, JSON.stringify(progress), jobId, owner],
    );
    return row ? { owned: true, cancelRequested: Boolean(row.cancel_requested) } : { owned: false, cancelRequested: false };
  }

  async releaseJob(jobId: string, owner: string): Promise<boolean> {
    const rows = await this.q(
      `UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, attempts = GREATEST(attempts - 1, 0) WHERE id = $1 AND lease_owner = $2 AND state = 'running' RETURNING id`,
      [jobId, owner],
    );
    return rows.length > 0;
  }

  async finishJob(jobId: string, owner: string, outcome: JobOutcome): Promise<JobRecord | undefined> {
    const packed = outcome.version ? await packArtifact(outcome.version.artifact) : undefined;
    return this.tx(async (c) => {
      const [job] = await this.q(`SELECT * FROM jobs WHERE id = $1 AND lease_owner = $2 AND state = 'running' FOR UPDATE`, [jobId, owner], c);
      if (!job) return undefined;
      let number: number | null = null;
      if (outcome.version && packed) {
        const v = outcome.version;
        const [task] = await this.q('UPDATE tasks SET next_version = next_version + 1 WHERE id = $1 RETURNING next_version - 1 AS number', [job.task_id], c);
        number = Number(task!.number);
        await this.q(
          `INSERT INTO versions (id, tenant_id, task_id, number, head_type, params, spec, labels, metrics, report, example_count, training_ms, job_id, created_at, artifact, artifact_bytes)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, ${NOW}, $14, $15)`,
          [
            newId('ver'),
            job.tenant_id,
            job.task_id,
            number,
            v.headType,
            JSON.stringify(v.params),
            JSON.stringify(v.spec),
            JSON.stringify(v.labels),
            JSON.stringify(v.metrics),
            JSON.stringify(v.report),
            v.exampleCount,
            Math.round(v.trainingMs),
            jobId,
            packed.bytes,
            packed.jsonBytes,
          ],
          c,
        );
        if (outcome.activate) {
          await this.q(`UPDATE tasks SET active_version = $1, updated_at = ${NOW} WHERE id = $2`, [number, job.task_id], c);
          await this.notify(c, { tenantId: String(job.tenant_id), taskId: String(job.task_id), activeVersion: number });
        }
      }
      const progress = outcome.progress ?? (JSON.parse(String(job.progress)) as JobProgress);
      const [row] = await this.q(
        `UPDATE jobs SET state = $1, error = $2, version_number = $3, finished_at = ${NOW}, lease_owner = NULL, lease_expires_at = NULL, progress = $4 WHERE id = $5 RETURNING *`,
        [
          outcome.state,
          outcome.error ? JSON.stringify(outcome.error) : null,
          number,
          JSON.stringify({ ...progress, phase: outcome.state, percent: outcome.state === 'succeeded' ? 100 : progress.percent }),
          jobId,
        ],
        c,
      );
      return jobFromRow(row!);
    });
  }

  // ---- versions

  async listVersions(tenantId: string, taskId: string): Promise<VersionRecord[]> {
    return (await this.q(`SELECT ${VERSION_COLUMNS} FROM versions WHERE tenant_id = $1 AND task_id = $2 ORDER BY number`, [tenantId, taskId])).map(
      versionFromRow,
    );
  }

  async getVersion(tenantId: string, taskId: string, number: number): Promise<VersionRecord | undefined> {
    const [row] = await this.q(`SELECT ${VERSION_COLUMNS} FROM versions WHERE tenant_id = $1 AND task_id = $2 AND number = $3`, [tenantId, taskId, number]);
    return row && versionFromRow(row);
  }

  async getArtifact(tenantId: string, taskId: string, number: number): Promise<unknown | undefined> {
    const bytes = await this.getArtifactBytes(tenantId, taskId, number);
    return bytes && unpackArtifact(bytes);
  }

  async getArtifactBytes(tenantId: string, taskId: string, number: number): Promise<Uint8Array | undefined> {
    const [row] = await this.q('SELECT artifact FROM versions WHERE tenant_id = $1 AND task_id = $2 AND number = $3', [tenantId, taskId, number]);
    return row ? (row.artifact as Buffer) : undefined;
  }

  async activateVersion(tenantId: string, taskId: string, number: number): Promise<TaskRecord | undefined> {
    const done = await this.tx(async (c) => {
      const [exists] = await this.q('SELECT 1 FROM versions WHERE tenant_id = $1 AND task_id = $2 AND number = $3', [tenantId, taskId, number], c);
      if (!exists) return false;
      await this.q(`UPDATE tasks SET active_version = $1, updated_at = ${NOW} WHERE tenant_id = $2 AND id = $3`, [number, tenantId, taskId], c);
      await this.notify(c, { tenantId, taskId, activeVersion: number });
      return true;
    });
    return done ? this.getTask(tenantId, taskId) : undefined;
  }

  async deleteVersion(tenantId: string, taskId: string, number: number): Promise<'deleted' | 'active' | 'missing'> {
    return this.tx(async (c) => {
      const [task] = await this.q('SELECT active_version FROM tasks WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [tenantId, taskId], c);
      if (!task) return 'missing' as const;
      if (task.active_version !== null && Number(task.active_version) === number) return 'active' as const;
      const rows = await this.q('DELETE FROM versions WHERE tenant_id = $1 AND task_id = $2 AND number = $3 RETURNING id', [tenantId, taskId, number], c);
      return rows.length ? ('deleted' as const) : ('missing' as const);
    });
  }
}
