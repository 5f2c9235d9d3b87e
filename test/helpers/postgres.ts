/**
 * PostgreSQL for integration tests: the machine's server (DATABASE_URL, or
 * postgres@127.0.0.1:5432/test), a fresh schema per run so runs never collide.
 * An unreachable server fails the tests loudly; nothing is skipped.
 */
import { randomBytes } from 'node:crypto';
import { onFileEnd } from './file-end.js';
import pg from 'pg';
import { PG_URL } from './tools.js';

export { PG_URL };

/** A new schema name, dropped when the test file ends. */
export function freshSchema(prefix = 't'): string {
  const schema = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  onFileEnd(async () => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  });
  return schema;
}

/** Runs one statement as an administrator (for cutting connections in tests). */
export async function admin(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}
