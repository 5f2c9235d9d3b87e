import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrations } from '../../src/store/migrations.js';
import { applicationName, PostgresStore, postgresDialect } from '../../src/store/postgres.js';
import pg from 'pg';
import { isConnectionError, StoreUnavailable } from '../../src/store/errors.js';
import { storeContract } from '../helpers/store-contract.js';
import { admin, freshSchema, PG_URL } from '../helpers/postgres.js';

const schema = freshSchema('contract');
const stores: PostgresStore[] = [];
const make = async () => {
  const store = new PostgresStore({ url: PG_URL, schema, maxLabels: 50, poolSize: 4 });
  await store.migrate();
  stores.push(store);
  return store;
};
test.after(async () => Promise.all(stores.map((s) => s.close())));

storeContract('postgres', make);

test('postgres: migrations run once when several stores start at the same moment', async () => {
  const own = freshSchema('race');
  const racers = Array.from({ length: 4 }, () => new PostgresStore({ url: PG_URL, schema: own, maxLabels: 50, poolSize: 2 }));
  try {
    await Promise.all(racers.map((s) => s.migrate()));
    const { rows } = await admin(`SELECT version FROM ${own}.schema_migrations ORDER BY version`);
    assert.deepEqual(
      rows.map((r) => r.version),
      migrations(postgresDialect.types).map((m) => m.version),
    );
  } finally {
    await Promise.all(racers.map((s) => s.close()));
  }
});

test('postgres: an activation is announced to every store listening on the database', async () => {
  const [a, b] = [await make(), await make()];
  const task = await a.createTask({
    tenantId: 'default',
    name: `notify-${Date.now()}`,
    description: null,
    spec: { model: 'm', layers: [6], layerCombine: 'concat', pooling: 'mean', normalize: true },
  });
  const job = await a.createJob({ tenantId: 'default', taskId: task.id, request: {}, maxAttempts: 1 });
  let claimed = await a.claimJob('a', 60_000);
  while (claimed && claimed.id !== job.id) claimed = await a.claimJob('a', 60_000);
  const heard = new Promise<number | null>((ok) => b.onTaskChange((c) => c.taskId === task.id && ok(c.activeVersion)));
  await a.finishJob(job.id, 'a', {
    state: 'succeeded',
    activate: true,
    version: { headType: 'svm', params: {}, spec: task.spec, labels: ['x', 'y'], metrics: {}, report: {}, exampleCount: 2, trainingMs: 1, artifact: {} },
  });
  assert.equal(await heard, 1);
});

test('postgres: a connection cut mid-query is recognised as the database being unavailable', async () => {
  const victim = new pg.Client({ connectionString: PG_URL });
  victim.on('error', () => undefined);
  await victim.connect();
  const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const sleeping = victim.query('SELECT pg_sleep(10)').then(
    () => undefined,
    (e: unknown) => e,
  );
  await new Promise((r) => setTimeout(r, 100));
  await admin('SELECT pg_terminate_backend($1)', [pid]);
  const err = await sleeping;
  assert.ok(err, 'the query failed');
  assert.equal(isConnectionError(err), true, `not recognised: ${(err as Error).message} (${(err as { code?: string }).code})`);
  assert.ok(new StoreUnavailable(err).message.startsWith('the database is unavailable'));
});

test('postgres: after its connections are cut, the store answers again and its listener reconnects and resets caches', async () => {
  const store = await make();
  await store.ping();
  const reset = new Promise<void>((ok) => store.onTaskChange((c) => c.taskId === '*' && ok()));
  // Only this file's connections: the database is shared with whatever else runs on the machine.
  const { rows } = await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName(schema)]);
  assert.ok(rows.length > 0);
  const keepAlive = setInterval(() => undefined, 100); // the store's reconnect timer does not hold the process open
  await reset;
  clearInterval(keepAlive);
  await store.ping();
});
