/**
 * Training runs in worker threads at low priority: requests keep their latency
 * while a task trains, and a training thread that crashes fails its job only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { intents, LONG_JOB } from '../helpers/fixtures.js';
import { testService } from '../helpers/app.js';
import { createTask, train, waitForJob } from '../helpers/jobs.js';

const rows = intents(30);

async function medianMs(make: () => request.Test, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await make().expect(200);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)]!;
}

test('embeddings and predict latency stay low while another task trains', async (t) => {
  const svc = await testService();
  const app = svc.app.app;
  const served = await createTask(app, 'served', rows);
  assert.equal((await train(app, served, { head: 'svm' })).state, 'succeeded');
  let i = 0;
  const embed = () =>
    request(app)
      .post('/v1/embeddings')
      .send({ input: `latency probe ${i++}` });
  const predict = () =>
    request(app)
      .post(`/v1/tasks/${served}/predict`)
      .send({ input: `is it raining in town ${i++}` });
  const idle = { embed: await medianMs(embed, 30), predict: await medianMs(predict, 30) };

  const busy = await createTask(app, 'busy', rows);
  const started = await request(app).post(`/v1/tasks/${busy}/jobs`).send(LONG_JOB).expect(202);
  for (;;) {
    const j = (await request(app).get(`/v1/tasks/${busy}/jobs/${started.body.id}`).expect(200)).body;
    if (j.state === 'running' && j.progress.phase !== 'features' && j.progress.phase !== 'starting') break;
    assert.equal(j.state === 'succeeded' || j.state === 'failed', false, 'the training finished before it could be observed');
    await new Promise((r) => setTimeout(r, 20));
  }
  const during = { embed: await medianMs(embed, 30), predict: await medianMs(predict, 30) };
  const still = (await request(app).get(`/v1/tasks/${busy}/jobs/${started.body.id}`).expect(200)).body;
  assert.equal(still.state, 'running', 'the measurements were taken while the job ran');
  t.diagnostic(
    `median ms idle → during training: embeddings ${idle.embed.toFixed(1)} → ${during.embed.toFixed(1)}, predict ${idle.predict.toFixed(1)} → ${during.predict.toFixed(1)}`,
  );
  // A fit on the event loop would hold requests for whole seconds; allow for a shared, noisy machine.
  for (const k of ['embed', 'predict'] as const) {
    assert.ok(during[k] < Math.max(10 * idle[k], 100), `${k}: median ${during[k].toFixed(1)} ms during training vs ${idle[k].toFixed(1)} ms idle`);
  }
  await request(app).delete(`/v1/tasks/${busy}/jobs/${started.body.id}`).expect(202);
  assert.equal((await waitForJob(app, busy, started.body.id, 60_000)).state, 'cancelled');
});

test('a training thread that crashes (out of memory) fails its job cleanly; the service stays up', async () => {
  const svc = await testService({ env: { TRANSFERD_TRAINING_HEAP_MB: '4' } });
  const app = svc.app.app;
  const taskId = await createTask(app, 'oom', rows);
  const job = await train(app, taskId, { head: 'random_forest' });
  assert.equal(job.state, 'failed');
  assert.equal(job.error!.code, 'worker_crashed', job.error!.message);
  assert.match(job.error!.message, /ran out of memory|crashed|exited/);
  assert.equal((await request(app).get(`/v1/tasks/${taskId}/versions`).expect(200)).body.data.length, 0, 'no half-written version');
  await request(app).post('/v1/embeddings').send({ input: 'still serving' }).expect(200);
  await request(app).get('/readyz').expect(200);
});
