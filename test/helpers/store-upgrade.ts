/**
 * One upgrade contract, both stores: a database as an older release left it, rows written with that
 * release's names, then opened by this release's store, which migrates it and must find every row.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Adapter } from '../../src/store/adapter.js';
import { applyMigrations } from '../../src/store/migrations.js';
import type { Store } from '../../src/store/types.js';

export interface UpgradeTarget {
  /** An adapter on a new, empty database (or schema). */
  adapter(): Promise<Adapter>;
  /** This release's store on the same database. */
  store(): Promise<Store>;
}

const spec = JSON.stringify({ model: 'm', layers: [6], layerCombine: 'concat', pooling: 'mean', normalize: true });

export function upgradeContract(name: string, target: UpgradeTarget): void {
  test(`${name}: a database of schema version 5 (clients were "tenants") opens with its clients, keys, tasks, examples and jobs`, async () => {
    const db = await target.adapter();
    await applyMigrations(db, 5);
    await db.run(`INSERT INTO tenants (id, name, created_at, max_tasks) VALUES ('acme', 'acme', 1, 7)`);
    await db.run(`INSERT INTO api_keys (id, tenant_id, name, scopes, secret_hash, created_at) VALUES ('k1', 'acme', 'ci', '["read"]', 'h', 1)`);
    await db.run(`INSERT INTO tasks (id, tenant_id, name, spec, created_at, updated_at) VALUES ('task_old', 'acme', 'intents', ?, 1, 1)`, [spec]);
    for (const [i, text] of ['hello', 'where is my card'].entries())
      await db.run(`INSERT INTO examples (tenant_id, task_id, text, text_hash, label, created_at) VALUES ('acme', 'task_old', ?, ?, ?, 1)`, [
        text,
        `h${i}`,
        `l${i}`,
      ]);
    await db.run(
      `INSERT INTO jobs (id, tenant_id, task_id, state, request, progress, max_attempts, created_at) VALUES ('job_old', 'acme', 'task_old', 'queued', '{}', '{}', 3, 1)`,
    );
    await db.close();

    const store = await target.store();
    try {
      const client = await store.getClient('acme');
      assert.equal(client?.name, 'acme');
      assert.equal(client?.limits.maxTasks, 7, "the client's own limit is kept");
      assert.equal((await store.findKey('k1'))?.clientId, 'acme');
      assert.equal((await store.getTask('acme', 'task_old'))?.name, 'intents');
      assert.equal((await store.getTask('default', 'task_old')) ?? null, null, 'still invisible to another client');
      const examples = await store.listExamples('acme', 'task_old', { limit: 10 });
      assert.deepEqual(
        examples.items.map((e) => [e.text, e.label]),
        [
          ['hello', 'l0'],
          ['where is my card', 'l1'],
        ],
      );
      assert.equal((await store.getJob('acme', 'task_old', 'job_old'))?.state, 'queued');
      assert.equal((await store.usage('acme')).tasks, 1, 'quotas count the rows under the new names');
    } finally {
      await store.close();
    }
  });
}
