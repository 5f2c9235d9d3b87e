import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import { storeContract } from '../helpers/store-contract.js';

storeContract('sqlite', async () => {
  const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'store-')), 'transferd.db'), maxLabels: 50 });
  await store.migrate();
  return store;
});
