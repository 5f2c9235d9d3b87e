/**
 * Three replicas on one PostgreSQL database behind a real nginx. Every request
 * may land anywhere; replicas keep caches, never truth.
 */
import { migrations } from '../../src/store/migrations.js';
import { postgresDialect } from '../../src/store/postgres.js';
import '../helpers/cleanup.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applicationName } from '../../src/store/postgres.js';
import { intents, jsonl, LONG_JOB } from '../helpers/fixtures.js';
import { call } from '../helpers/http.js';
import { type JobJson, waitForJob } from '../helpers/jobs.js';
import { startNginx, stopNginx } from '../helpers/nginx.js';
import { admin, freshSchema, PG_URL } from '../helpers/postgres.js';
import { leftovers, startServiceProcess, waitFor, type ServiceProcess } from '../helpers/process.js';
import { readEvents } from '../helpers/sse.js';

const schema = freshSchema('replicas');
const LEASE_MS = 3000;
const env = (id: string): Record<string, string> => ({
  DATABASE_URL: PG_URL,
  TRANSFERD_DATABASE_SCHEMA: schema,
  TRANSFERD_REPLICA_ID: id,
  TRANSFERD_JOB_LEASE_MS: String(LEASE_MS),
  TRANSFERD_JOB_POLL_MS: '100',
  TRANSFERD_ORT_THREADS: '1',
  TRANSFERD_TRAINING_THREADS: '1',
  TRANSFERD_PREDICT_THREADS: '1',
  TRANSFERD_DATABASE_POOL: '4',
});

async function replica(id: string): Promise<ServiceProcess> {
  const svc = await startServiceProcess(env(id));
  await waitFor(`${svc.url}/readyz`, (s) => s === 200, 60_000);
  return svc;
}

const IDS = ['replica-1', 'replica-2', 'replica-3'];
const replicas = await Promise.all(IDS.map(replica));
const lb = await startNginx(replicas.map((r) => r.port));
const rows = intents(30);
const probes = ['Is it foggy in Lisbon this morning?', 'Play my running mix', 'Wire 80 dollars to my sister', 'Who won the cup final?'];

async function trainedTask(name: string, body: object = { head: 'svm' }) {
  const task = (await call(lb.url, 'POST', '/v1/tasks', { name })).body;
  assert.equal((await call(lb.url, 'POST', `/v1/tasks/${task.id}/examples`, jsonl(rows), 'application/x-ndjson')).status, 201);
  const job = (await call(lb.url, 'POST', `/v1/tasks/${task.id}/jobs`, body)).body;
  const end = await waitForJob(lb.url, task.id, job.id);
  assert.equal(end.state, 'succeeded', JSON.stringify(end.error));
  return { taskId: task.id as string, version: end.version as number };
}

test('a task created, filled and trained through nginx predicts identically on every replica', async () => {
  const { taskId } = await trainedTask('everywhere');
  const answers = await Promise.all(replicas.map((r) => call(r.url, 'POST', `/v1/tasks/${taskId}/predict`, { input: probes })));
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  for (const a of answers.slice(1)) assert.deepEqual(a.body.data, answers[0]!.body.data);
  assert.deepEqual(
    answers[0]!.body.data.map((d: { label: string }) => d.label),
    ['weather', 'music', 'banking', 'sports'],
  );
});

test('a version activated through one replica is served by every replica within one second', async () => {
  const { taskId } = await trainedTask('freshness');
  const second = (await call(lb.url, 'POST', `/v1/tasks/${taskId}/jobs`, { head: 'random_forest', activate: false })).body;
  assert.equal((await waitForJob(lb.url, taskId, second.id)).version, 2);
  // Every replica has version 1 cached now.
  for (const r of replicas) assert.equal((await call(r.url, 'POST', `/v1/tasks/${taskId}/predict`, { input: probes[0] })).body.version, 1);
  const activated = Date.now();
  assert.equal((await call(replicas[0]!.url, 'POST', `/v1/tasks/${taskId}/versions/2/activate`)).status, 200);
  const seen = await Promise.all(
    replicas.map(async (r) => {
      for (;;) {
        const v = (await call(r.url, 'POST', `/v1/tasks/${taskId}/predict`, { input: probes[0] })).body.version;
        if (v === 2) return Date.now() - activated;
        if (Date.now() - activated > 5000) return Infinity;
        await new Promise((ok) => setTimeout(ok, 10));
      }
    }),
  );
  for (const ms of seen) assert.ok(ms < 1000, `a replica served the new version after ${ms} ms`);
});

