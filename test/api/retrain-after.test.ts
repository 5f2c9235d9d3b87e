/**
 * A task that trains again by itself: PATCH retrain_after N, and the upload
 * that brings the Nth new example queues a job (trigger "retrain_after"),
 * which trains a new version with the task's last successful request.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { testService } from '../helpers/app.js';
import { assertDeclared } from '../helpers/declared.js';
import { intents, jsonl, type LabelledText } from '../helpers/fixtures.js';
import { createTask, train, waitForJob } from '../helpers/jobs.js';

const svc = await testService();
const app = svc.app.app;
const routes = svc.app.docs.routes;

/** Rows of the fixture the task does not have yet: `n` of them, from a pool of unseen texts. */
function unseenRows(): (n: number) => LabelledText[] {
  const have = new Set(intents(6).map((r) => r.text));
  const pool = intents(30).filter((r) => !have.has(r.text));
  let next = 0;
  return (n = 1) => {
    const rows = pool.slice(next, next + n);
    next += n;
    assert.equal(rows.length, n, 'the fixture has enough unseen texts');
    return rows;
  };
}

const upload = async (taskId: string, rows: LabelledText[]) => {
  const res = await request(app).post(`/v1/tasks/${taskId}/examples`).set('content-type', 'application/x-ndjson').send(jsonl(rows)).expect(201);
  assertDeclared(routes, 'post', '/v1/tasks/:task/examples', 201, res.body);
  return res.body as { retrain_job: string | null; inserted: number };
};
const getTask = async (taskId: string) => (await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body;
const jobsOf = async (taskId: string) => (await request(app).get(`/v1/tasks/${taskId}/jobs`).expect(200)).body.data as Array<Record<string, unknown>>;

test('retrain_after 5: five new examples in two uploads queue a job that trains a version; four more queue none', async () => {
  const taskId = await createTask(app, 'retrain', intents(6));
  const more = unseenRows();
  assert.equal((await getTask(taskId)).retrain_after, null, 'off by default');
  const patched = await request(app).patch(`/v1/tasks/${taskId}`).send({ retrain_after: 5 }).expect(200);
  assertDeclared(routes, 'patch', '/v1/tasks/:task', 200, patched.body);
  assert.deepEqual([patched.body.retrain_after, patched.body.new_examples], [5, 0]);

  assert.equal((await upload(taskId, more(3))).retrain_job, null);
  assert.equal((await getTask(taskId)).new_examples, 3);
  const second = await upload(taskId, more(2));
  assert.equal(typeof second.retrain_job, 'string');
  const jobs = await jobsOf(taskId);
  assert.equal(jobs.length, 1);
  assert.deepEqual([jobs[0]!.id, jobs[0]!.trigger], [second.retrain_job, 'retrain_after']);
  assert.equal((jobs[0]!.request as { head: { type: string } }).head.type, 'svm', "before any job succeeded: POST …/jobs's defaults");
  const done = await waitForJob(app, taskId, second.retrain_job!);
  assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
  assert.equal(done.trigger, 'retrain_after');
  const version = (await request(app).get(`/v1/tasks/${taskId}/versions/${done.version}`).expect(200)).body;
  assert.equal(version.example_count, 24 + 5, 'trained on the new examples too');
  const task = await getTask(taskId);
  assert.deepEqual([task.active_version, task.new_examples], [done.version, 0]);

  assert.equal((await upload(taskId, more(4))).retrain_job, null);
  assert.equal((await jobsOf(taskId)).length, 1, 'four new examples: no job');
  assert.equal((await getTask(taskId)).new_examples, 4);

  // A client's job restarts the count, and its request is the one reused once it succeeded.
  const mine = await train(app, taskId, { head: { type: 'logistic_regression', params: { C: 3 } }, evaluation: { method: 'cv', folds: 3 } });
  assert.deepEqual([mine.state, mine.trigger], ['succeeded', 'request']);
  assert.equal((await getTask(taskId)).new_examples, 0);
  assert.equal((await upload(taskId, more(4))).retrain_job, null);
  const again = (await upload(taskId, more(1))).retrain_job!;
  const reused = await waitForJob(app, taskId, again);
  assert.equal(reused.state, 'succeeded', JSON.stringify(reused.error));
  assert.deepEqual(reused.request, mine.request, "the last successful job's request, as it ran");
  assert.equal((reused.request.head as { params?: Record<string, unknown> }).params?.C, 3);

  // Off again: no job however many come.
  assert.equal((await request(app).patch(`/v1/tasks/${taskId}`).send({ retrain_after: null }).expect(200)).body.retrain_after, null);
  assert.equal((await upload(taskId, more(6))).retrain_job, null);
  assert.equal((await jobsOf(taskId)).length, 3);
});

test('retrain_after: a count that is not a whole number from 1 is a 400 naming it; the task is left as it was', async () => {
  const taskId = await createTask(app, 'retrain-invalid', intents(3));
  for (const value of [-1, 0, 2.5, '5', true, 1e9]) {
    const res = await request(app).patch(`/v1/tasks/${taskId}`).send({ retrain_after: value }).expect(400);
    assert.equal(res.body.error.param, 'retrain_after', JSON.stringify(res.body.error));
  }
  assert.equal((await getTask(taskId)).retrain_after, null);
  await request(app).patch(`/v1/tasks/${taskId}`).send({}).expect(400);
});
