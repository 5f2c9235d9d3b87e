/**
 * Schema migrations, numbered and applied in order exactly once. The SQL is
 * written once; only column types differ between the databases (SQLite
 * BLOB/INTEGER vs PostgreSQL BYTEA/BIGINT), and come from the dialect.
 */
import type { Adapter, ColumnTypes } from './adapter.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

function initial({ bigint, bytes, serial, bool, false: falseValue, keyedTable }: ColumnTypes): string {
  return `
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at ${bigint} NOT NULL
);
INSERT INTO tenants (id, name, created_at) VALUES ('default', 'default', 0);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  description TEXT,
  spec TEXT NOT NULL,
  active_version INTEGER,
  next_version INTEGER NOT NULL DEFAULT 1,
  created_at ${bigint} NOT NULL,
  updated_at ${bigint} NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE INDEX tasks_tenant_order ON tasks (tenant_id, created_at, id);

CREATE TABLE examples (
  id ${serial},
  tenant_id TEXT NOT NULL,
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  text TEXT NOT NULL,
  text_hash TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at ${bigint} NOT NULL,
  UNIQUE (task_id, text_hash)
);
CREATE INDEX examples_task_label ON examples (task_id, label);
CREATE INDEX examples_hash ON examples (text_hash);

-- Content-addressed: the features of a text under a spec, shared by every task with that spec.
CREATE TABLE features (
  spec_key TEXT NOT NULL,
  text_hash TEXT NOT NULL,
  vector ${bytes} NOT NULL,
  PRIMARY KEY (spec_key, text_hash)
)${keyedTable};

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  state TEXT NOT NULL,
  request TEXT NOT NULL,
  progress TEXT NOT NULL,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  lease_owner TEXT,
  lease_expires_at ${bigint},
  cancel_requested ${bool} NOT NULL DEFAULT ${falseValue},
  version_number INTEGER,
  created_at ${bigint} NOT NULL,
  started_at ${bigint},
  finished_at ${bigint}
);
CREATE INDEX jobs_runnable ON jobs (state, created_at);
CREATE INDEX jobs_task_order ON jobs (task_id, created_at, id);

CREATE TABLE versions (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  head_type TEXT NOT NULL,
  params TEXT NOT NULL,
  spec TEXT NOT NULL,
  labels TEXT NOT NULL,
  metrics TEXT NOT NULL,
  report TEXT NOT NULL,
  example_count INTEGER NOT NULL,
  training_ms INTEGER NOT NULL,
  job_id TEXT,
  created_at ${bigint} NOT NULL,
  artifact ${bytes} NOT NULL,
  artifact_bytes INTEGER NOT NULL,
  UNIQUE (task_id, number)
);
`;
}

/** Clients with limits, their API keys, and the replicas' heartbeats (rate limits are shared out by how many are alive). */
function clientLimits({ bigint }: ColumnTypes): string {
  return `
ALTER TABLE tenants ADD COLUMN requests_per_minute ${bigint};
ALTER TABLE tenants ADD COLUMN tokens_per_minute ${bigint};
ALTER TABLE tenants ADD COLUMN max_tasks ${bigint};
ALTER TABLE tenants ADD COLUMN max_examples ${bigint};
ALTER TABLE tenants ADD COLUMN max_stored_bytes ${bigint};
ALTER TABLE tenants ADD COLUMN max_running_jobs ${bigint};
ALTER TABLE tenants ADD COLUMN max_active_jobs ${bigint};
CREATE INDEX tenants_order ON tenants (created_at, id);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name TEXT,
  scopes TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at ${bigint} NOT NULL,
  revoked_at ${bigint}
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at, id);

CREATE TABLE replicas (
  id TEXT PRIMARY KEY,
  last_seen ${bigint} NOT NULL
);

-- Quotas and fair claims count a client's rows.
CREATE INDEX examples_tenant ON examples (tenant_id);
CREATE INDEX jobs_tenant_state ON jobs (tenant_id, state);
CREATE INDEX versions_tenant ON versions (tenant_id);
`;
}

