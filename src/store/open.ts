import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/** PostgreSQL when DATABASE_URL is set (replicas share it), else SQLite under the data directory. */
export async function openStore(config: Config, log: Logger): Promise<Store> {
  if (config.DATABASE_URL) {
    const store = new PostgresStore({
      url: config.DATABASE_URL,
      schema: config.TRANSFERD_DATABASE_SCHEMA,
      maxLabels: config.TRANSFERD_MAX_LABELS,
      poolSize: config.TRANSFERD_DATABASE_POOL,
      onWarning: (msg, fields) => log('warn', msg, fields),
    });
    await store.migrate();
    log('info', 'store ready', { kind: 'postgres', schema: config.TRANSFERD_DATABASE_SCHEMA });
    return store;
  }
  const path = join(config.TRANSFERD_DATA_DIR, 'transferd.db');
  const store = new SqliteStore({ path, maxLabels: config.TRANSFERD_MAX_LABELS });
  await store.migrate();
  log('info', 'store ready', { kind: 'sqlite', path });
  return store;
}
