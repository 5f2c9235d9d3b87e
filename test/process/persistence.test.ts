/** Everything survives a restart: stop the service, start it on the same data directory, predict with the same version. */
import '../helpers/cleanup.js';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { intents, jsonl, LONG_JOB } from '../helpers/fixtures.js';
import { call } from '../helpers/http.js';
import { waitForJob } from '../helpers/jobs.js';
import { startServiceProcess, waitFor, type ServiceProcess } from '../helpers/process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'transferd-restart-'));
const env = { TRANSFERD_DATA_DIR: dataDir, TRANSFERD_JOB_POLL_MS: '50' };

async function start(): Promise<ServiceProcess> {
  const svc = await startServiceProcess(env);
  await waitFor(`${svc.url}/readyz`, (s) => s === 200);
  return svc;
}

async function stop(svc: ServiceProcess): Promise<void> {
  svc.proc.kill('SIGTERM');
  assert.equal(await svc.exited, 0, 'a clean exit');
}

const api = (svc: ServiceProcess, method: string, path: string, body?: unknown, type?: string) => call(svc.url, method, path, body, type);
const finished = (svc: ServiceProcess, taskId: string, jobId: string) => waitForJob(svc.url, taskId, jobId);

const probes = ['Will it snow in Oslo tomorrow?', 'Play something relaxing', 'Move 40 dollars to savings'];

test('tasks, examples, versions and predictions survive a restart; a job interrupted by shutdown resumes', async () => {
  let svc = await start();
  const task = (await api(svc, 'POST', '/v1/tasks', { name: 'durable' })).body;
  assert.equal((await api(svc, 'POST', `/v1/tasks/${task.id}/examples`, jsonl(intents(30)), 'application/x-ndjson')).status, 201);
  const job = (await api(svc, 'POST', `/v1/tasks/${task.id}/jobs`, { head: 'svm' })).body;
  assert.equal((await finished(svc, task.id, job.id)).state, 'succeeded');
  const before = (await api(svc, 'POST', `/v1/tasks/${task.id}/predict`, { input: probes })).body;
  // A long job, interrupted by a graceful stop: it goes back to the queue.
  const long = (await api(svc, 'POST', `/v1/tasks/${task.id}/jobs`, { ...LONG_JOB, activate: false })).body;
  for (;;) {
    const j = (await api(svc, 'GET', `/v1/tasks/${task.id}/jobs/${long.id}`)).body;
    if (j.state === 'running') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await stop(svc);

  svc = await start();
  const after = (await api(svc, 'POST', `/v1/tasks/${task.id}/predict`, { input: probes })).body;
  assert.equal(after.version, 1);
  assert.deepEqual(after.data, before.data, 'identical predictions from the restored version');
  const restored = (await api(svc, 'GET', `/v1/tasks/${task.id}`)).body;
  assert.equal(restored.example_count, intents(30).length);
  assert.equal(restored.active_version, 1);
  const resumed = await finished(svc, task.id, long.id);
  assert.equal(resumed.state, 'succeeded', JSON.stringify(resumed.error));
  assert.equal(resumed.version, 2);
  assert.equal(resumed.attempts, 1, 'a graceful hand-back does not use up an attempt');
  await stop(svc);
});
