/** Everything survives a restart: stop the service, start it on the same data directory, predict with the same version. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { intents, jsonl } from '../helpers/fixtures.js';
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

async function call(svc: ServiceProcess, method: string, path: string, body?: unknown, type = 'application/json') {
  const res = await fetch(`${svc.url}${path}`, { method, headers: { 'content-type': type }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function finished(svc: ServiceProcess, taskId: string, jobId: string) {
  for (;;) {
    const job = (await call(svc, 'GET', `/v1/tasks/${taskId}/jobs/${jobId}`)).body;
    if (['succeeded', 'failed', 'cancelled'].includes(job['state'])) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const probes = ['Will it snow in Oslo tomorrow?', 'Play something relaxing', 'Move 40 dollars to savings'];

test('tasks, examples, versions and predictions survive a restart; a job interrupted by shutdown resumes', async () => {
  let svc = await start();
  const task = (await call(svc, 'POST', '/v1/tasks', { name: 'durable' })).body;
  assert.equal((await call(svc, 'POST', `/v1/tasks/${task['id']}/examples`, jsonl(intents(30)), 'application/x-ndjson')).status, 201);
  const job = (await call(svc, 'POST', `/v1/tasks/${task['id']}/jobs`, { head: 'svm' })).body;
  assert.equal((await finished(svc, task['id'], job['id']))['state'], 'succeeded');
  const before = (await call(svc, 'POST', `/v1/tasks/${task['id']}/predict`, { input: probes })).body;
  // A long job, interrupted by a graceful stop: it goes back to the queue.
  const long = (await call(svc, 'POST', `/v1/tasks/${task['id']}/jobs`, { head: 'auto', layer_sweep: true, activate: false })).body;
  for (;;) {
    const j = (await call(svc, 'GET', `/v1/tasks/${task['id']}/jobs/${long['id']}`)).body;
    if (j['state'] === 'running') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await stop(svc);

  svc = await start();
  const after = (await call(svc, 'POST', `/v1/tasks/${task['id']}/predict`, { input: probes })).body;
  assert.equal(after['version'], 1);
  assert.deepEqual(after['data'], before['data'], 'identical predictions from the restored version');
  const restored = (await call(svc, 'GET', `/v1/tasks/${task['id']}`)).body;
  assert.equal(restored['example_count'], intents(30).length);
  assert.equal(restored['active_version'], 1);
  const resumed = await finished(svc, task['id'], long['id']);
  assert.equal(resumed['state'], 'succeeded', JSON.stringify(resumed['error']));
  assert.equal(resumed['version'], 2);
  assert.equal(resumed['attempts'], 1, 'a graceful hand-back does not use up an attempt');
  await stop(svc);
});
