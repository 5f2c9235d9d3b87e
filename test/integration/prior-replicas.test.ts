/**
 * A label prior estimated through one replica is applied by another at once:
 * the store announces it, and the other replica drops the task it had cached
 * (for a minute here, so only the notice can explain it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { PostgresStore } from '../../src/store/postgres.js';
import { testService } from '../helpers/app.js';
import { onFileEnd } from '../helpers/file-end.js';
import { intents } from '../helpers/fixtures.js';
import { freshSchema, PG_URL } from '../helpers/postgres.js';

async function pgStore(schema: string) {
  const store = new PostgresStore({ url: PG_URL, schema, maxLabels: 10_000, poolSize: 4 });
  await store.migrate();
  onFileEnd(() => store.close());
  return store;
}

const LABELS = [
  { name: 'weather', description: 'the weather forecast: rain, temperature, wind and umbrellas' },
  { name: 'music', description: 'playing music, songs, albums and playlists' },
  { name: 'banking', description: 'bank accounts, money transfers and card payments' },
  { name: 'sports', description: 'sports teams, matches, goals and scores' },
];

test('postgres: a prior estimated through one replica is applied by the other within a second', async () => {
  const schema = freshSchema('prior');
  const env = { TRANSFERD_ACTIVE_VERSION_TTL_MS: '60000' };
  const one = (await testService({ env, store: await pgStore(schema), train: false })).app.app;
  const two = (await testService({ env, store: await pgStore(schema), train: false })).app.app;
  const taskId = (await request(one).post('/v1/tasks').send({ name: 'prior-replicas', labels: LABELS }).expect(201)).body.id;
  const predict = (app: typeof one) => request(app).post(`/v1/tasks/${taskId}/predict`).send({ input: 'Will it rain in Oslo tomorrow?' }).expect(200);
  // The other replica caches the task as it is: no pool, no prior.
  assert.equal((await predict(two)).body.prior, undefined);

  const rows = intents(20);
  const skewed = [...rows.filter((r) => r.label === 'weather'), ...rows.filter((r) => r.label !== 'weather').slice(0, 6)];
  await request(one)
    .post(`/v1/tasks/${taskId}/pool`)
    .send({ input: skewed.map((r) => r.text) })
    .expect(201);
  let prior: { state: string; prior: Record<string, number> } | undefined;
  for (let i = 0; i < 200 && prior?.state !== 'current'; i++) {
    prior = (await request(one).get(`/v1/tasks/${taskId}/prior`).expect(200)).body;
    if (prior?.state !== 'current') await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.equal(prior?.state, 'current');
  assert.ok(prior!.prior.weather! > 0.5, JSON.stringify(prior!.prior));

  const deadline = Date.now() + 1000;
  let seen = (await predict(two)).body.prior;
  while (!seen && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 50));
    seen = (await predict(two)).body.prior;
  }
  assert.deepEqual(seen, { labels: prior!.prior, pool_texts: skewed.length }, 'the other replica applies the same prior');
  assert.deepEqual((await predict(one)).body.prior, seen);
});
