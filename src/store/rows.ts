/** Row → record mapping for both databases (PostgreSQL returns BIGINT as strings, SQLite booleans as 0/1). */
import type { FeatureSpec } from '../encoder/feature-spec.js';
import {
  type DeclaredLabel,
  type ExampleRecord,
  type JobRecord,
  type JobState,
  type KeyRecord,
  type LabelPrior,
  LIMIT_NAMES,
  type Page,
  type PoolTextRecord,
  type Scope,
  type TaskRecord,
  type TunedFacts,
  type ClientLimits,
  type ClientRecord,
  type VersionRecord,
} from './types.js';

export type Row = Record<string, unknown>;

/** Tasks with their example counts; callers append WHERE and ORDER BY. */
export const TASK_SELECT =
  'SELECT t.*, (SELECT COUNT(*) FROM examples e WHERE e.task_id = t.id) AS example_count, (SELECT COUNT(*) FROM pool_texts p WHERE p.task_id = t.id) AS pool_count FROM tasks t';

/** The error a job gets when its lease lapses on the last allowed attempt. */
export function lapsedError() {
  return { code: 'lease_expired', message: 'the replica running this job stopped renewing its lease on the last allowed attempt' };
}

/** Fetching limit+1 rows tells whether another page exists without a COUNT. */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? cursorOf(items[items.length - 1]!) : null };
}
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const json = <T>(v: unknown): T => JSON.parse(String(v)) as T;

export function taskFromRow(r: Row): TaskRecord {
  return {
    id: String(r.id),
    clientId: String(r.client_id),
    name: String(r.name),
    description: (r.description as string | null) ?? null,
    spec: json<FeatureSpec>(r.spec),
    kind: r.kind === 'multi_label' ? 'multi_label' : 'single_label',
    labels: json<DeclaredLabel[]>(r.labels ?? '[]'),
    activeVersion: numOrNull(r.active_version),
    exampleCount: num(r.example_count ?? 0),
    retrainAfter: numOrNull(r.retrain_after),
    newExamples: Math.max(0, num(r.next_example ?? 1) - num(r.retrain_from ?? 1)),
    poolCount: num(r.pool_count ?? 0),
    poolRevision: num(r.pool_revision ?? 0),
    labelPrior: r.label_prior ? json<LabelPrior>(r.label_prior) : null,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function poolTextFromRow(r: Row): PoolTextRecord {
  return { id: num(r.number), taskId: String(r.task_id), text: String(r.text), textHash: String(r.text_hash), createdAt: num(r.created_at) };
}

export function exampleFromRow(r: Row): ExampleRecord {
  return {
    id: num(r.number),
    taskId: String(r.task_id),
    text: String(r.text),
    textHash: String(r.text_hash),
    label: String(r.label),
    createdAt: num(r.created_at),
  };
}

export function jobFromRow(r: Row): JobRecord {
  return {
    id: String(r.id),
    clientId: String(r.client_id),
    taskId: String(r.task_id),
    state: r.state as JobState,
    request: json(r.request),
    progress: json(r.progress),
    error: r.error ? json(r.error) : null,
    attempts: num(r.attempts),
    maxAttempts: num(r.max_attempts),
    leaseOwner: (r.lease_owner as string | null) ?? null,
    leaseExpiresAt: numOrNull(r.lease_expires_at),
    cancelRequested: Boolean(r.cancel_requested),
    versionNumber: numOrNull(r.version_number),
    trigger: r.queued_by === 'retrain_after' ? 'retrain_after' : 'request',
    createdAt: num(r.created_at),
    startedAt: numOrNull(r.started_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

export function versionFromRow(r: Row): VersionRecord {
  return {
    id: String(r.id),
    clientId: String(r.client_id),
    taskId: String(r.task_id),
    number: num(r.number),
    headType: String(r.head_type),
    params: json(r.params),
    spec: json<FeatureSpec>(r.spec),
    labels: json<string[]>(r.labels),
    metrics: json(r.metrics),
    report: json(r.report),
    exampleCount: num(r.example_count),
    trainingMs: num(r.training_ms),
    jobId: (r.job_id as string | null) ?? null,
    createdAt: num(r.created_at),
    artifactBytes: num(r.artifact_bytes),
    tuned: r.tuned ? json<TunedFacts>(r.tuned) : null,
  };
}

export function clientFromRow(r: Row): ClientRecord {
  const limits = Object.fromEntries(Object.entries(LIMIT_NAMES).map(([field, column]) => [field, numOrNull(r[column])])) as unknown as ClientLimits;
  return { id: String(r.id), name: String(r.name), limits, createdAt: num(r.created_at) };
}

export function keyFromRow(r: Row): KeyRecord {
  return {
    id: String(r.id),
    clientId: String(r.client_id),
    name: (r.name as string | null) ?? null,
    scopes: json<Scope[]>(r.scopes),
    secretHash: String(r.secret_hash),
    createdAt: num(r.created_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}

/** Columns of versions without the artifact or the tuned stack, which can be megabytes. */
export const VERSION_COLUMNS =
  'id, client_id, task_id, number, head_type, params, spec, labels, metrics, report, example_count, training_ms, job_id, created_at, artifact_bytes, tuned';

export const INITIAL_PROGRESS = JSON.stringify({ phase: 'queued', percent: 0, timings: [] });