test('a version deleted through one replica is refused by every replica at once, though each had it loaded', async () => {
  const { taskId } = await trainedTask('deleted-everywhere');
  const second = (await call(lb.url, 'POST', `/v1/tasks/${taskId}/jobs`, { head: 'svm', activate: false })).body;
  assert.equal((await waitForJob(lb.url, taskId, second.id)).version, 2);
  // Every replica serves version 2 pinned: its record, its artifact and its head are cached there.
  for (const r of replicas) assert.equal((await call(r.url, 'POST', `/v1/tasks/${taskId}/predict`, { input: probes[0], version: 2 })).status, 200);
  assert.equal((await call(replicas[0]!.url, 'DELETE', `/v1/tasks/${taskId}/versions/2`)).status, 204);
  const deleted = Date.now();
  const statuses = await Promise.all(
    replicas.map(async (r) => {
      for (;;) {
        const status = (await call(r.url, 'POST', `/v1/tasks/${taskId}/predict`, { input: probes[0], version: 2 })).status;
        if (status !== 200 || Date.now() - deleted > 5000) return status;
        await new Promise((ok) => setTimeout(ok, 10));
      }
    }),
  );
  assert.deepEqual(statuses, [404, 404, 404], 'every replica forgot the deleted version (a cached one would serve it for good)');
  for (const r of replicas) assert.equal((await call(r.url, 'POST', `/v1/tasks/${taskId}/predict`, { input: probes[0] })).body.version, 1);
});

test('SIGKILL of the replica running a long job: another replica finishes it; no example lost or duplicated', async () => {
  const task = (await call(lb.url, 'POST', '/v1/tasks', { name: 'survivor' })).body;
  assert.equal((await call(lb.url, 'POST', `/v1/tasks/${task.id}/examples`, jsonl(rows), 'application/x-ndjson')).status, 201);
  const job = (await call(lb.url, 'POST', `/v1/tasks/${task.id}/jobs`, LONG_JOB)).body;
  let runner = '';
  for (;;) {
    const j = (await call(lb.url, 'GET', `/v1/tasks/${task.id}/jobs/${job.id}`)).body;
    if (j.state === 'running' && j.progress.phase !== 'features' && j.runner) {
      runner = j.runner;
      break;
    }
    assert.equal(j.state === 'succeeded' || j.state === 'failed', false, 'the job ended before the kill');
    await new Promise((ok) => setTimeout(ok, 50));
  }
  // By the job's runner: the replica's 'job started' log line may not have been read yet.
  const victim = replicas[IDS.indexOf(runner)]!;
  assert.ok(victim, `found the replica ${runner} running the job`);
  const killedAt = Date.now();
  victim.proc.kill('SIGKILL');
  await victim.exited;
  const end = await waitForJob(lb.url, task.id, job.id, 300_000);
  assert.equal(end.state, 'succeeded', JSON.stringify(end.error));
  assert.equal(end.attempts, 2, 'claimed a second time after the lease lapsed');
  const takeover = replicas.find((r) => r !== victim && r.logs.some((l) => l.msg === 'job started' && l.job === job.id));
  assert.ok(takeover, 'another replica started the job');
  const restartedAfter = takeover!.logs.find((l) => l.msg === 'job started' && l.job === job.id)!.time as string;
  assert.ok(Date.parse(restartedAfter) - killedAt < LEASE_MS + 2000, `taken over ${Date.parse(restartedAfter) - killedAt} ms after the kill`);
  const version = (await call(lb.url, 'GET', `/v1/tasks/${task.id}/versions/${end.version}`)).body;
  assert.equal(version.example_count, rows.length);
  const stored = (await call(lb.url, 'GET', `/v1/tasks/${task.id}/examples?limit=1000`)).body.data as Array<{ text: string }>;
  assert.equal(stored.length, rows.length);
  assert.equal(new Set(stored.map((e) => e.text)).size, rows.length);
  // Bring the replica back for the tests that follow.
  replicas[IDS.indexOf(runner)] = await replica(runner);
});

