/**
 * Every statement of the store, written once over the database adapter
 * (adapter.ts): `?` placeholders, and the dialect's fragments where SQLite
 * and PostgreSQL spell a thing differently (the clock, row locks, lists and
 * tables passed as parameters). A store method is added here, once.
 *
 * Every timestamp is the database's clock (dialect.now): replicas whose
 * clocks disagree still order tasks and jobs the same way (paging cursors
 * are (created_at, id)) and agree on when a lease lapses.
 */
import { EventEmitter } from 'node:events';
import { DomainError } from '../errors.js';
import { type Adapter, bytes, type Dialect, integer, type Statements, text, type Transaction } from './adapter.js';
import { packArtifact, unpackArtifact } from './artifact.js';
import { planExamples } from './examples-plan.js';
import { labelSetKey, labelsOfKey } from './label-set.js';
import { bytesToVector, decodeCursor, encodeCursor, newId, vectorToBytes } from './ids.js';
import { applyMigrations } from './migrations.js';
import {
  exampleFromRow,
  INITIAL_PROGRESS,
  poolTextFromRow,
  jobFromRow,
  keyFromRow,
  lapsedError,
  pageOf,
  TASK_SELECT,
  taskFromRow,
  clientFromRow,
  VERSION_COLUMNS,
  versionFromRow,
} from './rows.js';
import {
  type AddExamplesResult,
  type ConflictPolicy,
  type ExampleRecord,
  isKeyChange,
  type JobOutcome,
  type NewVersion,
  type JobProgress,
  type JobRecord,
  type JobTrigger,
  type RetrainJob,
  type KeyChange,
  type KeyRecord,
  type AddPoolResult,
  type LabelPrior,
  type NewPoolText,
  type PoolTextRecord,
  LIMIT_FIELDS,
  LIMIT_NAMES,
  type NewExample,
  type NewJob,
  type NewKey,
  type NewTask,
  type Page,
  type Store,
  type TaskChange,
  type TaskPatch,
  type TaskRecord,
  type ClientLimits,
  type ClientRecord,
  type ClientUsage,
  type TunedFacts,
  type VersionEvaluation,
  type VersionRecord,
} from './types.js';

type QuotaField = 'maxTasks' | 'maxExamples' | 'maxStoredBytes' | 'maxActiveJobs';

/** What each quota counts of a client, as a scalar subquery whose every `?` is the client's id. */
const QUOTA_COUNTS: Record<QuotaField, (d: Dialect) => string> = {
  maxTasks: () => '(SELECT COUNT(*) FROM tasks WHERE client_id = ?)',
  maxExamples: () => '((SELECT COUNT(*) FROM examples WHERE client_id = ?) + (SELECT COUNT(*) FROM pool_texts WHERE client_id = ?))',
  maxStoredBytes: (d) =>
    `((SELECT COALESCE(SUM(${d.octetLength('text')} + ${d.octetLength('label')}), 0) FROM examples WHERE client_id = ?)` +
    ` + (SELECT COALESCE(SUM(${d.octetLength('text')}), 0) FROM pool_texts WHERE client_id = ?)` +
    ` + (SELECT COALESCE(SUM(${d.octetLength('artifact')} + COALESCE(${d.octetLength('evaluation')}, 0) + COALESCE(${d.octetLength('tuned_stack')}, 0)), 0) FROM versions WHERE client_id = ?))`,
  maxActiveJobs: () => "(SELECT COUNT(*) FROM jobs WHERE client_id = ? AND state IN ('queued', 'running'))",
};

/** The parameters of a count built from QUOTA_COUNTS: the client's id for each `?`. */
const clientParams = (sql: string, clientId: string) => Array.from(sql.matchAll(/\?/g), () => clientId);

const QUOTA_NAMES: Record<QuotaField, string> = {
  maxTasks: 'tasks',
  maxExamples: 'stored texts (examples and pool texts)',
  maxStoredBytes: 'stored bytes',
  maxActiveJobs: 'queued or running training jobs',
};

/** Rows per statement when many are read or written: keeps parameters and statements moderate in size. */
const CHUNK = 5000;
/** Feature vectors are larger rows: fewer per statement. */
const FEATURE_CHUNK = 2000;
/** Versions named in one change notice: PostgreSQL refuses a NOTIFY payload over 8,000 bytes. */
const NOTICE_VERSIONS = 100;

