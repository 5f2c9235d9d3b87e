/**
 * Schema migrations, numbered and applied in order exactly once. The SQL is
 * written per dialect where types differ (SQLite BLOB/INTEGER vs PostgreSQL
 * BYTEA/BIGINT); the tables, columns and constraints are the same.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

type Dialect = 'sqlite' | 'postgres';

function initial(d: Dialect): string {
  const bigint = d === 'sqlite' ? 'INTEGER' : 'BIGINT';
  const bytes = d === 'sqlite' ? 'BLOB' : 'BYTEA';
  const serial = d === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY';
  const bool = d === 'sqlite' ? 'INTEGER' : 'BOOLEAN';
  const falseValue = d === 'sqlite' ? '0' : 'FALSE';
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
)${d === 'sqlite' ? ' WITHOUT ROWID' : ''};

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

export function migrations(d: Dialect): Migration[] {
  return [{ version: 1, name: 'initial schema: tenants, tasks, examples, features, jobs, versions', sql: initial(d) }];
}