test("a job's event stream on one replica follows the job running on another, through nginx too, as it happens", async () => {
  const task = (await call(lb.url, 'POST', '/v1/tasks', { name: 'watched' })).body;
  assert.equal((await call(lb.url, 'POST', `/v1/tasks/${task.id}/examples`, jsonl(rows), 'application/x-ndjson')).status, 201);
  const job = (await call(lb.url, 'POST', `/v1/tasks/${task.id}/jobs`, LONG_JOB)).body;
  const path = `/v1/tasks/${task.id}/jobs/${job.id}`;
  let runner: string | null = null;
  while (!runner) {
    const j = (await call(lb.url, 'GET', path)).body;
    assert.equal(j.state, j.state === 'queued' ? 'queued' : 'running', 'the job ended before it was watched');
    runner = j.runner;
    if (!runner) await new Promise((ok) => setTimeout(ok, 50));
  }
  const elsewhere = replicas.find((r) => !r.logs.some((l) => l.msg === 'job started' && l.job === job.id))!;
  assert.ok(elsewhere, 'a replica that does not run the job');
  const [direct, balanced] = await Promise.all([
    readEvents(`${elsewhere.url}${path}/events`, { timeoutMs: 300_000 }),
    readEvents(`${lb.url}${path}/events`, { timeoutMs: 300_000 }),
  ]);
  for (const stream of [direct, balanced]) {
    assert.equal(stream.status, 200);
    assert.equal(stream.events.at(-1)?.event, 'end');
    const jobs = stream.events.filter((e) => e.event === 'job').map((e) => ({ ...(JSON.parse(e.data) as JobJson), at: e.at }));
    assert.equal(jobs.at(-1)?.state, 'succeeded');
    const running = jobs.filter((j) => j.state === 'running');
    assert.ok(
      running.every((j) => j.runner === runner),
      'every running event names the replica that runs it',
    );
    const percents: number[] = running.map((j) => j.progress.percent);
    assert.ok(new Set(percents).size >= 3, `progress seen moving (${percents.join(', ')})`);
    assert.deepEqual(
      percents,
      [...percents].sort((a, b) => a - b),
      'progress never goes back',
    );
    // Delivered as they happened: the first progress came well before the end, not all at once when the stream closed.
    assert.ok(stream.events.at(-1)!.at - running[0]!.at > 1000, 'events arrive as the job runs (no buffering on the way)');
  }
});

test('PostgreSQL connections cut for a few seconds: requests fail cleanly with 503, every replica recovers by itself', async () => {
  const { taskId } = await trainedTask('outage');
  const statuses = new Map<number, number>();
  let cutting = true;
  const cutter = (async () => {
    while (cutting) {
      await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName(schema)]);
      await new Promise((ok) => setTimeout(ok, 20));
    }
  })();
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    // Reads that must reach the database on every call.
    const target = replicas[(statuses.get(200) ?? 0) % 3]!;
    const r = await call(target.url, 'GET', `/v1/tasks/${taskId}/examples?limit=5`).catch((err: Error) => {
      throw new Error(
        `${err.message} (${String((err as { cause?: unknown }).cause)}); replica exit: ${target.proc.exitCode ?? target.proc.signalCode}; last logs: ${JSON.stringify(target.logs.slice(-8))}`,
      );
    });
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status !== 200) {
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'store_unavailable');
    }
  }
  cutting = false;
  await cutter;
  assert.ok((statuses.get(503) ?? 0) > 0, `no request noticed the outage: ${JSON.stringify([...statuses])}`);
  for (const r of replicas) {
    await waitFor(`${r.url}/readyz`, (s) => s === 200, 15_000);
    assert.equal((await call(r.url, 'GET', `/v1/tasks/${taskId}`)).status, 200);
    assert.equal((await call(r.url, 'POST', `/v1/tasks/${taskId}/predict`, { input: probes[1] })).status, 200);
  }
});

test('two replicas started at the same moment on an empty database both come up; migrations run once', async () => {
  const fresh = freshSchema('race');
  const pair = await Promise.all(['race-a', 'race-b'].map((id) => startServiceProcess({ ...env(id), TRANSFERD_DATABASE_SCHEMA: fresh })));
  for (const r of pair) await waitFor(`${r.url}/readyz`, (s) => s === 200, 60_000);
  const { rows: applied } = await admin(`SELECT version FROM ${fresh}.schema_migrations ORDER BY version`);
  assert.deepEqual(
    applied.map((r) => r.version),
    migrations(postgresDialect.types).map((m) => m.version),
  );
  for (const r of pair) r.proc.kill('SIGTERM');
  for (const r of pair) assert.equal(await r.exited, 0);
});

test('the suite leaves nothing running: nginx stops with its workers, every replica exits', async () => {
  await stopNginx(lb);
  await assert.rejects(fetch(`${lb.url}/healthz`), 'nothing listens on the balancer port any more');
  for (const r of replicas) r.proc.kill('SIGTERM');
  for (const r of replicas) assert.equal(await r.exited, 0);
  assert.deepEqual(leftovers(), [], 'no process this suite started is still alive');
});
