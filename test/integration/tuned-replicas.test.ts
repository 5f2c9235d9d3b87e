/**
 * Two replicas on one PostgreSQL schema (each its own store connection,
 * encoder worker and caches, in one process): a fine-tuned version written
 * through one is served by both, each encoder loading its stack from the
 * store; deleted through one, the store's change notice makes the other drop
 * the stack from its cache and its encoder worker, and refuse the version.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { DEFAULT_MODEL, loadConfig } from '../../src/config.js';
import { resolveSpec } from '../../src/encoder/feature-spec.js';
import { ModelRegistry } from '../../src/encoder/registry.js';
import { createLogger } from '../../src/log.js';
import { assemble } from '../../src/service.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { DEFAULT_CLIENT } from '../../src/store/types.js';
import { onFileEnd } from '../helpers/file-end.js';
import { fineTunedTrec, fineTunedVersion, writeVersion } from '../helpers/fine-tuned.js';
import { freshSchema, PG_URL } from '../helpers/postgres.js';

const schema = freshSchema('tuned_replicas');
const config = loadConfig({ TRANSFERD_PREDICT_THREADS: '1' });

async function replica() {
  const store = new PostgresStore({ url: PG_URL, schema, maxLabels: 100, poolSize: 4 });
  await store.migrate();
  const models = await ModelRegistry.load({
    modelsDir: 'models',
    models: [DEFAULT_MODEL],
    threads: 1,
    maxBatchTokens: 8192,
    maxBatchSize: 64,
    maxQueuedTexts: 1000,
  });
  const parts = assemble({ config, log: createLogger('test', true), models, store });
  onFileEnd(async () => {
    parts.close();
    parts.predictions.close();
    await parts.pool.close();
    await models.close();
    await store.close();
  });
  return { ...parts, store, encoder: models.get(DEFAULT_MODEL)! };
}

const [a, b] = [await replica(), await replica()];
const tuned = await fineTunedTrec(1);
const task = await a.store.createTask({
  clientId: DEFAULT_CLIENT,
  name: 'tuned-everywhere',
  description: null,
  spec: resolveSpec({ model: DEFAULT_MODEL }, 6),
});
const number = await writeVersion(a.store, DEFAULT_CLIENT, task.id, fineTunedVersion(tuned), false);
const versionId = (await a.store.getVersion(DEFAULT_CLIENT, task.id, number))!.id;
const texts = tuned.unseen.slice(0, 8);
const predict = (r: typeof a, expect: number) => request(r.app.app).post(`/v1/tasks/${task.id}/predict`).send({ input: texts, version: number }).expect(expect);

test('a fine-tuned version written through one replica is served by both, each loading its stack from the store', async () => {
  const [fromA, fromB] = [(await predict(a, 200)).body, (await predict(b, 200)).body];
  assert.deepEqual(fromB.data, fromA.data);
  const stored = (await a.store.getTunedStack(DEFAULT_CLIENT, versionId))!.byteLength;
  for (const r of [a, b]) {
    assert.deepEqual(r.encoder.stacks, [versionId]);
    assert.equal(r.stacks.bytes, stored, 'its stack as stored, cached on the main thread');
  }
});

test("deleted through one replica, the other's store notice drops the stack from its cache and its encoder worker", async () => {
  const dropped = new Promise<string[]>((ok) => b.encoder.once('stacks', ok));
  await request(a.app.app).delete(`/v1/tasks/${task.id}/versions/${number}`).expect(204);
  assert.deepEqual(a.encoder.stacks, [], 'the replica that deleted it forgets at once');
  assert.equal(a.stacks.bytes, 0);
  assert.deepEqual(await dropped, [], "the other replica's worker let go of it");
  assert.equal(b.stacks.bytes, 0);
  assert.equal((await predict(b, 404)).body.error.code, 'version_not_found');
});
