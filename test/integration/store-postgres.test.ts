import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrations } from '../../src/store/migrations.js';
import { applicationName, PostgresAdapter, PostgresStore, postgresDialect } from '../../src/store/postgres.js';
import pg from 'pg';
import { isConnectionError, StoreUnavailable } from '../../src/store/errors.js';
import { isDomainError } from '../../src/errors.js';
import type { FeatureService } from '../../src/features/feature-service.js';
import type { PredictPool } from '../../src/serving/predict-pool.js';
import { PredictionService } from '../../src/serving/predictions.js';
import type { TaskChange } from '../../src/store/types.js';
import { storeContract } from '../helpers/store-contract.js';
import { upgradeContract } from '../helpers/store-upgrade.js';
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

upgradeContract('postgres', () => {
  const upgraded = freshSchema('upgrade');
  return {
    adapter: async () => new PostgresAdapter({ url: PG_URL, schema: upgraded, maxLabels: 50, poolSize: 2 }),
    store: async () => {
      const store = new PostgresStore({ url: PG_URL, schema: upgraded, maxLabels: 50, poolSize: 2 });
      await store.migrate();
      return store;
    },
  };
});

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
    clientId: 'default',
    name: `notify-${Date.now()}`,
    description: null,
    spec: { model: 'm', layers: [6], layerCombine: 'concat', pooling: 'mean', normalize: true },
  });
  const job = await a.createJob({ clientId: 'default', taskId: task.id, request: {}, maxAttempts: 1 });
  let claimed = await a.claimJob('a', 60_000);
  while (claimed && claimed.id !== job.id) claimed = await a.claimJob('a', 60_000);
  const heard = new Promise<number | null>((ok) => b.onTaskChange((c) => c.kind === 'activated' && c.taskId === task.id && ok(c.activeVersion)));
  await a.finishJob(job.id, 'a', {
    state: 'succeeded',
    activate: true,
    version: { headType: 'svm', params: {}, spec: task.spec, labels: ['x', 'y'], metrics: {}, report: {}, exampleCount: 2, trainingMs: 1, artifact: {} },
  });
  assert.equal(await heard, 1);
});

/** `promise`, or a failure naming `what` once `ms` have passed: a notice that never comes fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A task on `store` with two versions, the first active. */
async function taskWithVersions(store: PostgresStore, name: string) {
  const spec = { model: 'm', layers: [6], layerCombine: 'concat' as const, pooling: 'mean' as const, normalize: true };
  const task = await store.createTask({ clientId: 'default', name: `${name}-${Date.now()}`, description: null, spec });
  for (const activate of [true, false]) {
    const job = await store.createJob({ clientId: 'default', taskId: task.id, request: {}, maxAttempts: 1 });
    let claimed = await store.claimJob('a', 60_000);
    while (claimed && claimed.id !== job.id) claimed = await store.claimJob('a', 60_000);
    await store.finishJob(job.id, 'a', {
      state: 'succeeded',
      activate,
      version: { headType: 'svm', params: {}, spec, labels: ['x', 'y'], metrics: {}, report: {}, exampleCount: 2, trainingMs: 1, artifact: {} },
    });
  }
  return task;
}

test('postgres: a version or a task deleted through one replica leaves the prediction caches of every other replica', async () => {
  const [a, b] = [await make(), await make()];
  const task = await taskWithVersions(a, 'deleted-everywhere');
  const forgotten: string[][] = [];
  const pool = { forget: (ids: string[]) => forgotten.push(ids) } as unknown as PredictPool;
  // Replica b serves the task: a long expiry, so only a notice can tell it anything changed.
  const served = new PredictionService(b, {} as FeatureService, pool, { activeTtlMs: 3_600_000, artifactCacheBytes: 1e6 });
  try {
    const v2 = (await served.target('default', task.id, 2)).version;
    const v1 = (await served.target('default', task.id)).version;
    const heard = (kind: TaskChange['kind']) =>
      within(new Promise<void>((ok) => b.onTaskChange((c) => c.kind === kind && 'taskId' in c && c.taskId === task.id && ok())), 5000, `${kind} notice`);

    const versionGone = heard('versions_deleted');
    assert.equal(await a.deleteVersion('default', task.id, 2), 'deleted');
    await versionGone;
    await assert.rejects(served.target('default', task.id, 2), (e: unknown) => isDomainError(e, 'version_not_found'));
    assert.deepEqual(forgotten, [[v2.id]], "the predict workers let go of the deleted version's head");

    const taskGone = heard('task_deleted');
    assert.equal(await a.deleteTask('default', task.id), true);
    await taskGone;
    await assert.rejects(served.target('default', task.id), (e: unknown) => isDomainError(e, 'task_not_found'));
    await within(
      (async () => {
        while (!forgotten.some((ids) => ids.includes(v1.id))) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      'forgetting the versions of the deleted task',
    );
  } finally {
    served.close();
  }
});

test('postgres: a cancel requested through one replica is announced to the others, and the job can no longer succeed', async () => {
  const [a, b] = [await make(), await make()];
  const task = await a.createTask({
    clientId: 'default',
    name: `cancel-${Date.now()}`,
    description: null,
    spec: { model: 'm', layers: [6], layerCombine: 'concat', pooling: 'mean', normalize: true },
  });
  const job = await a.createJob({ clientId: 'default', taskId: task.id, request: {}, maxAttempts: 1 });
  let claimed = await b.claimJob('runner-b', 60_000);
  while (claimed && claimed.id !== job.id) claimed = await b.claimJob('runner-b', 60_000);
  const heard = within(
    new Promise<string>((ok) => b.onTaskChange((c) => c.kind === 'cancel_requested' && c.jobId === job.id && ok(c.jobId))),
    5000,
    'cancel notice',
  );
  assert.equal((await a.cancelJob('default', task.id, job.id))!.cancelRequested, true);
  assert.equal(await heard, job.id);
  const ended = await b.finishJob(job.id, 'runner-b', {
    state: 'succeeded',
    activate: true,
    version: { headType: 'svm', params: {}, spec: task.spec, labels: ['x', 'y'], metrics: {}, report: {}, exampleCount: 2, trainingMs: 1, artifact: {} },
  });
  assert.equal(ended!.state, 'cancelled');
  assert.equal(ended!.versionNumber, null);
  assert.deepEqual(await a.listVersions('default', task.id), []);
  assert.equal((await a.getTask('default', task.id))!.activeVersion, null);
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
  const reset = new Promise<void>((ok) => store.onTaskChange((c) => c.kind === 'reset' && ok()));
  // Only this file's connections: the database is shared with whatever else runs on the machine.
  const { rows } = await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName(schema)]);
  assert.ok(rows.length > 0);
  const keepAlive = setInterval(() => undefined, 100); // the store's reconnect timer does not hold the process open
  await reset;
  clearInterval(keepAlive);
  await store.ping();
});
