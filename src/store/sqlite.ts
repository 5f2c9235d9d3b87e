/**
 * The embedded store: one SQLite file (WAL mode) under the data directory.
 * better-sqlite3 is synchronous; every statement here is short (indexed
 * lookups, bounded writes), and each multi-row write is one transaction.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { packArtifact, unpackArtifact } from './artifact.js';
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

export interface SqliteOptions {
  path: string;
  maxLabels: number;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly changes = new EventEmitter<{ change: [TaskChange] }>();

  constructor(private readonly options: SqliteOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const applied = new Set(
      this.db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((r) => (r as Row).version as number),
    );
    for (const m of migrations('sqlite')) {
      if (applied.has(m.version)) continue;
      this.db
        .transaction(() => {
          this.db.exec(m.sql);
          this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
        })
        .immediate();
    }
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.db.close();
  }

  onTaskChange(listener: (change: TaskChange) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }

  private emitChange(tenantId: string, taskId: string, activeVersion: number | null): void {
    this.changes.emit('change', { tenantId, taskId, activeVersion });
  }

  // ---- tasks

  async createTask(task: NewTask): Promise<TaskRecord> {
    const now = Date.now();
    const id = newId('task');
    try {
      this.db
        .prepare('INSERT INTO tasks (id, tenant_id, name, description, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, task.tenantId, task.name, task.description, JSON.stringify(task.spec), now, now);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw new DomainError('name_taken', `a task named "${task.name}" already exists`, 'name');
      throw err;
    }
    return (await this.getTask(task.tenantId, id))!;
  }

  async getTask(tenantId: string, taskId: string): Promise<TaskRecord | undefined> {
    const row = this.db.prepare(`${TASK_SELECT} WHERE t.tenant_id = ? AND t.id = ?`).get(tenantId, taskId) as Row | undefined;
    return row && taskFromRow(row);
  }

  async listTasks(tenantId: string, limit: number, after?: string): Promise<Page<TaskRecord>> {
    const cursor = decodeCursor(after);
    const rows = (
      cursor
        ? this.db
            .prepare(`${TASK_SELECT} WHERE t.tenant_id = ? AND (t.created_at, t.id) > (?, ?) ORDER BY t.created_at, t.id LIMIT ?`)
            .all(tenantId, cursor[0], cursor[1], limit + 1)
        : this.db.prepare(`${TASK_SELECT} WHERE t.tenant_id = ? ORDER BY t.created_at, t.id LIMIT ?`).all(tenantId, limit + 1)
    ) as Row[];
    return pageOf(rows.map(taskFromRow), limit, (t) => encodeCursor(t.createdAt, t.id));
  }

  async updateTask(tenantId: string, taskId: string, patch: TaskPatch): Promise<TaskRecord | undefined> {
    const current = await this.getTask(tenantId, taskId);
    if (!current) return undefined;
    try {
      this.db
        .prepare('UPDATE tasks SET name = ?, description = ?, spec = ?, updated_at = ? WHERE tenant_id = ? AND id = ?')
        .run(
          patch.name ?? current.name,
          patch.description === undefined ? current.description : patch.description,
          JSON.stringify(patch.spec ?? current.spec),
          Date.now(),
          tenantId,
          taskId,
        );
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw new DomainError('name_taken', `a task named "${patch.name}" already exists`, 'name');
      throw err;
    }
    return this.getTask(tenantId, taskId);
  }

  async deleteTask(tenantId: string, taskId: string): Promise<boolean> {
    const deleted = this.db.prepare('DELETE FROM tasks WHERE tenant_id = ? AND id = ?').run(tenantId, taskId).changes > 0;
    if (deleted) this.emitChange(tenantId, taskId, null);
    return deleted;
  }

  // ---- examples

  async addExamples(tenantId: string, taskId: string, examples: NewExample[], policy: ConflictPolicy): Promise<AddExamplesResult> {
    const lookup = this.db.prepare('SELECT label FROM examples WHERE task_id = ? AND text_hash = ?');
    const insert = this.db.prepare('INSERT INTO examples (tenant_id, task_id, text, text_hash, label, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    const relabel = this.db.prepare('UPDATE examples SET label = ? WHERE task_id = ? AND text_hash = ?');
    return this.db
      .transaction(() => {
        const existing = new Map<string, string>();
        for (const ex of examples) {
          if (existing.has(ex.textHash)) continue;
          const row = lookup.get(taskId, ex.textHash) as Row | undefined;
          if (row) existing.set(ex.textHash, String(row.label));
        }
        const plan = planExamples(existing, examples, policy);
        if (plan.result.conflicts.length) return plan.result;
        const now = Date.now();
        for (const ex of plan.insert) insert.run(tenantId, taskId, ex.text, ex.textHash, ex.label, now);
        for (const r of plan.relabel) relabel.run(r.label, taskId, r.textHash);
        const labels = (this.db.prepare('SELECT COUNT(DISTINCT label) AS n FROM examples WHERE task_id = ?').get(taskId) as Row).n as number;
        if (labels > this.options.maxLabels) {
          // Throwing rolls the whole upload back.
          throw new DomainError('too_many_labels', `the task would have ${labels} distinct labels; the limit is ${this.options.maxLabels}`);
        }
        this.db.prepare('UPDATE tasks SET updated_at = ? WHERE id = ?').run(now, taskId);
        return plan.result;
      })
      .immediate();
  }

  async listExamples(tenantId: string, taskId: string, options: { limit: number; after?: number; label?: string }): Promise<Page<ExampleRecord>> {
    const where = ['tenant_id = ?', 'task_id = ?', 'id > ?'];
    const args: unknown[] = [tenantId, taskId, options.after ?? 0];
    if (options.label !== undefined) {
      where.push('label = ?');
      args.push(options.label);
    }
    const rows = this.db.prepare(`SELECT * FROM examples WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`).all(...args, options.limit + 1) as Row[];
    return pageOf(rows.map(exampleFromRow), options.limit, (e) => String(e.id));
  }

  async getExample(tenantId: string, taskId: string, exampleId: number): Promise<ExampleRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM examples WHERE tenant_id = ? AND task_id = ? AND id = ?').get(tenantId, taskId, exampleId) as Row | undefined;
    return row && exampleFromRow(row);
  }

  async relabelExample(tenantId: string, taskId: string, exampleId: number, label: string): Promise<ExampleRecord | undefined> {
    return this.db
      .transaction(() => {
        const changed = this.db
          .prepare('UPDATE examples SET label = ? WHERE tenant_id = ? AND task_id = ? AND id = ?')
          .run(label, tenantId, taskId, exampleId).changes;
        if (!changed) return undefined;
        const labels = (this.db.prepare('SELECT COUNT(DISTINCT label) AS n FROM examples WHERE task_id = ?').get(taskId) as Row).n as number;
        if (labels > this.options.maxLabels)
          throw new DomainError('too_many_labels', `the task would have ${labels} distinct labels; the limit is ${this.options.maxLabels}`);
        return exampleFromRow(this.db.prepare('SELECT * FROM examples WHERE id = ?').get(exampleId) as Row);
      })
      .immediate();
  }

  async deleteExample(tenantId: string, taskId: string, exampleId: number): Promise<boolean> {
    return this.db.prepare('DELETE FROM examples WHERE tenant_id = ? AND task_id = ? AND id = ?').run(tenantId, taskId, exampleId).changes > 0;
  }

  async deleteExamples(tenantId: string, taskId: string, label?: string): Promise<number> {
    return label === undefined
      ? this.db.prepare('DELETE FROM examples WHERE tenant_id = ? AND task_id = ?').run(tenantId, taskId).changes
      : this.db.prepare('DELETE FROM examples WHERE tenant_id = ? AND task_id = ? AND label = ?').run(tenantId, taskId, label).changes;
  }

  async labelCounts(tenantId: string, taskId: string): Promise<Map<string, number>> {
    const rows = this.db
      .prepare('SELECT label, COUNT(*) AS n FROM examples WHERE tenant_id = ? AND task_id = ? GROUP BY label ORDER BY label')
      .all(tenantId, taskId) as Row[];
    return new Map(rows.map((r) => [String(r.label), Number(r.n)]));
  }

  async allExamples(tenantId: string, taskId: string): Promise<ExampleRecord[]> {
    return (this.db.prepare('SELECT * FROM examples WHERE tenant_id = ? AND task_id = ? ORDER BY id').all(tenantId, taskId) as Row[]).map(exampleFromRow);
  }

  // ---- features

  async getFeatures(key: string, textHashes: string[]): Promise<Map<string, Float32Array>> {
    const get = this.db.prepare('SELECT vector FROM features WHERE spec_key = ? AND text_hash = ?');
    const out = new Map<string, Float32Array>();
    for (const h of textHashes) {
      const row = get.get(key, h) as Row | undefined;
      if (row) out.set(h, bytesToVector(row.vector as Buffer));
    }
    return out;
  }

  async putFeatures(key: string, entries: Array<[string, Float32Array]>): Promise<void> {
    const put = this.db.prepare('INSERT OR IGNORE INTO features (spec_key, text_hash, vector) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const [h, v] of entries) put.run(key, h, vectorToBytes(v));
    })();
  }

  // ---- jobs

  async createJob(job: NewJob): Promise<JobRecord> {
    const id = newId('job');
    this.db
      .prepare('INSERT INTO jobs (id, tenant_id, task_id, state, request, progress, max_attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, job.tenantId, job.taskId, 'queued', JSON.stringify(job.request), INITIAL_PROGRESS, job.maxAttempts, Date.now());
    return (await this.getJob(job.tenantId, job.taskId, id))!;
  }

  async getJob(tenantId: string, taskId: string, jobId: string): Promise<JobRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM jobs WHERE tenant_id = ? AND task_id = ? AND id = ?').get(tenantId, taskId, jobId) as Row | undefined;
    return row && jobFromRow(row);
  }

  async listJobs(tenantId: string, taskId: string, limit: number, after?: string): Promise<Page<JobRecord>> {
    const cursor = decodeCursor(after);
    const rows = (
      cursor
        ? this.db
            .prepare('SELECT * FROM jobs WHERE tenant_id = ? AND task_id = ? AND (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?')
            .all(tenantId, taskId, cursor[0], cursor[1], limit + 1)
        : this.db.prepare('SELECT * FROM jobs WHERE tenant_id = ? AND task_id = ? ORDER BY created_at, id LIMIT ?').all(tenantId, taskId, limit + 1)
    ) as Row[];
    return pageOf(rows.map(jobFromRow), limit, (j) => encodeCursor(j.createdAt, j.id));
  }

  async cancelJob(tenantId: string, taskId: string, jobId: string): Promise<JobRecord | undefined> {
    const now = Date.now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE jobs SET state = 'cancelled', finished_at = ?, progress = json_set(progress, '$.phase', 'cancelled') WHERE tenant_id = ? AND task_id = ? AND id = ? AND state = 'queued'`,
        )
        .run(now, tenantId, taskId, jobId);
      this.db.prepare(`UPDATE jobs SET cancel_requested = 1 WHERE tenant_id = ? AND task_id = ? AND id = ? AND state = 'running'`).run(tenantId, taskId, jobId);
    })();
    return this.getJob(tenantId, taskId, jobId);
  }

  async claimJob(owner: string, leaseMs: number): Promise<JobRecord | undefined> {
    const now = Date.now();
    const row = this.db
      .transaction(() => {
        // Lapsed leases of jobs that asked to be cancelled, or that used their last attempt, end here.
        this.db
          .prepare(
            `UPDATE jobs SET state = 'cancelled', finished_at = ?, lease_owner = NULL WHERE state = 'running' AND lease_expires_at < ? AND cancel_requested = 1`,
          )
          .run(now, now);
        this.db
          .prepare(
            `UPDATE jobs SET state = 'failed', finished_at = ?, lease_owner = NULL, error = ? WHERE state = 'running' AND lease_expires_at < ? AND attempts >= max_attempts`,
          )
          .run(now, JSON.stringify(lapsedError()), now);
        const next = this.db
          .prepare(`SELECT id FROM jobs WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < ?) ORDER BY created_at, id LIMIT 1`)
          .get(now) as Row | undefined;
        if (!next) return undefined;
        this.db
          .prepare(
            `UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, started_at = COALESCE(started_at, ?) WHERE id = ?`,
          )
          .run(owner, now + leaseMs, now, next.id);
        return this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(next.id) as Row;
      })
      .immediate();
    return row && jobFromRow(row);
  }

  async heartbeat(jobId: string, owner: string, leaseMs: number, progress: JobProgress): Promise<{ owned: boolean; cancelRequested: boolean }> {
    const owned =
      this.db
        .prepare(`UPDATE jobs SET lease_expires_at = ?, progress = ? WHERE id = ? AND lease_owner = ? AND state = 'running'`)
        .run(Date.now() + leaseMs, JSON.stringify(progress), jobId, owner).changes > 0;
    if (!owned) return { owned: false, cancelRequested: false };
    const row = this.db.prepare('SELECT cancel_requested FROM jobs WHERE id = ?').get(jobId) as Row;
    return { owned: true, cancelRequested: Boolean(row.cancel_requested) };
  }

  async releaseJob(jobId: string, owner: string): Promise<boolean> {
    return (
      this.db
        .prepare(
          `UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, attempts = MAX(attempts - 1, 0) WHERE id = ? AND lease_owner = ? AND state = 'running'`,
        )
        .run(jobId, owner).changes > 0
    );
  }

  async finishJob(jobId: string, owner: string, outcome: JobOutcome): Promise<JobRecord | undefined> {
    const packed = outcome.version ? await packArtifact(outcome.version.artifact) : undefined;
    const now = Date.now();
    let changed: TaskChange | undefined;
    const row = this.db
      .transaction(() => {
        const job = this.db.prepare(`SELECT * FROM jobs WHERE id = ? AND lease_owner = ? AND state = 'running'`).get(jobId, owner) as Row | undefined;
        if (!job) return undefined;
        let number: number | null = null;
        if (outcome.version && packed) {
          const v = outcome.version;
          const task = this.db.prepare('SELECT next_version FROM tasks WHERE id = ?').get(job.task_id) as Row;
          number = Number(task.next_version);
          this.db
            .prepare(
              `INSERT INTO versions (id, tenant_id, task_id, number, head_type, params, spec, labels, metrics, report, example_count, training_ms, job_id, created_at, artifact, artifact_bytes)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
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
              now,
              packed.bytes,
              packed.jsonBytes,
            );
          this.db
            .prepare(`UPDATE tasks SET next_version = next_version + 1${outcome.activate ? ', active_version = ?' : ''}, updated_at = ? WHERE id = ?`)
            .run(...(outcome.activate ? [number] : []), now, job.task_id);
          if (outcome.activate) changed = { tenantId: String(job.tenant_id), taskId: String(job.task_id), activeVersion: number };
        }
        const progress = outcome.progress ?? (JSON.parse(String(job.progress)) as JobProgress);
        this.db
          .prepare(
            `UPDATE jobs SET state = ?, error = ?, version_number = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL, progress = ? WHERE id = ?`,
          )
          .run(
            outcome.state,
            outcome.error ? JSON.stringify(outcome.error) : null,
            number,
            now,
            JSON.stringify({ ...progress, phase: outcome.state, percent: outcome.state === 'succeeded' ? 100 : progress.percent }),
            jobId,
          );
        return this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(jobId) as Row;
      })
      .immediate();
    if (changed) this.emitChange(changed.tenantId, changed.taskId, changed.activeVersion);
    return row && jobFromRow(row);
  }

  // ---- versions

  async listVersions(tenantId: string, taskId: string): Promise<VersionRecord[]> {
    return (this.db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions WHERE tenant_id = ? AND task_id = ? ORDER BY number`).all(tenantId, taskId) as Row[]).map(
      versionFromRow,
    );
  }

  async getVersion(tenantId: string, taskId: string, number: number): Promise<VersionRecord | undefined> {
    const row = this.db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions WHERE tenant_id = ? AND task_id = ? AND number = ?`).get(tenantId, taskId, number) as
      | Row
      | undefined;
    return row && versionFromRow(row);
  }

  async getArtifact(tenantId: string, taskId: string, number: number): Promise<unknown | undefined> {
    const bytes = await this.getArtifactBytes(tenantId, taskId, number);
    return bytes && unpackArtifact(bytes);
  }

  async getArtifactBytes(tenantId: string, taskId: string, number: number): Promise<Uint8Array | undefined> {
    const row = this.db.prepare('SELECT artifact FROM versions WHERE tenant_id = ? AND task_id = ? AND number = ?').get(tenantId, taskId, number) as
      | Row
      | undefined;
    return row ? (row.artifact as Buffer) : undefined;
  }

  async activateVersion(tenantId: string, taskId: string, number: number): Promise<TaskRecord | undefined> {
    const exists = this.db.prepare('SELECT 1 FROM versions WHERE tenant_id = ? AND task_id = ? AND number = ?').get(tenantId, taskId, number);
    if (!exists) return undefined;
    this.db.prepare('UPDATE tasks SET active_version = ?, updated_at = ? WHERE tenant_id = ? AND id = ?').run(number, Date.now(), tenantId, taskId);
    this.emitChange(tenantId, taskId, number);
    return this.getTask(tenantId, taskId);
  }

  async deleteVersion(tenantId: string, taskId: string, number: number): Promise<'deleted' | 'active' | 'missing'> {
    return this.db
      .transaction(() => {
        const task = this.db.prepare('SELECT active_version FROM tasks WHERE tenant_id = ? AND id = ?').get(tenantId, taskId) as Row | undefined;
        if (!task) return 'missing' as const;
        if (task.active_version === number) return 'active' as const;
        const n = this.db.prepare('DELETE FROM versions WHERE tenant_id = ? AND task_id = ? AND number = ?').run(tenantId, taskId, number).changes;
        return n ? ('deleted' as const) : ('missing' as const);
      })
      .immediate();
  }
}