/** Each version's row-by-row evaluation (out-of-fold predictions, the 2-D map), gzip-compressed JSON; null for older versions. */
function evaluations({ bytes }: ColumnTypes): string {
  return `ALTER TABLE versions ADD COLUMN evaluation ${bytes};`;
}

/** A task's kind: single_label (every task before) or multi_label, whose examples' label column holds a label set (./label-set.ts). */
const taskKinds = `ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'single_label';`;

/** A task's declared labels, [{name, description}] as JSON: zero-shot prediction reads them. */
const declaredLabels = `ALTER TABLE tasks ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';`;

/**
 * The schema says client, as the API does (it said tenant). Both databases rename a column in place and keep
 * its constraints; indexes are dropped and made again because SQLite cannot rename one.
 */
const clientNames = `
ALTER TABLE tenants RENAME TO clients;
ALTER TABLE tasks RENAME COLUMN tenant_id TO client_id;
ALTER TABLE examples RENAME COLUMN tenant_id TO client_id;
ALTER TABLE jobs RENAME COLUMN tenant_id TO client_id;
ALTER TABLE versions RENAME COLUMN tenant_id TO client_id;
ALTER TABLE api_keys RENAME COLUMN tenant_id TO client_id;
DROP INDEX tasks_tenant_order;
CREATE INDEX tasks_client_order ON tasks (client_id, created_at, id);
DROP INDEX tenants_order;
CREATE INDEX clients_order ON clients (created_at, id);
DROP INDEX api_keys_tenant;
CREATE INDEX api_keys_client ON api_keys (client_id, created_at, id);
DROP INDEX examples_tenant;
CREATE INDEX examples_client ON examples (client_id);
DROP INDEX jobs_tenant_state;
CREATE INDEX jobs_client_state ON jobs (client_id, state);
DROP INDEX versions_tenant;
CREATE INDEX versions_client ON versions (client_id);
`;

/**
 * Example ids numbered per task, so that one client's ids say nothing of another's uploads (one sequence shared by
 * every client did). The row keeps its serial id as an internal key; the API's id is its number in its task. Every
 * existing example keeps its id as its number, and every existing task numbers on from past the highest id ever
 * issued: an id a client or a stored evaluation holds never names another example. New tasks number from 1.
 */
function exampleNumbers({ bigint, lastExampleId }: ColumnTypes): string {
  return `
ALTER TABLE examples ADD COLUMN number ${bigint} NOT NULL DEFAULT 0;
UPDATE examples SET number = id;
CREATE UNIQUE INDEX examples_task_number ON examples (task_id, number);
DROP INDEX examples_task_label;
CREATE INDEX examples_task_label ON examples (task_id, label, number);
ALTER TABLE tasks ADD COLUMN next_example ${bigint} NOT NULL DEFAULT 1;
UPDATE tasks SET next_example = ${lastExampleId} + 1;
`;
}

/**
 * A fine-tuned version's own encoder layers: the tuned stack as encoder/tuned-stack.ts encodes it (gzip of a
 * safetensors file), and what it is as JSON (TunedFacts); both null for every other version.
 */
function tunedStacks({ bytes }: ColumnTypes): string {
  return `
ALTER TABLE versions ADD COLUMN tuned_stack ${bytes};
ALTER TABLE versions ADD COLUMN tuned TEXT;
`;
}

/**
 * What a fine-tuning job needs to resume after its last completed epoch on whichever replica claims it next:
 * apart from the jobs table, whose rows every list and claim reads whole.
 */
function jobCheckpoints({ bigint, bytes, keyedTable }: ColumnTypes): string {
  return `
CREATE TABLE job_checkpoints (
  job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  bytes ${bytes} NOT NULL,
  created_at ${bigint} NOT NULL
)${keyedTable};
`;
}

/** The migration that adds fine-tuned versions' stacks (its number in one place: branches that add migrations renumber here). */
export const TUNED_STACKS_MIGRATION = 8;
/** The migration that adds jobs' checkpoints. */
export const JOB_CHECKPOINTS_MIGRATION = 9;

/**
 * A task that retrains by itself after `retrain_after` new examples: the setting (null: off), the task's
 * next_example when the count last started (a job queued, the setting turned on; existing tasks count from the
 * upgrade), and the request to train with before any job succeeded ({request, maxAttempts} as JSON). A job says
 * what queued it: a client's request, or retrain_after.
 */
