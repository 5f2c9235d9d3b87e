/**
 * How a job ends when something happens to it while it runs: a cancel or the
 * deletion of its task stops it at once (the store's change notice, not the
 * next lease heartbeat), and a result the replica no longer owns is neither
 * written nor logged or counted as a success.
 *
 * The lease is ten minutes here, so heartbeats (every lease/3) never run during
 * these tests: whatever stops a job comes through a notice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import type { LogLevel } from '../../src/log.js';
import { SqliteAdapter, SqliteStore } from '../../src/store/sqlite.js';
import type { JobOutcome, Store } from '../../src/store/types.js';
import { testService } from '../helpers/app.js';
import { onFileEnd } from '../helpers/file-end.js';
import { intents, LONG_JOB } from '../helpers/fixtures.js';
import { createTask, waitForJob } from '../helpers/jobs.js';

const path = join(mkdtempSync(join(tmpdir(), 'job-ends-')), 'transferd.db');
const real = new SqliteStore({ path, maxLabels: 100 });
await real.migrate();
/** A second connection to the same file, for what another replica would do behind this one's back. */
const elsewhere = new SqliteAdapter(path);
onFileEnd(async () => {
  await elsewhere.close();
  await real.close();
});

const counts = { heartbeats: 0 };
/** Jobs whose lease passes to another replica just before they finish. */
const stolen = new Set<string>();
const store = new Proxy(real, {
  get(target, key, receiver) {
    if (key === 'heartbeat') {
      return (...args: Parameters<Store['heartbeat']>) => {
        counts.heartbeats++;
        return target.heartbeat(...args);
      };
    }
    if (key === 'finishJob') {
      return async (jobId: string, owner: string, outcome: JobOutcome) => {
        if (stolen.has(jobId)) await elsewhere.run(`UPDATE jobs SET lease_owner = 'another-replica' WHERE id = ?`, [jobId]);
        return target.finishJob(jobId, owner, outcome);
      };
    }
    const value = Reflect.get(target, key, receiver);
    return typeof value === 'function' ? value.bind(target) : value;
  },
});

const logs: Array<{ level: LogLevel; msg: string } & Record<string, unknown>> = [];
const svc = await testService({
  store,
  env: { TRANSFERD_JOB_LEASE_MS: '600000' },
  log: (level, msg, fields = {}) => void logs.push({ level, msg, ...fields }),
});
const app = svc.app.app;
const logsOf = (jobId: string) => logs.filter((l) => l.job === jobId);

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const jobState = async (taskId: string, jobId: string) => (await request(app).get(`/v1/tasks/${taskId}/jobs/${jobId}`)).body;

test('a short job cancelled right after it starts ends cancelled, and writes or activates no version', async () => {
  const taskId = await createTask(app, 'cancel-short', intents(30, 40));
  const started = await request(app).post(`/v1/tasks/${taskId}/jobs`).send({ head: 'svm' }).expect(202);
  await until('the job runs', async () => (await jobState(taskId, started.body.id)).state === 'running');
  const beats = counts.heartbeats;
  await request(app).delete(`/v1/tasks/${taskId}/jobs/${started.body.id}`).expect(202);
  const job = await waitForJob(app, taskId, started.body.id);
  assert.equal(job.state, 'cancelled');
  assert.equal(job.version, null);
  assert.equal(counts.heartbeats, beats, 'no heartbeat ran: the notice stopped it');
  assert.equal((await request(app).get(`/v1/tasks/${taskId}/versions`).expect(200)).body.data.length, 0);
  assert.equal((await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body.active_version, null);
  assert.ok(!logsOf(started.body.id).some((l) => l.msg === 'job succeeded'));
});

test('deleting a task stops its running job at once, and nothing of the job is written', async () => {
  const taskId = await createTask(app, 'delete-running', intents(30));
  const started = await request(app).post(`/v1/tasks/${taskId}/jobs`).send(LONG_JOB).expect(202);
  await until('the job trains', async () => {
    const j = await jobState(taskId, started.body.id);
    return j.state === 'running' && svc.runner.activeJobs === 1 && logsOf(started.body.id).length > 0 && j.progress.phase !== 'features';
  });
  const beats = counts.heartbeats;
  await request(app).delete(`/v1/tasks/${taskId}`).expect(204);
  await until('the job stops', () => svc.runner.activeJobs === 0);
  assert.equal(counts.heartbeats, beats, 'no heartbeat ran: the notice stopped it');
  assert.ok(logsOf(started.body.id).some((l) => l.msg === 'job stopped: its task was deleted'));
  assert.ok(!logsOf(started.body.id).some((l) => l.msg === 'job succeeded'));
  assert.equal(await real.getTask('default', taskId), undefined);
  assert.equal(await real.getJob('default', taskId, started.body.id), undefined);
  assert.deepEqual(await real.listVersions('default', taskId), []);
});

test('a job whose lease passed to another replica before it finished is logged as such, not as a success, and not counted', async () => {
  const taskId = await createTask(app, 'lease-lost', intents(30, 80));
  const started = await request(app).post(`/v1/tasks/${taskId}/jobs`).send({ head: 'svm' }).expect(202);
  stolen.add(started.body.id);
  await until('the job ends here', () => logsOf(started.body.id).some((l) => l.msg !== 'job started'));
  const ends = logsOf(started.body.id).filter((l) => l.msg !== 'job started');
  assert.deepEqual(
    ends.map((l) => [l.level, l.msg, l.reason]),
    [['warn', 'job result discarded: the job is no longer held by this replica', 'the lease passed to another-replica']],
  );
  const counted = (await svc.metrics.registry.getSingleMetric('training_jobs_total')!.get()).values;
  assert.ok(!counted.some((v) => v.labels.state === 'succeeded' && v.value > 0), `counted: ${JSON.stringify(counted)}`);
  assert.deepEqual(await real.listVersions('default', taskId), [], 'the replica that lost the job wrote no version');
});