function chunks<T>(xs: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** The service's default for each client limit; 0 means none. A client's own limits (null fields) fall back to these. */
export type DefaultLimits = { [K in keyof ClientLimits]: number };

export const NO_LIMITS: DefaultLimits = Object.fromEntries(LIMIT_FIELDS.map((f) => [f, 0])) as DefaultLimits;

export interface SqlStoreOptions {
  /** Distinct labels a task may have; a write that would pass it is rolled back. */
  maxLabels: number;
  /** Client limits that apply when a client has none of its own (default: none). */
  limits?: DefaultLimits;
}

export class SqlStore implements Store {
  readonly kind: Store['kind'];
  private readonly changes = new EventEmitter<{ change: [TaskChange]; key: [KeyChange] }>();

  constructor(
    private readonly db: Adapter,
    private readonly options: SqlStoreOptions,
  ) {
    this.kind = db.dialect.name;
  }

  private get d() {
    return this.db.dialect;
  }

  async migrate(): Promise<void> {
    await applyMigrations(this.db);
    await this.db.listen((change) => {
      if (isKeyChange(change)) return void this.changes.emit('key', change);
      this.changes.emit('change', change);
      // A gap in the notices may have hidden revocations too.
      if (change.kind === 'reset') this.changes.emit('key', { kind: 'key', keyId: '*' });
    });
  }

  ping(): Promise<void> {
    return this.db.ping();
  }

  close(): Promise<void> {
    return this.db.close();
  }

  onTaskChange(listener: (change: TaskChange) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }

  onKeyChange(listener: (change: KeyChange) => void): () => void {
    this.changes.on('key', listener);
    return () => this.changes.off('key', listener);
  }

  private get limits(): DefaultLimits {
    return this.options.limits ?? NO_LIMITS;
  }

  /**
   * Refuses a write that would take a client past a quota. Called inside the
   * write's transaction, it locks the client's row first: a client's writes
   * that count toward a quota take turns, so two of them cannot both fit in
   * the last slot.
   */
  private async checkQuota(tx: Statements, clientId: string, field: QuotaField, adding: number): Promise<void> {
    const over = await this.overQuota(tx, clientId, field, adding);
    if (over) {
      const message = `this would make ${over.used + adding} ${QUOTA_NAMES[field]}; the client's limit is ${over.limit}`;
      throw new DomainError('quota_exceeded', message, null, { limit: LIMIT_NAMES[field], used: over.used, requested: adding });
    }
  }

  /** The limit and the count when adding `adding` would pass a quota (locking the client's row as checkQuota says); undefined when it fits. */
  private async overQuota(tx: Statements, clientId: string, field: QuotaField, adding: number): Promise<{ limit: number; used: number } | undefined> {
    const [row] = await tx.query(`SELECT ${LIMIT_NAMES[field]} AS own FROM clients WHERE id = ?${this.d.forUpdate}`, [clientId]);
    const limit = row?.own === null || row?.own === undefined ? this.limits[field] : Number(row.own);
    if (!limit) return undefined;
    const count = QUOTA_COUNTS[field](this.d);
    const [counted] = await tx.query(`SELECT ${count} AS used`, clientParams(count, clientId));
    const used = Number(counted!.used);
    return used + adding > limit ? { limit, used } : undefined;
  }

  // ---- tasks

  async createTask(task: NewTask): Promise<TaskRecord> {
    const id = newId('task');
    await this.db.transaction(async (tx) => {
      await this.checkQuota(tx, task.clientId, 'maxTasks', 1);
      await this.uniqueName(task.name, () =>
        tx.run(
          `INSERT INTO tasks (id, client_id, name, description, spec, kind, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ${this.d.now}, ${this.d.now})`,
          [id, task.clientId, task.name, task.description, JSON.stringify(task.spec), task.kind ?? 'single_label', JSON.stringify(task.labels ?? [])],
        ),
      );
    });
    return (await this.getTask(task.clientId, id))!;
  }

  async getTask(clientId: string, taskId: string): Promise<TaskRecord | undefined> {
    const [row] = await this.db.query(`${TASK_SELECT} WHERE t.client_id = ? AND t.id = ?`, [clientId, taskId]);
    return row && taskFromRow(row);
  }

  async listTasks(clientId: string, limit: number, after?: string): Promise<Page<TaskRecord>> {
    const cursor = decodeCursor(after);
    const rows = cursor
      ? await this.db.query(`${TASK_SELECT} WHERE t.client_id = ? AND (t.created_at, t.id) > (?, ?) ORDER BY t.created_at, t.id LIMIT ?`, [
          clientId,
          cursor[0],
          cursor[1],
          limit + 1,
        ])
      : await this.db.query(`${TASK_SELECT} WHERE t.client_id = ? ORDER BY t.created_at, t.id LIMIT ?`, [clientId, limit + 1]);
    return pageOf(rows.map(taskFromRow), limit, (t) => encodeCursor(t.createdAt, t.id));
  }

  async updateTask(clientId: string, taskId: string, patch: TaskPatch): Promise<TaskRecord | undefined> {
    const current = await this.getTask(clientId, taskId);
    if (!current) return undefined;
    await this.db.transaction(async (tx) => {
      await this.uniqueName(patch.name, () =>
        tx.run(`UPDATE tasks SET name = ?, description = ?, spec = ?, labels = ?, updated_at = ${this.d.now} WHERE client_id = ? AND id = ?`, [
          patch.name ?? current.name,
          patch.description === undefined ? current.description : patch.description,
          JSON.stringify(patch.spec ?? current.spec),
          JSON.stringify(patch.labels ?? current.labels),
          clientId,
          taskId,
        ]),
      );
      if (patch.retrainAfter !== undefined) {
        // Turned on, the count starts now: examples from before it are not "new". The right-hand sides read the row as it was.
        await tx.run(
          'UPDATE tasks SET retrain_from = CASE WHEN retrain_after IS NULL THEN next_example ELSE retrain_from END, retrain_after = ? WHERE client_id = ? AND id = ?',
          [patch.retrainAfter, clientId, taskId],
        );
      }
      if (patch.retrainDefault)
        await tx.run('UPDATE tasks SET retrain_default = ? WHERE client_id = ? AND id = ?', [JSON.stringify(patch.retrainDefault), clientId, taskId]);
      // Zero-shot heads are built from the declared labels: every replica drops what it built from the old ones.
      if (patch.labels || patch.spec) await tx.notify({ kind: 'labels_changed', clientId, taskId });
    });
    return this.getTask(clientId, taskId);
  }

  /** Runs a write that may give a task a name its client already uses. */
  private async uniqueName<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (this.d.isUniqueViolation(err)) throw new DomainError('name_taken', `a task named "${name}" already exists`, 'name');
      throw err;
    }
  }

  async deleteTask(clientId: string, taskId: string): Promise<boolean> {
    return this.db.transaction((tx) => this.deleteTaskIn(tx, clientId, taskId));
  }

  /** Deletes a task inside `tx` and announces it with its versions. */
  private async deleteTaskIn(tx: Transaction, clientId: string, taskId: string): Promise<boolean> {
    // Read before the cascade removes them: replicas key loaded heads and artifacts by version id.
    const versions = await tx.query('SELECT id, number FROM versions WHERE client_id = ? AND task_id = ? ORDER BY number', [clientId, taskId]);
    const deleted = (await tx.run('DELETE FROM tasks WHERE client_id = ? AND id = ?', [clientId, taskId])) > 0;
    if (!deleted) return false;
    await tx.notify({ kind: 'task_deleted', clientId, taskId });
    for (const part of chunks(versions, NOTICE_VERSIONS)) {
      await tx.notify({ kind: 'versions_deleted', clientId, taskId, versions: part.map((v) => ({ id: String(v.id), number: Number(v.number) })) });
    }
    return true;
  }

  // ---- examples

  async addExamples(clientId: string, taskId: string, examples: NewExample[], policy: ConflictPolicy): Promise<AddExamplesResult> {
    return this.db.transaction(async (tx) => {
      // Uploads to one task take turns, so duplicate detection sees every committed row and numbers never collide.
      const [task] = await tx.query(`SELECT kind, next_example FROM tasks WHERE id = ?${this.d.forUpdate}`, [taskId]);
      const existing = new Map<string, string>();
      const rowIds = new Map<string, number>();
      for (const part of chunks([...new Set(examples.map((e) => e.textHash))])) {
        const rows = await tx.query(`SELECT id, text_hash, label FROM examples WHERE task_id = ? AND text_hash ${this.d.inList}`, [taskId, this.d.list(part)]);
        for (const r of rows) {
          existing.set(String(r.text_hash), String(r.label));
          rowIds.set(String(r.text_hash), Number(r.id));
        }
      }
      const plan = planExamples(existing, examples, policy, task?.kind === 'multi_label' ? 'multi_label' : 'single_label');
      if (plan.result.conflicts.length || plan.result.repeats.length) return plan.result;
      // A pooled text now labelled leaves the pool (before the quota counts both).
      let unpooled = 0;
      for (const part of chunks(plan.insert.map((e) => e.textHash))) {
        unpooled += await tx.run(`DELETE FROM pool_texts WHERE task_id = ? AND text_hash ${this.d.inList}`, [taskId, this.d.list(part)]);
      }
      await this.checkQuota(tx, clientId, 'maxExamples', plan.insert.length);
      const newBytes = plan.insert.reduce((sum, e) => sum + Buffer.byteLength(e.text) + Buffer.byteLength(e.label), 0);
      await this.checkQuota(tx, clientId, 'maxStoredBytes', newBytes);
      // The task's own numbers, in upload order: an id says nothing of other tasks' (other clients') uploads.
      const first = Number(task?.next_example ?? 1);
      for (const [i, part] of chunks(plan.insert).entries()) {
        const from = first + i * CHUNK;
        const u = this.d.rows('u', {
          t: text(part.map((e) => e.text)),
          h: text(part.map((e) => e.textHash)),
          l: text(part.map((e) => e.label)),
          n: integer(part.map((_, j) => from + j)),
        });
        await tx.run(
          `INSERT INTO examples (client_id, task_id, number, text, text_hash, label, created_at) SELECT ?, ?, u.n, u.t, u.h, u.l, ${this.d.now} FROM ${u.sql} ORDER BY u.o`,
          [clientId, taskId, ...u.params],
        );
      }
      for (const part of chunks(plan.relabel)) {
        // By row id, not by (task_id, text_hash): SQLite would scan the whole task once per relabelled row.
        const u = this.d.rows('u', { id: integer(part.map((r) => rowIds.get(r.textHash)!)), l: text(part.map((r) => r.label)) });
        await tx.run(`UPDATE examples AS e SET label = u.l FROM ${u.sql} WHERE e.id = u.id`, u.params);
      }
      await this.checkLabelLimit(tx, taskId);
      await tx.run(`UPDATE tasks SET next_example = ?, pool_revision = pool_revision + ?, updated_at = ${this.d.now} WHERE id = ?`, [
        first + plan.insert.length,
        unpooled > 0 ? 1 : 0,
        taskId,
      ]);
      const retrainJob = plan.insert.length ? await this.retrainIfDue(tx, clientId, taskId) : undefined;
      return retrainJob ? { ...plan.result, retrainJob } : plan.result;
    });
  }

  /**
   * Inside an upload's transaction, which holds the task's row: queues a training job when the examples added
   * since the count started reach the task's retrain_after. Holding the row is what keeps two uploads (on any
   * replicas) from both queueing one. A queued job of the task will read these examples when it runs: they are
   * counted as covered, and no other is queued. A client at its quota of jobs or bytes gets no job (the next
   * upload asks again), and its upload is not refused for it.
   */
  private async retrainIfDue(tx: Transaction, clientId: string, taskId: string): Promise<JobRecord | undefined> {
    const [task] = await tx.query('SELECT retrain_after, retrain_from, retrain_default, next_example FROM tasks WHERE id = ?', [taskId]);
    if (!task || task.retrain_after === null) return undefined;
    const restart = () => tx.run('UPDATE tasks SET retrain_from = next_example WHERE id = ?', [taskId]);
    const [queued] = await tx.query("SELECT 1 FROM jobs WHERE task_id = ? AND state = 'queued' LIMIT 1", [taskId]);
    if (queued) return void (await restart());
    if (Number(task.next_example) - Number(task.retrain_from) < Number(task.retrain_after)) return undefined;
    const job = (await this.lastSucceededRequest(tx, taskId)) ?? (task.retrain_default ? (JSON.parse(String(task.retrain_default)) as RetrainJob) : undefined);
    if (!job) return undefined;
    if ((await this.overQuota(tx, clientId, 'maxActiveJobs', 1)) || (await this.overQuota(tx, clientId, 'maxStoredBytes', 0))) return undefined;
    await restart();
    return this.insertJob(tx, { clientId, taskId, request: job.request, maxAttempts: job.maxAttempts }, 'retrain_after');
  }

  /** The request (and attempts) of the task's most recent successful job of its own: a multi-task job's trains other tasks too. */
  private async lastSucceededRequest(tx: Statements, taskId: string): Promise<RetrainJob | undefined> {
    const rows = await tx.query(
      "SELECT request, max_attempts FROM jobs WHERE task_id = ? AND state = 'succeeded' ORDER BY finished_at DESC, created_at DESC, id DESC LIMIT 50",
      [taskId],
    );
    for (const r of rows) {
      const request = JSON.parse(String(r.request)) as { tasks?: unknown };
      if (!request.tasks) return { request, maxAttempts: Number(r.max_attempts) };
    }
    return undefined;
  }

  /** Throwing inside the transaction rolls the whole write back. */
  private async checkLabelLimit(tx: Statements, taskId: string): Promise<void> {
    const [row] = await tx.query('SELECT COUNT(DISTINCT label) AS n FROM examples WHERE task_id = ?', [taskId]);
    const labels = Number(row!.n);
    if (labels > this.options.maxLabels)
      throw new DomainError('too_many_labels', `the task would have ${labels} distinct labels; the limit is ${this.options.maxLabels}`);
  }

  async listExamples(clientId: string, taskId: string, options: { limit: number; after?: number; label?: string }): Promise<Page<ExampleRecord>> {
    const byLabel = options.label === undefined ? '' : ` AND ${await this.labelMatch(this.db, clientId, taskId)}`;
    const rows = await this.db.query(`SELECT * FROM examples WHERE client_id = ? AND task_id = ? AND number > ?${byLabel} ORDER BY number LIMIT ?`, [
      clientId,
      taskId,
      options.after ?? 0,
      ...(byLabel ? [options.label] : []),
      options.limit + 1,
    ]);
    return pageOf(rows.map(exampleFromRow), options.limit, (e) => String(e.id));
  }

  /** The condition (one `?`: the label) an example of the task meets when it carries a label: its label, or (multi-label) one of its set. */
  private async labelMatch(db: Statements, clientId: string, taskId: string): Promise<string> {
    const [task] = await db.query('SELECT kind FROM tasks WHERE client_id = ? AND id = ?', [clientId, taskId]);
    return task?.kind === 'multi_label' ? this.d.jsonArrayHas('label') : 'label = ?';
  }

  async getExample(clientId: string, taskId: string, exampleId: number): Promise<ExampleRecord | undefined> {
    const [row] = await this.db.query('SELECT * FROM examples WHERE client_id = ? AND task_id = ? AND number = ?', [clientId, taskId, exampleId]);
    return row && exampleFromRow(row);
  }

  async relabelExample(clientId: string, taskId: string, exampleId: number, label: string): Promise<ExampleRecord | undefined> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT id FROM tasks WHERE id = ?${this.d.forUpdate}`, [taskId]);
      const [row] = await tx.query('UPDATE examples SET label = ? WHERE client_id = ? AND task_id = ? AND number = ? RETURNING *', [
        label,
        clientId,
        taskId,
        exampleId,
      ]);
      if (!row) return undefined;
      await this.checkLabelLimit(tx, taskId);
      return exampleFromRow(row);
    });
  }

  async deleteExample(clientId: string, taskId: string, exampleId: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM examples WHERE client_id = ? AND task_id = ? AND number = ?', [clientId, taskId, exampleId])) > 0;
  }

  async deleteExamples(clientId: string, taskId: string, label?: string): Promise<{ deleted: number; relabelled: number }> {
    if (label === undefined)
      return { deleted: await this.db.run('DELETE FROM examples WHERE client_id = ? AND task_id = ?', [clientId, taskId]), relabelled: 0 };
    return this.db.transaction(async (tx) => {
      // Taking turns with uploads and relabels: a set read here is the one rewritten.
      const [task] = await tx.query(`SELECT kind FROM tasks WHERE client_id = ? AND id = ?${this.d.forUpdate}`, [clientId, taskId]);
      if (task?.kind !== 'multi_label')
        return { deleted: await tx.run('DELETE FROM examples WHERE client_id = ? AND task_id = ? AND label = ?', [clientId, taskId, label]), relabelled: 0 };
      // A multi-label example loses the label; one left with no label goes.
      const rows = await tx.query(`SELECT id, label FROM examples WHERE client_id = ? AND task_id = ? AND ${this.d.jsonArrayHas('label')}`, [
        clientId,
        taskId,
        label,
      ]);
      const gone: number[] = [];
      const kept: Array<{ id: number; label: string }> = [];
      for (const r of rows) {
        const rest = labelsOfKey(String(r.label)).filter((l) => l !== label);
        if (rest.length) kept.push({ id: Number(r.id), label: labelSetKey(rest) });
        else gone.push(Number(r.id));
      }
      for (const part of chunks(gone)) {
        const u = this.d.rows('u', { id: integer(part) });
        await tx.run(`DELETE FROM examples WHERE id IN (SELECT u.id FROM ${u.sql})`, u.params);
      }
      for (const part of chunks(kept)) {
        const u = this.d.rows('u', { id: integer(part.map((k) => k.id)), l: text(part.map((k) => k.label)) });
        await tx.run(`UPDATE examples AS e SET label = u.l FROM ${u.sql} WHERE e.id = u.id`, u.params);
      }
      return { deleted: gone.length, relabelled: kept.length };
    });
  }

  async labelCounts(clientId: string, taskId: string): Promise<Map<string, number>> {
    const rows = await this.db.query('SELECT label, COUNT(*) AS n FROM examples WHERE client_id = ? AND task_id = ? GROUP BY label ORDER BY label', [
      clientId,
      taskId,
    ]);
    return new Map(rows.map((r) => [String(r.label), Number(r.n)]));
  }

  async allExamples(clientId: string, taskId: string): Promise<ExampleRecord[]> {
    return (await this.db.query('SELECT * FROM examples WHERE client_id = ? AND task_id = ? ORDER BY number', [clientId, taskId])).map(exampleFromRow);
  }

  async labelledHashes(clientId: string, taskId: string, hashes: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const part of chunks([...new Set(hashes)])) {
      const rows = await this.db.query(`SELECT text_hash FROM examples WHERE client_id = ? AND task_id = ? AND text_hash ${this.d.inList}`, [
        clientId,
        taskId,
        this.d.list(part),
      ]);
      for (const r of rows) out.add(String(r.text_hash));
    }
    return out;
  }

  async examplesById(clientId: string, taskId: string, ids: readonly number[]): Promise<Map<number, ExampleRecord>> {
    const out = new Map<number, ExampleRecord>();
    for (const part of chunks([...new Set(ids)])) {
      const u = this.d.rows('u', { n: integer(part) });
      const rows = await this.db.query(`SELECT e.* FROM ${u.sql} JOIN examples e ON e.number = u.n WHERE e.client_id = ? AND e.task_id = ?`, [
        ...u.params,
        clientId,
        taskId,
      ]);
      for (const r of rows.map(exampleFromRow)) out.set(r.id, r);
    }
    return out;
  }

  // ---- pools of unlabelled texts

  /** Locks the task's row for a change of its pool; undefined when the client has no such task. */
  private async poolTask(tx: Statements, clientId: string, taskId: string) {
    const [task] = await tx.query(`SELECT next_example, next_pool_text FROM tasks WHERE client_id = ? AND id = ?${this.d.forUpdate}`, [clientId, taskId]);
    return task && { nextExample: Number(task.next_example), nextPoolText: Number(task.next_pool_text) };
  }

  /** Which of `hashes` the task holds in `table` (examples or pool_texts). */
  private async heldHashes(tx: Statements, table: 'examples' | 'pool_texts', taskId: string, hashes: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const part of chunks(hashes)) {
      const rows = await tx.query(`SELECT text_hash FROM ${table} WHERE task_id = ? AND text_hash ${this.d.inList}`, [taskId, this.d.list(part)]);
      for (const r of rows) out.add(String(r.text_hash));
    }
    return out;
  }

  async addPoolTexts(clientId: string, taskId: string, texts: NewPoolText[]): Promise<AddPoolResult> {
    return this.db.transaction(async (tx) => {
      // Changes of one task's pool and examples take turns: a text is never both pooled and labelled.
      const task = await this.poolTask(tx, clientId, taskId);
      if (!task) throw new DomainError('task_not_found', `task "${taskId}" does not exist`, 'task');
      const unique = new Map(texts.map((t) => [t.textHash, t] as const));
      const hashes = [...unique.keys()];
      const labelled = await this.heldHashes(tx, 'examples', taskId, hashes);
      const pooled = await this.heldHashes(tx, 'pool_texts', taskId, hashes);
      const fresh = [...unique.values()].filter((t) => !labelled.has(t.textHash) && !pooled.has(t.textHash));
      await this.checkQuota(tx, clientId, 'maxExamples', fresh.length);
      await this.checkQuota(
        tx,
        clientId,
        'maxStoredBytes',
        fresh.reduce((sum, t) => sum + Buffer.byteLength(t.text), 0),
      );
      for (const [i, part] of chunks(fresh).entries()) {
        const from = task.nextPoolText + i * CHUNK;
        const u = this.d.rows('u', { t: text(part.map((e) => e.text)), h: text(part.map((e) => e.textHash)), n: integer(part.map((_, j) => from + j)) });
        await tx.run(
          `INSERT INTO pool_texts (client_id, task_id, number, text, text_hash, created_at) SELECT ?, ?, u.n, u.t, u.h, ${this.d.now} FROM ${u.sql} ORDER BY u.o`,
          [clientId, taskId, ...u.params],
        );
      }
      if (fresh.length)
        await tx.run('UPDATE tasks SET next_pool_text = ?, pool_revision = pool_revision + 1 WHERE id = ?', [task.nextPoolText + fresh.length, taskId]);
      return { added: fresh.length, labelled: labelled.size, pooled: pooled.size, repeated: texts.length - unique.size };
    });
  }

  async listPool(clientId: string, taskId: string, options: { limit: number; after?: number }): Promise<Page<PoolTextRecord>> {
    const rows = await this.db.query('SELECT * FROM pool_texts WHERE client_id = ? AND task_id = ? AND number > ? ORDER BY number LIMIT ?', [
      clientId,
      taskId,
      options.after ?? 0,
      options.limit + 1,
    ]);
    return pageOf(rows.map(poolTextFromRow), options.limit, (t) => String(t.id));
  }

  async poolSample(clientId: string, taskId: string, limit: number): Promise<PoolTextRecord[]> {
    // Text hashes are uniform: the first `limit` by hash are a random sample, and the same one while the pool stays.
    const rows = await this.db.query('SELECT * FROM pool_texts WHERE client_id = ? AND task_id = ? ORDER BY text_hash LIMIT ?', [clientId, taskId, limit]);
    return rows.map(poolTextFromRow).sort((a, b) => a.id - b.id);
  }

  async poolTextsById(clientId: string, taskId: string, ids: readonly number[]): Promise<Map<number, PoolTextRecord>> {
    const out = new Map<number, PoolTextRecord>();
    for (const part of chunks([...new Set(ids)])) {
      const u = this.d.rows('u', { n: integer(part) });
      const rows = await this.db.query(`SELECT p.* FROM ${u.sql} JOIN pool_texts p ON p.number = u.n WHERE p.client_id = ? AND p.task_id = ?`, [
        ...u.params,
        clientId,
        taskId,
      ]);
      for (const r of rows.map(poolTextFromRow)) out.set(r.id, r);
    }
    return out;
  }

  async deletePoolText(clientId: string, taskId: string, id: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const deleted = await tx.run('DELETE FROM pool_texts WHERE client_id = ? AND task_id = ? AND number = ?', [clientId, taskId, id]);
      if (deleted) await tx.run('UPDATE tasks SET pool_revision = pool_revision + 1 WHERE id = ?', [taskId]);
      return deleted > 0;
    });
  }

  async clearPool(clientId: string, taskId: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const deleted = await tx.run('DELETE FROM pool_texts WHERE client_id = ? AND task_id = ?', [clientId, taskId]);
      if (deleted) await tx.run('UPDATE tasks SET pool_revision = pool_revision + 1 WHERE id = ?', [taskId]);
      return deleted;
    });
  }

  async labelPoolText(clientId: string, taskId: string, id: number, label: string): Promise<ExampleRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const task = await this.poolTask(tx, clientId, taskId);
      if (!task) return undefined;
      const [pooled] = await tx.query('DELETE FROM pool_texts WHERE client_id = ? AND task_id = ? AND number = ? RETURNING text, text_hash', [
        clientId,
        taskId,
        id,
      ]);
      if (!pooled) return undefined;
      // One stored text for another: only the label's bytes are new.
      await this.checkQuota(tx, clientId, 'maxStoredBytes', Buffer.byteLength(label));
      const [row] = await tx.query(
        `INSERT INTO examples (client_id, task_id, number, text, text_hash, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ${this.d.now}) RETURNING *`,
        [clientId, taskId, task.nextExample, pooled.text, pooled.text_hash, label],
      );
      await tx.run(`UPDATE tasks SET next_example = ?, pool_revision = pool_revision + 1, updated_at = ${this.d.now} WHERE id = ?`, [
        task.nextExample + 1,
        taskId,
      ]);
      await this.checkLabelLimit(tx, taskId);
      // A label from the pool is a new example like an upload's: it counts toward retrain_after.
      await this.retrainIfDue(tx, clientId, taskId);
      return exampleFromRow(row!);
    });
  }

  async saveLabelPrior(clientId: string, taskId: string, poolRevision: number, prior: LabelPrior | null): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [task] = await tx.query(`SELECT pool_revision, ${this.d.now} AS now FROM tasks WHERE client_id = ? AND id = ?${this.d.forUpdate}`, [
        clientId,
        taskId,
      ]);
      // Estimated on a pool that has changed since: a newer estimate is due, and this one would pass for it.
      if (!task || Number(task.pool_revision) !== poolRevision) return false;
      const stored = prior && { ...prior, poolRevision, estimatedAt: Number(task.now) };
      await tx.run('UPDATE tasks SET label_prior = ? WHERE id = ?', [stored ? JSON.stringify(stored) : null, taskId]);
      await tx.notify({ kind: 'prior_estimated', clientId, taskId });
      return true;
    });
  }

  // ---- features

  async getFeatures(specKey: string, textHashes: string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const part of chunks(textHashes)) {
      const rows = await this.db.query(`SELECT text_hash, vector FROM features WHERE spec_key = ? AND text_hash ${this.d.inList}`, [
        specKey,
        this.d.list(part),
      ]);
      for (const r of rows) out.set(String(r.text_hash), bytesToVector(r.vector as Buffer));
    }
    return out;
  }

  async putFeatures(specKey: string, entries: Array<[string, Float32Array]>): Promise<void> {
    for (const part of chunks(entries, FEATURE_CHUNK)) {
      const u = this.d.rows('u', { h: text(part.map(([h]) => h)), v: bytes(part.map(([, v]) => vectorToBytes(v))) });
      // `WHERE true`: without a WHERE, SQLite would read ON CONFLICT as the ON of a join.
      await this.db.run(`INSERT INTO features (spec_key, text_hash, vector) SELECT ?, u.h, u.v FROM ${u.sql} WHERE true ON CONFLICT DO NOTHING`, [
        specKey,
        ...u.params,
      ]);
    }
  }

  // ---- jobs

  async createJob(job: NewJob): Promise<JobRecord> {
    return this.db.transaction(async (tx) => {
      // The task's row first, as an upload takes it (then the client's): the two never wait on each other in a circle.
      await tx.run('UPDATE tasks SET retrain_from = next_example WHERE client_id = ? AND id = ?', [job.clientId, job.taskId]);
      await this.checkQuota(tx, job.clientId, 'maxActiveJobs', 1);
      // A new version adds to what the client stores: a client already at its quota trains no more.
      await this.checkQuota(tx, job.clientId, 'maxStoredBytes', 0);
      return this.insertJob(tx, job, 'request');
    });
  }

  private async insertJob(tx: Statements, job: NewJob, trigger: JobTrigger): Promise<JobRecord> {
    const [row] = await tx.query(
      `INSERT INTO jobs (id, client_id, task_id, state, request, progress, max_attempts, queued_by, created_at) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ${this.d.now}) RETURNING *`,
      [newId('job'), job.clientId, job.taskId, JSON.stringify(job.request), INITIAL_PROGRESS, job.maxAttempts, trigger],
    );
    return jobFromRow(row!);
  }

  async getJob(clientId: string, taskId: string, jobId: string): Promise<JobRecord | undefined> {
    const [row] = await this.db.query('SELECT * FROM jobs WHERE client_id = ? AND task_id = ? AND id = ?', [clientId, taskId, jobId]);
    return row && jobFromRow(row);
  }

  async listJobs(clientId: string, taskId: string, limit: number, after?: string): Promise<Page<JobRecord>> {
    const cursor = decodeCursor(after);
    const rows = cursor
      ? await this.db.query('SELECT * FROM jobs WHERE client_id = ? AND task_id = ? AND (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?', [
          clientId,
          taskId,
          cursor[0],
          cursor[1],
          limit + 1,
        ])
      : await this.db.query('SELECT * FROM jobs WHERE client_id = ? AND task_id = ? ORDER BY created_at, id LIMIT ?', [clientId, taskId, limit + 1]);
    return pageOf(rows.map(jobFromRow), limit, (j) => encodeCursor(j.createdAt, j.id));
  }

  async cancelJob(clientId: string, taskId: string, jobId: string): Promise<JobRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(`SELECT * FROM jobs WHERE client_id = ? AND task_id = ? AND id = ?${this.d.forUpdate}`, [clientId, taskId, jobId]);
      const job = row && jobFromRow(row);
      if (job?.state === 'queued') {
        const progress = JSON.stringify({ ...job.progress, phase: 'cancelled' });
        const [cancelled] = await tx.query(`UPDATE jobs SET state = 'cancelled', finished_at = ${this.d.now}, progress = ? WHERE id = ? RETURNING *`, [
          progress,
          jobId,
        ]);
        await tx.run('DELETE FROM job_checkpoints WHERE job_id = ?', [jobId]);
        return jobFromRow(cancelled!);
      }
      if (job?.state === 'running') {
        // The replica running it hears the notice and stops now; its heartbeat would find the flag too, later.
        const [flagged] = await tx.query('UPDATE jobs SET cancel_requested = TRUE WHERE id = ? RETURNING *', [jobId]);
        await tx.notify({ kind: 'cancel_requested', clientId, taskId, jobId });
        return jobFromRow(flagged!);
      }
      return job;
    });
  }

  async claimJob(owner: string, leaseMs: number): Promise<JobRecord | undefined> {
    const now = this.d.now;
    return this.db.transaction(async (tx) => {
      // Lapsed leases of jobs that asked to be cancelled, or that used their last attempt, end here.
      await tx.run(
        `UPDATE jobs SET state = 'cancelled', finished_at = ${now}, lease_owner = NULL WHERE state = 'running' AND lease_expires_at < ${now} AND cancel_requested`,
      );
      await tx.run(
        `UPDATE jobs SET state = 'failed', finished_at = ${now}, lease_owner = NULL, error = ? WHERE state = 'running' AND lease_expires_at < ${now} AND attempts >= max_attempts`,
        [JSON.stringify(lapsedError())],
      );
      // Their checkpoints go with them (the table holds a row per unfinished fine-tuning job: few).
      await tx.run(
        `DELETE FROM job_checkpoints WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_checkpoints.job_id AND j.state NOT IN ('queued', 'running'))`,
      );
      // Claims take turns across replicas, so each sees the others' claims when it counts a client's running jobs.
      if (this.d.claimLock) await tx.query(this.d.claimLock);
      // Fair across clients: the client with the fewest running jobs goes first (then the oldest job), and a
      // client at its limit of running jobs waits. One client's ten queued jobs do not hold back another's one.
      const running = `(SELECT COUNT(*) FROM jobs r WHERE r.client_id = j.client_id AND r.state = 'running' AND r.lease_expires_at >= ${now})`;
      const limit = `COALESCE((SELECT t.${LIMIT_NAMES.maxRunningJobs} FROM clients t WHERE t.id = j.client_id), ?)`;
      const [next] = await tx.query(
        `SELECT j.id FROM jobs j
         WHERE (j.state = 'queued' OR (j.state = 'running' AND j.lease_expires_at < ${now})) AND (${limit} = 0 OR ${running} < ${limit})
         ORDER BY ${running}, j.created_at, j.id LIMIT 1${this.d.forUpdateSkipLocked}`,
        [this.limits.maxRunningJobs, this.limits.maxRunningJobs],
      );
      if (!next) return undefined;
      const [row] = await tx.query(
        `UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ${now} + ?, attempts = attempts + 1, started_at = COALESCE(started_at, ${now})
         WHERE id = ? RETURNING *`,
        [owner, leaseMs, next.id],
      );
      return jobFromRow(row!);
    });
  }

  async heartbeat(jobId: string, owner: string, leaseMs: number, progress: JobProgress): Promise<{ owned: boolean; cancelRequested: boolean }> {
    const [row] = await this.db.query(
      `UPDATE jobs SET lease_expires_at = ${this.d.now} + ?, progress = ? WHERE id = ? AND lease_owner = ? AND state = 'running' RETURNING cancel_requested`,
      [leaseMs, JSON.stringify(progress), jobId, owner],
    );
    return row ? { owned: true, cancelRequested: Boolean(row.cancel_requested) } : { owned: false, cancelRequested: false };
  }

  async saveJobCheckpoint(jobId: string, owner: string, epoch: number, bytes: Uint8Array): Promise<boolean> {
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.db.transaction(async (tx) => {
      const [held] = await tx.query(`SELECT 1 AS held FROM jobs WHERE id = ? AND lease_owner = ? AND state = 'running'`, [jobId, owner]);
      if (!held) return false;
      await tx.run('DELETE FROM job_checkpoints WHERE job_id = ?', [jobId]);
      await tx.run(`INSERT INTO job_checkpoints (job_id, epoch, bytes, created_at) VALUES (?, ?, ?, ${this.d.now})`, [jobId, epoch, data]);
      return true;
    });
  }

  async getJobCheckpoint(jobId: string): Promise<{ epoch: number; bytes: Uint8Array } | undefined> {
    const [row] = await this.db.query('SELECT epoch, bytes FROM job_checkpoints WHERE job_id = ?', [jobId]);
    return row ? { epoch: Number(row.epoch), bytes: new Uint8Array(row.bytes as Buffer) } : undefined;
  }

  async releaseJob(jobId: string, owner: string): Promise<boolean> {
    const released = await this.db.run(
      `UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
       WHERE id = ? AND lease_owner = ? AND state = 'running'`,
      [jobId, owner],
    );
    return released > 0;
  }

  async finishJob(jobId: string, owner: string, outcome: JobOutcome): Promise<JobRecord | undefined> {
    // Compressed before the transaction, on libuv's thread pool: a large artifact neither stalls the event loop nor holds locks.
    const pack = async (taskId: string | null, v: NewVersion) => ({
      taskId,
      v,
      packed: await packArtifact(v.artifact),
      evaluation: v.evaluation ? (await packArtifact(v.evaluation)).bytes : null,
    });
    const versions = outcome.version
      ? [await pack(null, outcome.version), ...(await Promise.all((outcome.others ?? []).map((o) => pack(o.taskId, o.version))))]
      : [];
    const now = this.d.now;
    return this.db.transaction(async (tx) => {
      const [job] = await tx.query(`SELECT * FROM jobs WHERE id = ? AND lease_owner = ? AND state = 'running'${this.d.forUpdate}`, [jobId, owner]);
      if (!job) return undefined;
      // A cancel that arrived while the job was finishing wins: a cancelled job never writes or activates a version.
      let state = outcome.state === 'succeeded' && job.cancel_requested ? 'cancelled' : outcome.state;
      let error = outcome.error;
      let number: number | null = null;
      // A multi-task job's other tasks must all still be there: it writes every version or none.
      for (const { taskId } of versions) {
        if (state !== 'succeeded' || taskId === null) continue;
        const [there] = await tx.query(`SELECT id FROM tasks WHERE id = ? AND client_id = ?${this.d.forUpdate}`, [taskId, job.client_id]);
        if (!there) {
          state = 'failed';
          error = { code: 'task_deleted', message: `task ${taskId} was deleted while the job ran; no version was written` };
        }
      }
      for (const { taskId, v, packed, evaluation } of state === 'succeeded' ? versions : []) {
        const target = taskId ?? String(job.task_id);
        const [task] = await tx.query('UPDATE tasks SET next_version = next_version + 1 WHERE id = ? RETURNING next_version - 1 AS number', [target]);
        const written = Number(task!.number);
        if (taskId === null) number = written;
        const id = newId('ver');
        const stack = v.tunedStack;
        // A fine-tuned version's features are its stack's: its spec names it, so they are cached as its own.
        const spec = stack ? { ...v.spec, tuned: { version: id, first: stack.first } } : v.spec;
        const tuned: TunedFacts | null = stack
          ? { first: stack.first, last: stack.last, storedBytes: stack.bytes.byteLength, loadedBytes: stack.loadedBytes }
          : null;
        await tx.run(
          `INSERT INTO versions (id, client_id, task_id, number, head_type, params, spec, labels, metrics, report, example_count, training_ms, job_id, created_at, artifact, artifact_bytes, evaluation, tuned_stack, tuned)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${now}, ?, ?, ?, ?, ?)`,
          [
            id,
            job.client_id,
            target,
            written,
            v.headType,
            JSON.stringify(v.params),
            JSON.stringify(spec),
            JSON.stringify(v.labels),
            JSON.stringify(v.metrics),
            JSON.stringify(v.report),
            v.exampleCount,
            Math.round(v.trainingMs),
            jobId,
            packed.bytes,
            packed.jsonBytes,
            evaluation,
            stack ? Buffer.from(stack.bytes.buffer, stack.bytes.byteOffset, stack.bytes.byteLength) : null,
            tuned ? JSON.stringify(tuned) : null,
          ],
        );
        if (outcome.activate) {
          await tx.run(`UPDATE tasks SET active_version = ?, updated_at = ${now} WHERE id = ?`, [written, target]);
          await tx.notify({ kind: 'activated', clientId: String(job.client_id), taskId: target, activeVersion: written });
        }
      }
      // A checkpoint serves only a job that may run again.
      await tx.run('DELETE FROM job_checkpoints WHERE job_id = ?', [jobId]);
      const progress = outcome.progress ?? (JSON.parse(String(job.progress)) as JobProgress);
      const [row] = await tx.query(
        `UPDATE jobs SET state = ?, error = ?, version_number = ?, finished_at = ${now}, lease_owner = NULL, lease_expires_at = NULL, progress = ? WHERE id = ? RETURNING *`,
        [
          state,
          error ? JSON.stringify(error) : null,
          number,
          JSON.stringify({ ...progress, phase: state, percent: state === 'succeeded' ? 100 : progress.percent }),
          jobId,
        ],
      );
      return jobFromRow(row!);
    });
  }

  // ---- versions

  async listVersions(clientId: string, taskId: string): Promise<VersionRecord[]> {
    const rows = await this.db.query(`SELECT ${VERSION_COLUMNS} FROM versions WHERE client_id = ? AND task_id = ? ORDER BY number`, [clientId, taskId]);
    return rows.map(versionFromRow);
  }

  async getVersion(clientId: string, taskId: string, number: number): Promise<VersionRecord | undefined> {
    const [row] = await this.db.query(`SELECT ${VERSION_COLUMNS} FROM versions WHERE client_id = ? AND task_id = ? AND number = ?`, [clientId, taskId, number]);
    return row && versionFromRow(row);
  }

  async getArtifact(clientId: string, taskId: string, number: number): Promise<unknown | undefined> {
    const bytes = await this.getArtifactBytes(clientId, taskId, number);
    return bytes && unpackArtifact(bytes);
  }

  async getArtifactBytes(clientId: string, taskId: string, number: number): Promise<Uint8Array | undefined> {
    const [row] = await this.db.query('SELECT artifact FROM versions WHERE client_id = ? AND task_id = ? AND number = ?', [clientId, taskId, number]);
    return row ? (row.artifact as Buffer) : undefined;
  }

  async getTunedStack(clientId: string, versionId: string): Promise<Uint8Array | undefined> {
    const [row] = await this.db.query('SELECT tuned_stack FROM versions WHERE client_id = ? AND id = ?', [clientId, versionId]);
    return row?.tuned_stack ? (row.tuned_stack as Buffer) : undefined;
  }

  async getEvaluation(clientId: string, taskId: string, number: number): Promise<VersionEvaluation | null | undefined> {
    const [row] = await this.db.query('SELECT evaluation FROM versions WHERE client_id = ? AND task_id = ? AND number = ?', [clientId, taskId, number]);
    if (!row) return undefined;
    return row.evaluation === null ? null : ((await unpackArtifact(row.evaluation as Buffer)) as VersionEvaluation);
  }

  async activateVersion(clientId: string, taskId: string, number: number): Promise<TaskRecord | undefined> {
    const activated = await this.db.transaction(async (tx) => {
      const [exists] = await tx.query('SELECT 1 FROM versions WHERE client_id = ? AND task_id = ? AND number = ?', [clientId, taskId, number]);
      if (!exists) return false;
      await tx.run(`UPDATE tasks SET active_version = ?, updated_at = ${this.d.now} WHERE client_id = ? AND id = ?`, [number, clientId, taskId]);
      await tx.notify({ kind: 'activated', clientId, taskId, activeVersion: number });
      return true;
    });
    return activated ? this.getTask(clientId, taskId) : undefined;
  }

  async deleteVersion(clientId: string, taskId: string, number: number): Promise<'deleted' | 'active' | 'missing'> {
    return this.db.transaction(async (tx) => {
      const [task] = await tx.query(`SELECT active_version FROM tasks WHERE client_id = ? AND id = ?${this.d.forUpdate}`, [clientId, taskId]);
      if (!task) return 'missing';
      if (task.active_version !== null && Number(task.active_version) === number) return 'active';
      const [deleted] = await tx.query('DELETE FROM versions WHERE client_id = ? AND task_id = ? AND number = ? RETURNING id', [clientId, taskId, number]);
      if (!deleted) return 'missing';
      await tx.notify({ kind: 'versions_deleted', clientId, taskId, versions: [{ id: String(deleted.id), number }] });
      return 'deleted';
    });
  }

  // ---- clients (clients), their keys, and replicas

  async usage(clientId: string): Promise<ClientUsage> {
    const q = QUOTA_COUNTS;
    const counts = [
      q.maxTasks(this.d),
      '(SELECT COUNT(*) FROM examples WHERE client_id = ?)',
      '(SELECT COUNT(*) FROM pool_texts WHERE client_id = ?)',
      q.maxStoredBytes(this.d),
      "(SELECT COUNT(*) FROM jobs WHERE client_id = ? AND state = 'running')",
      q.maxActiveJobs(this.d),
    ];
    const sql = `SELECT ${counts.map((c, i) => `${c} AS c${i}`).join(', ')}`;
    const [row] = await this.db.query(sql, clientParams(sql, clientId));
    const n = (i: number) => Number(row![`c${i}`]);
    return { tasks: n(0), examples: n(1), poolTexts: n(2), storedBytes: n(3), runningJobs: n(4), activeJobs: n(5) };
  }

  async createClient(name: string, limits: ClientLimits): Promise<ClientRecord> {
    const id = newId('client');
    const columns = LIMIT_FIELDS.map((f) => LIMIT_NAMES[f]);
    await this.db.run(`INSERT INTO clients (id, name, created_at, ${columns.join(', ')}) VALUES (?, ?, ${this.d.now}, ${columns.map(() => '?').join(', ')})`, [
      id,
      name,
      ...LIMIT_FIELDS.map((f) => limits[f]),
    ]);
    return (await this.getClient(id))!;
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const [row] = await this.db.query('SELECT * FROM clients WHERE id = ?', [clientId]);
    return row && clientFromRow(row);
  }

  async listClients(limit: number, after?: string): Promise<Page<ClientRecord>> {
    const cursor = decodeCursor(after);
    const rows = cursor
      ? await this.db.query('SELECT * FROM clients WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?', [cursor[0], cursor[1], limit + 1])
      : await this.db.query('SELECT * FROM clients ORDER BY created_at, id LIMIT ?', [limit + 1]);
    return pageOf(rows.map(clientFromRow), limit, (t) => encodeCursor(t.createdAt, t.id));
  }

  async updateClient(clientId: string, patch: { name?: string; limits?: ClientLimits }): Promise<ClientRecord | undefined> {
    const sets: string[] = [];
    const params: unknown[] = [];
    if (patch.name !== undefined) {
      sets.push('name = ?');
      params.push(patch.name);
    }
    if (patch.limits) {
      for (const f of LIMIT_FIELDS) {
        sets.push(`${LIMIT_NAMES[f]} = ?`);
        params.push(patch.limits[f]);
      }
    }
    if (sets.length) await this.db.run(`UPDATE clients SET ${sets.join(', ')} WHERE id = ?`, [...params, clientId]);
    return this.getClient(clientId);
  }

  async deleteClient(clientId: string): Promise<boolean> {
    const scope = `${clientId}/`;
    return this.db.transaction(async (tx) => {
      const keys = await tx.query('SELECT id FROM api_keys WHERE client_id = ?', [clientId]);
      for (const t of await tx.query('SELECT id FROM tasks WHERE client_id = ?', [clientId])) await this.deleteTaskIn(tx, clientId, String(t.id));
      await tx.run('DELETE FROM features WHERE substr(spec_key, 1, ?) = ?', [scope.length, scope]);
      const deleted = (await tx.run('DELETE FROM clients WHERE id = ?', [clientId])) > 0;
      for (const k of keys) await tx.notify({ kind: 'key', keyId: String(k.id) });
      return deleted;
    });
  }

  async createKey(key: NewKey): Promise<KeyRecord> {
    const [row] = await this.db.query(
      `INSERT INTO api_keys (id, client_id, name, scopes, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ${this.d.now}) RETURNING *`,
      [newId('key'), key.clientId, key.name, JSON.stringify(key.scopes), key.secretHash],
    );
    return keyFromRow(row!);
  }

  async listKeys(clientId: string): Promise<KeyRecord[]> {
    return (await this.db.query('SELECT * FROM api_keys WHERE client_id = ? ORDER BY created_at, id', [clientId])).map(keyFromRow);
  }

  async revokeKey(clientId: string, keyId: string): Promise<KeyRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ${this.d.now}) WHERE client_id = ? AND id = ? RETURNING *`, [
        clientId,
        keyId,
      ]);
      if (row) await tx.notify({ kind: 'key', keyId });
      return row && keyFromRow(row);
    });
  }

  async findKey(keyId: string): Promise<KeyRecord | undefined> {
    const [row] = await this.db.query('SELECT * FROM api_keys WHERE id = ?', [keyId]);
    return row && keyFromRow(row);
  }

  async replicaHeartbeat(id: string, windowMs: number): Promise<number> {
    const now = this.d.now;
    return this.db.transaction(async (tx) => {
      await tx.run(`INSERT INTO replicas (id, last_seen) VALUES (?, ${now}) ON CONFLICT (id) DO UPDATE SET last_seen = ${now}`, [id]);
      // Replicas gone for a long while are forgotten, so the table stays as small as the fleet.
      await tx.run(`DELETE FROM replicas WHERE last_seen < ${now} - ?`, [Math.max(windowMs, 3_600_000)]);
      const [row] = await tx.query(`SELECT COUNT(*) AS n FROM replicas WHERE last_seen >= ${now} - ?`, [windowMs]);
      return Number(row!.n);
    });
  }
}
