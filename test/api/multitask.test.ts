/**
 * Multi-task training through the API: two tasks with different texts and
 * labels trained together, a version for each (an ordinary mlp, usable
 * alone), the joint and the alone scores side by side in each report, and
 * the requests it refuses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { testService } from '../helpers/app.js';
import { intents } from '../helpers/fixtures.js';
import { assertDeclared } from '../helpers/declared.js';
import { createTask, waitForJob } from '../helpers/jobs.js';

const svc = await testService();
const app = svc.app.app;
const rows = intents(24);
const pick = (labels: string[]) => rows.filter((r) => labels.includes(r.label));

test('two tasks trained together: one job, a version each, joint beside alone in each report', async () => {
  const a = await createTask(app, 'mt-a', pick(['weather', 'music']));
  const b = await createTask(app, 'mt-b', pick(['banking', 'sports']));
  const started = await request(app)
    .post('/v1/multitask-jobs')
    .send({ tasks: [a, b], params: { hidden_layer_sizes: [32], max_iter: 300 }, evaluation: { method: 'cv', folds: 3 } })
    .expect(202);
  assert.equal(started.headers.location, `/v1/tasks/${a}/jobs/${started.body.id}`);
  assert.deepEqual(started.body.request.tasks, [a, b]);
  const job = await waitForJob(app, a, started.body.id);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  for (const [taskId, label] of [
    [a, 'weather'],
    [b, 'banking'],
  ] as const) {
    const task = (await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body;
    assert.equal(task.active_version, 1);
    const version = (await request(app).get(`/v1/tasks/${taskId}/versions/1`).expect(200)).body;
    assertDeclared(svc.app.docs.routes, 'get', '/v1/tasks/:task/versions/:version', 200, version);
    assert.equal(version.head_type, 'mlp');
    assert.equal(version.job, started.body.id);
    const mt = version.report.multitask;
    assert.deepEqual(mt.tasks, [a, b]);
    for (const side of ['joint', 'alone']) assert.ok(mt[side].accuracy > 0.8, `${taskId} ${side} ${JSON.stringify(mt[side])}`);
    assert.equal(version.metrics.accuracy, mt.joint.accuracy);
    const text = rows.find((r) => r.label === label)!.text;
    const predicted = (await request(app).post(`/v1/tasks/${taskId}/predict`).send({ input: text }).expect(200)).body.data[0];
    assert.equal(predicted.label, label);
  }
});

test('multi-task requests it refuses, each with a clear 4xx and no job', async () => {
  const a = await createTask(app, 'mtx-a', pick(['weather', 'music']));
  const b = await createTask(app, 'mtx-b', pick(['banking', 'sports']));
  const other = (
    await request(app)
      .post('/v1/tasks')
      .send({ name: 'mtx-l3', feature_spec: { layers: 3 } })
      .expect(201)
  ).body.id;
  const multi = (await request(app).post('/v1/tasks').send({ name: 'mtx-multi', kind: 'multi_label' }).expect(201)).body.id;
  const refuse = async (body: object, status: number, param: string) => {
    const res = await request(app).post('/v1/multitask-jobs').send(body).expect(status);
    assert.equal(res.body.error.param, param, JSON.stringify(res.body.error));
  };
  await refuse({ tasks: [a] }, 400, 'tasks');
  await refuse({ tasks: [a, a] }, 400, 'tasks[1]');
  await refuse({ tasks: [a, 'task_nope'] }, 404, 'tasks[1]');
  await refuse({ tasks: [a, other] }, 400, 'tasks[1]');
  await refuse({ tasks: [a, multi] }, 400, 'tasks[1]');
  await refuse({ tasks: [a, b], params: { hidden_layer_sizes: [] } }, 400, 'params.hidden_layer_sizes');
  const empty = await createTask(app, 'mtx-empty', []);
  await refuse({ tasks: [a, empty] }, 409, 'tasks[1]');
  for (const id of [a, b]) assert.equal((await request(app).get(`/v1/tasks/${id}/jobs`).expect(200)).body.data.length, 0);
});
