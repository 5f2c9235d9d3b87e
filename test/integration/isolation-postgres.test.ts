/**
 * The isolation suite on PostgreSQL, and what only replicas can show: a key
 * revoked through one replica is refused by another within a second, and two
 * replicas together admit no more of a client's requests than its rate allows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { CENSUS_INTERVAL_MS } from '../../src/http/limits.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { testService } from '../helpers/app.js';
import { onFileEnd } from '../helpers/file-end.js';
import { ADMIN, client, isolationSuite, KEYS_ON, keysOnLimits } from '../helpers/isolation.js';
import { freshSchema, PG_URL } from '../helpers/postgres.js';

async function pgStore(schema: string) {
  const store = new PostgresStore({ url: PG_URL, schema, maxLabels: 10_000, poolSize: 4, limits: keysOnLimits() });
  await store.migrate();
  onFileEnd(() => store.close());
  return store;
}

isolationSuite('postgres', () => pgStore(freshSchema('iso')));

/** Two replicas on one schema, each with its own store, caches and rate limiter. */
const twoReplicas = (async () => {
  const schema = freshSchema('iso2');
  const one = await testService({ env: KEYS_ON, store: await pgStore(schema) });
  const two = await testService({ env: KEYS_ON, store: await pgStore(schema) });
  return [one.app.app, two.app.app] as const;
})();

test('postgres: a key revoked through one replica is refused by the other within a second', async () => {
  const [one, two] = await twoReplicas;
  const c = await client(one, 'revoked-elsewhere');
  const auth = { authorization: `Bearer ${c.key}` };
  // The other replica has the key cached (it just answered with it).
  await request(two).get('/v1/tasks').set(auth).expect(200);
  await request(one)
    .delete(`/v1/admin/clients/${c.id}/keys/${c.keyId}`)
    .set({ authorization: `Bearer ${ADMIN}` })
    .expect(200);
  const revokedAt = Date.now();
  let refusedAfter = -1;
  while (Date.now() - revokedAt < 3000) {
    if ((await request(two).get('/v1/tasks').set(auth)).status === 401) {
      refusedAfter = Date.now() - revokedAt;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(refusedAfter >= 0 && refusedAfter <= 1000, `refused ${refusedAfter} ms after the revocation`);
});

test("postgres: two replicas together admit no more of a client's requests than its rate and burst", async () => {
  const [one, two] = await twoReplicas;
  // 600 a minute with a 10-second burst: 100 at once over the fleet, 50 on each of two replicas.
  const c = await client(one, 'rate-shared', undefined, { requests_per_minute: 600 });
  const auth = { authorization: `Bearer ${c.key}` };
  // Both replicas must have counted each other (a heartbeat every CENSUS_INTERVAL_MS).
  await new Promise((r) => setTimeout(r, 2 * CENSUS_INTERVAL_MS + 500));
  let accepted = 0;
  const started = Date.now();
  for (let i = 0; i < 120; i++) {
    const res = await request(i % 2 ? two : one)
      .get('/v1/tasks')
      .set(auth);
    if (res.status === 200) accepted++;
    else assert.equal(res.status, 429);
  }
  const refill = (10 * (Date.now() - started)) / 1000;
  assert.ok(accepted <= 100 + refill + 2, `${accepted} of 120 accepted; the client's rate allows ${Math.floor(100 + refill)}`);
  assert.ok(accepted >= 80, `${accepted} accepted: spread evenly, the client gets (close to) its whole burst`);
});
