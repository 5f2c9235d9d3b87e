import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { PostgresStore } from './postgres.js';
import { type DefaultLimits, NO_LIMITS } from './sql-store.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/** The client limits the configuration sets; with keys off there is one open client, and it has none. */
export function clientLimits(config: Config): DefaultLimits {
  if (config.TRANSFERD_ADMIN_KEY === undefined) return NO_LIMITS;
  return {
    requestsPerMinute: config.TRANSFERD_CLIENT_REQUESTS_PER_MINUTE,
    tokensPerMinute: config.TRANSFERD_CLIENT_TOKENS_PER_MINUTE,
    maxTasks: config.TRANSFERD_CLIENT_MAX_TASKS,
    maxExamples: config.TRANSFERD_CLIENT_MAX_EXAMPLES,
    maxStoredBytes: config.TRANSFERD_CLIENT_MAX_STORED_BYTES,
    maxRunningJobs: config.TRANSFERD_CLIENT_MAX_RUNNING_JOBS,
    maxActiveJobs: config.TRANSFERD_CLIENT_MAX_ACTIVE_JOBS,
  };
}

/** PostgreSQL when DATABASE_URL is set (replicas share it), else SQLite under the data directory. */
export async function openStore(config: Config, log: Logger): Promise<Store> {
  if (config.DATABASE_URL) {
    const store = new PostgresStore({
      url: config.DATABASE_URL,
      schema: config.TRANSFERD_DATABASE_SCHEMA,
      maxLabels: config.TRANSFERD_MAX_LABELS,
      limits: clientLimits(config),
      poolSize: config.TRANSFERD_DATABASE_POOL,
      onWarning: (msg, fields) => log('warn', msg, fields),
    });
    await store.migrate();
    log('info', 'store ready', { kind: 'postgres', schema: config.TRANSFERD_DATABASE_SCHEMA });
    return store;
  }
  const path = join(config.TRANSFERD_DATA_DIR, 'transferd.db');
  const store = new SqliteStore({ path, maxLabels: config.TRANSFERD_MAX_LABELS, limits: clientLimits(config) });
  await store.migrate();
  log('info', 'store ready', { kind: 'sqlite', path });
  return store;
}