function retrainAfter({ bigint }: ColumnTypes): string {
  return `
ALTER TABLE tasks ADD COLUMN retrain_after ${bigint};
ALTER TABLE tasks ADD COLUMN retrain_from ${bigint} NOT NULL DEFAULT 1;
UPDATE tasks SET retrain_from = next_example;
ALTER TABLE tasks ADD COLUMN retrain_default TEXT;
ALTER TABLE jobs ADD COLUMN queued_by TEXT NOT NULL DEFAULT 'request';
`;
}

/** The migration that adds retrain_after (renumbered here when branches merge). */
export const RETRAIN_AFTER_MIGRATION = 11;

/**
 * A task's pool of unlabelled texts, numbered per task as examples are, and the label prior zero-shot
 * prediction estimates on it (LabelPrior as JSON, null before any); `pool_revision` rises with every change
 * of the pool, so an estimate says which pool it was made on.
 */
function poolTexts({ bigint, serial }: ColumnTypes): string {
  return `
CREATE TABLE pool_texts (
  id ${serial},
  client_id TEXT NOT NULL,
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  number ${bigint} NOT NULL,
  text TEXT NOT NULL,
  text_hash TEXT NOT NULL,
  created_at ${bigint} NOT NULL,
  UNIQUE (task_id, text_hash),
  UNIQUE (task_id, number)
);
CREATE INDEX pool_texts_client ON pool_texts (client_id);
ALTER TABLE tasks ADD COLUMN next_pool_text ${bigint} NOT NULL DEFAULT 1;
ALTER TABLE tasks ADD COLUMN pool_revision ${bigint} NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN label_prior TEXT;
`;
}

/** The migration that adds task pools (its number in one place: branches that add migrations renumber here). */
export const POOL_MIGRATION = 10;

export function migrations(types: ColumnTypes): Migration[] {
  return [
    { version: 1, name: 'initial schema: tenants, tasks, examples, features, jobs, versions', sql: initial(types) },
    { version: 2, name: 'clients: limits, API keys, replica heartbeats', sql: clientLimits(types) },
    { version: 3, name: 'version evaluations: out-of-fold predictions and the example map', sql: evaluations(types) },
    { version: 4, name: 'task kinds: single- and multi-label', sql: taskKinds },
    { version: 5, name: 'declared labels and their descriptions', sql: declaredLabels },
    { version: 6, name: 'tenants renamed clients, as the API says', sql: clientNames },
    { version: 7, name: 'example ids numbered per task', sql: exampleNumbers(types) },
    { version: TUNED_STACKS_MIGRATION, name: "fine-tuned versions' tuned layers", sql: tunedStacks(types) },
    { version: JOB_CHECKPOINTS_MIGRATION, name: "fine-tuning jobs' checkpoints", sql: jobCheckpoints(types) },
    { version: POOL_MIGRATION, name: 'task pools of unlabelled texts and zero-shot label priors', sql: poolTexts(types) },
    { version: RETRAIN_AFTER_MIGRATION, name: 'tasks that retrain by themselves after N new examples (retrain_after)', sql: retrainAfter(types) },
  ];
}

/**
 * Applies the migrations not applied yet, each in its own transaction, under the database's migration lock.
 * `through` stops at that version: the upgrade tests build a store as an older release left it.
 */
export async function applyMigrations(db: Adapter, through = Number.POSITIVE_INFINITY): Promise<void> {
  const { now, types } = db.dialect;
  await db.migrating(async (session) => {
    await session.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${types.bigint} NOT NULL)`);
    const applied = new Set((await session.query('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
    for (const m of migrations(types)) {
      if (applied.has(m.version) || m.version > through) continue;
      await session.transaction(async (tx) => {
        // Asked again inside the transaction: where the lock is only the transaction's (SQLite), another process may have just applied it.
        if ((await tx.query('SELECT 1 FROM schema_migrations WHERE version = ?', [m.version])).length) return;
        await tx.exec(m.sql);
        await tx.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ${now})`, [m.version, m.name]);
      });
    }
  });
}
