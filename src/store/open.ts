/** Chooses the store from configuration: SQLite under the data directory by default. */
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export async function openStore(config: Config, log: Logger): Promise<Store> {
  const path = join(config.TRANSFERD_DATA_DIR, 'transferd.db');
  const store = new SqliteStore({ path, maxLabels: config.TRANSFERD_MAX_LABELS });
  await store.migrate();
  log('info', 'store ready', { kind: 'sqlite', path });
  return store;
}
