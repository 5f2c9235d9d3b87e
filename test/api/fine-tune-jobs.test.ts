/**
 * Fine-tuning through training jobs, on the real model: a `fine_tune` head
 * trains the top layers on a hold-out by default, reports its steps and
 * epochs in the job, and makes an ordinary version that predicts; `auto`
 * with fine_tune compares it with the frozen heads on the same held-out rows;
 * a job handed back mid-training resumes after its last completed epoch; a
 * cancelled one stops between steps; parameters that cannot work are 400 and
 * a model that cannot be fine-tuned is 409, before a job is queued.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { loadJsonl, shuffled } from '../../bench/lib/datasets.js';
import { DEFAULT_INT8_MODEL, DEFAULT_MODEL } from '../../src/config.js';
import { FEW_SHOT_RECIPE } from '../../src/training/fine-tune/index.js';
import { testService } from '../helpers/app.js';
import { assertDeclared } from '../helpers/declared.js';
import { createTask, train, waitForJob } from '../helpers/jobs.js';

const service = await testService({ models: [DEFAULT_MODEL, DEFAULT_INT8_MODEL] });
const { app } = service.app;
const routes = service.app.docs.routes;
/** A version as the API serves it, held to its documented schema (closed: a report entry the document omits fails). */
const getVersion = async (taskId: string, version: number | null) => {
  const res = await request(app).get(`/v1/tasks/${taskId}/versions/${version}`).expect(200);
  assertDeclared(routes, 'get', '/v1/tasks/:task/versions/:version', 200, res.body);
  return res.body;
};

// 8 TREC questions a label (6 labels): small enough for a test, enough for a hold-out of every label.
const all = shuffled(loadJsonl('trec.train.jsonl'), 5);
const perLabel = new Map<string, number>();
const rows = all.filter((r) => {
  const n = perLabel.get(r.label) ?? 0;
  perLabel.set(r.label, n + 1);
  return n < 8;
});
/** Fine-tuning jobs run at the lowest CPU priority: on a loaded machine they wait their turn for minutes. */
const PATIENCE_MS = 900_000;
const small = { layers: 1, epochs: 2, batch_size: 8, learning_rate: 3e-4, max_tokens: 32 };

test('a fine_tune job trains the top layer on a hold-out, reports each epoch, and its version predicts', async () => {
  const taskId = await createTask(app, 'ft-questions', rows);
  const job = await train(app, taskId, { head: { type: 'fine_tune', params: small } }, PATIENCE_MS);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  assert.deepEqual(job.request.evaluation, { method: 'holdout', fraction: 0.2 }, 'a hold-out by default');
  const ft = job.progress.fine_tune!;
  assert.equal(ft.epochs, 2);
  assert.deepEqual(
    ft.epochs_done.map((e) => e.epoch),
    [1, 2],
  );
  for (const e of ft.epochs_done) assert.ok('accuracy' in e.held_out! && e.loss > 0);
  assert.equal(ft.step, ft.steps);
  const version = await getVersion(taskId, job.version);
  assert.equal(version.head_type, 'fine_tune');
  assert.equal(version.metrics.method, 'holdout');
  assert.equal(version.params.layers, 1);
  assert.equal(version.params.objective, 'classification');
  assert.deepEqual(version.feature_spec.tuned ? 'tuned' : 'frozen', 'tuned');
  const report = version.report.fine_tune;
  assert.equal(report.history.length, 2);
  // The report's history is rounded to 6 decimals, the metrics are not.
  assert.ok(Math.abs(report.history[1].held_out.accuracy - version.metrics.accuracy) < 1e-6, 'the last epoch is the version');
  assert.equal(report.trained_rows + report.held_out_rows >= rows.length, true);
  const predicted = await request(app)
    .post(`/v1/tasks/${taskId}/predict`)
    .send({ input: ['What is the capital of Peru?'] })
    .expect(200);
  assert.ok(predicted.body.data[0].label);
});

test('a contrastive fine_tune job: the version says so, is scored once its classifier is fitted, and predicts', async () => {
  const taskId = await createTask(app, 'ft-contrastive', rows);
  const job = await train(app, taskId, { head: { type: 'fine_tune', params: { ...small, objective: 'contrastive' } } }, PATIENCE_MS);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  const version = await getVersion(taskId, job.version);
  assert.equal(version.params.objective, 'contrastive');
  const history = version.report.fine_tune.history;
  assert.equal(history.length, 2);
  assert.equal(history[0].held_out, undefined, 'no classifier before the last epoch');
  assert.ok(Math.abs(history[1].held_out.accuracy - version.metrics.accuracy) < 1e-6);
  const predicted = await request(app)
    .post(`/v1/tasks/${taskId}/predict`)
    .send({ input: ['What is the capital of Peru?'] })
    .expect(200);
  assert.ok(perLabel.has(predicted.body.data[0].label), JSON.stringify(predicted.body));
});

test('few examples a label with descriptions: what a request leaves unset comes from the few-shot recipe', async () => {
  const taskId = (
    await request(app)
      .post('/v1/tasks')
      .send({ name: 'ft-few', labels: [...perLabel.keys()].map((name) => ({ name, description: `questions of type ${name}` })) })
      .expect(201)
  ).body.id as string;
  await request(app)
    .post(`/v1/tasks/${taskId}/examples`)
    .set('content-type', 'application/x-ndjson')
    .send(rows.map((r) => JSON.stringify(r)).join('\n'))
    .expect(201);
  const { epochs: _, ...unset } = small;
  const job = await train(app, taskId, { head: { type: 'fine_tune', params: unset } }, PATIENCE_MS);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  assert.equal(job.progress.fine_tune!.epochs, FEW_SHOT_RECIPE.epochs);
  const version = await getVersion(taskId, job.version);
  assert.equal(version.params.objective, 'contrastive', '8 a label, described: the few-shot recipe');
  assert.equal(version.params.epochs, FEW_SHOT_RECIPE.epochs);
});

test('auto with fine_tune puts both on the same held-out rows and keeps the better', async () => {
  const taskId = await createTask(app, 'ft-auto', rows);
  const job = await train(
    app,
    taskId,
    {
      head: { type: 'auto', candidates: ['logistic_regression', 'fine_tune'] },
      evaluation: { method: 'holdout', fraction: 0.25 },
    },
    PATIENCE_MS,
  );
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  const version = await getVersion(taskId, job.version);
  const c = version.report.candidates;
  assert.equal(c.metric, 'accuracy');
  assert.ok(c.rows > 0);
  assert.equal(c.frozen.head, 'logistic_regression');
  assert.equal(typeof c.fine_tune.score, 'number');
  assert.equal(c.chosen, c.fine_tune.score > c.frozen.score ? 'fine_tune' : 'logistic_regression');
  assert.equal(version.head_type, c.chosen);
});

test('parameters that cannot work are 400, naming the field, and nothing is queued', async () => {
  const taskId = await createTask(app, 'ft-bad', rows);
  const bad = async (body: object, param: string, message: RegExp) => {
    const res = await request(app).post(`/v1/tasks/${taskId}/jobs`).send(body).expect(400);
    assert.equal(res.body.error.param, param, JSON.stringify(res.body.error));
    assert.match(res.body.error.message, message);
  };
  await bad({ head: { type: 'fine_tune', params: { layers: 7 } } }, 'head.params.layers', /\[1, 6\]/);
  await bad({ head: { type: 'fine_tune', params: { layers: 0 } } }, 'head.params.layers', />=1|at least 1|too small/i);
  await bad({ head: { type: 'fine_tune', params: { learning_rate: 0 } } }, 'head.params.learning_rate', />0|greater than 0|too small/i);
  await bad({ head: { type: 'fine_tune', params: { max_tokens: 1000 } } }, 'head.params.max_tokens', /256/);
  await bad({ head: { type: 'fine_tune', params: { batch_size: 256, max_tokens: 128 } } }, 'head.params.batch_size', /8192 tokens a step/);
  await bad({ head: { type: 'fine_tune', params: { momentum: 0.9 } } }, 'head.params.momentum', /unknown field/);
  await bad({ head: { type: 'fine_tune', params: { objective: 'triplet' } } }, 'head.params.objective', /classification|contrastive/);
  await bad({ head: { type: 'fine_tune' }, evaluation: { method: 'cv', folds: 5 } }, 'evaluation', /hold-out/);
  await bad({ head: { type: 'fine_tune' }, layer_sweep: true }, 'layer_sweep', /does not apply/);
  await bad({ head: { type: 'fine_tune', search: true } }, 'head.search', /search|unrecognized/i);
  assert.equal((await request(app).get(`/v1/tasks/${taskId}/jobs`).expect(200)).body.data.length, 0);
  // The contrastive objective contrasts the labels of single-label examples.
  const multi = (await request(app).post('/v1/tasks').send({ name: 'ft-multi', kind: 'multi_label' }).expect(201)).body.id as string;
  await request(app)
    .post(`/v1/tasks/${multi}/examples`)
    .set('content-type', 'application/x-ndjson')
    .send(
      rows
        .slice(0, 12)
        .map((r, i) => JSON.stringify({ text: r.text, labels: [r.label, ...(i % 3 ? [] : ['extra'])] }))
        .join('\n'),
    )
    .expect(201);
  const res = await request(app)
    .post(`/v1/tasks/${multi}/jobs`)
    .send({ head: { type: 'fine_tune', params: { objective: 'contrastive' } } })
    .expect(400);
  assert.equal(res.body.error.param, 'head.params.objective');
  assert.match(res.body.error.message, /single-label/);
});

test('a model imported without what training needs is 409 model_not_trainable, with how to re-import it', async () => {
  const taskId = await createTask(app, 'ft-int8', rows, { model: DEFAULT_INT8_MODEL });
  const res = await request(app).post(`/v1/tasks/${taskId}/jobs`).send({ head: 'fine_tune' }).expect(409);
  assert.equal(res.body.error.code, 'model_not_trainable');
  assert.match(res.body.error.message, /int8/);
  const auto = await request(app)
    .post(`/v1/tasks/${taskId}/jobs`)
    .send({ head: { type: 'auto', candidates: ['svm', 'fine_tune'] } })
    .expect(409);
  assert.equal(auto.body.error.code, 'model_not_trainable');
  await request(app).post(`/v1/tasks/${taskId}/jobs`).send({ head: 'svm' }).expect(202);
});

// More questions, for runs long enough to act on while they train.
const longer = all.slice(0, 160);
const resumable = { layers: 1, epochs: 3, batch_size: 16, learning_rate: 2e-4, max_tokens: 32 };

test('a job handed back after an epoch resumes after it on the next replica, and ends as an uninterrupted run does', async () => {
  const straightTask = await createTask(app, 'ft-straight', longer);
  const straight = await train(app, straightTask, { head: { type: 'fine_tune', params: resumable }, seed: 3 }, PATIENCE_MS);
  assert.equal(straight.state, 'succeeded', JSON.stringify(straight.error));

  // A second replica on the same store, not training yet; this one is stopped (a shutdown) once a checkpoint is kept.
  const next = await testService({ store: service.store, train: false });
  const taskId = await createTask(app, 'ft-resumed', longer);
  const started = await request(app)
    .post(`/v1/tasks/${taskId}/jobs`)
    .send({ head: { type: 'fine_tune', params: resumable }, seed: 3 })
    .expect(202);
  const jobId = started.body.id as string;
  while (!(await service.store.getJobCheckpoint(jobId))) await new Promise((ok) => setTimeout(ok, 10));
  await service.runner.stop();
  const handedBack = (await request(app).get(`/v1/tasks/${taskId}/jobs/${jobId}`).expect(200)).body;
  assert.equal(handedBack.state, 'queued', 'a shutdown hands the job back');
  const kept = (await service.store.getJobCheckpoint(jobId))!;
  assert.ok(kept.epoch >= 1 && kept.epoch < resumable.epochs, `checkpoint after epoch ${kept.epoch}`);

  next.runner.start();
  const job = await waitForJob(next.app.app, taskId, jobId, PATIENCE_MS);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  assert.equal(job.attempts, 1, 'a hand-back does not count as an attempt');
  assert.deepEqual(
    job.progress.fine_tune!.epochs_done.map((e) => e.epoch),
    Array.from({ length: resumable.epochs - kept.epoch }, (_, i) => kept.epoch + 1 + i),
    'this attempt ran the epochs after the checkpoint only',
  );
  const resumed = await getVersion(taskId, job.version);
  const whole = (await request(app).get(`/v1/tasks/${straightTask}/versions/${straight.version}`).expect(200)).body;
  assert.equal(resumed.report.fine_tune.resumed_after_epoch, kept.epoch);
  assert.deepEqual(
    resumed.report.fine_tune.history.map((h: { loss: number }) => h.loss),
    whole.report.fine_tune.history.map((h: { loss: number }) => h.loss),
  );
  assert.deepEqual(resumed.metrics.accuracy, whole.metrics.accuracy, 'the same weights: the same hold-out score');
  assert.equal(await service.store.getJobCheckpoint(jobId), undefined, 'the checkpoint goes with the job end');
  // This replica trains again for the tests after this one.
  service.runner.start();
});

test('a fine-tuning job cancelled while it trains stops between steps and writes no version', async () => {
  const taskId = await createTask(app, 'ft-cancel', longer);
  const started = await request(app)
    .post(`/v1/tasks/${taskId}/jobs`)
    .send({ head: { type: 'fine_tune', params: { ...resumable, epochs: 40 } } })
    .expect(202);
  const jobId = started.body.id as string;
  for (;;) {
    const job = (await request(app).get(`/v1/tasks/${taskId}/jobs/${jobId}`).expect(200)).body;
    if (job.progress.fine_tune?.step > 0) break;
    await new Promise((ok) => setTimeout(ok, 20));
  }
  await request(app).delete(`/v1/tasks/${taskId}/jobs/${jobId}`).expect(202);
  const job = await waitForJob(app, taskId, jobId, PATIENCE_MS);
  assert.equal(job.state, 'cancelled');
  assert.ok(job.progress.fine_tune!.epochs_done.length < 40);
  assert.equal(job.version, null);
  assert.equal((await request(app).get(`/v1/tasks/${taskId}/versions`).expect(200)).body.data.length, 0);
});

test('a multi-label task fine-tunes with sigmoid outputs and thresholds chosen on the hold-out', async () => {
  const emotions = loadJsonl('goemotions.dev.jsonl').slice(0, 150) as unknown as Array<{ text: string; labels: string[] }>;
  const taskId = (await request(app).post('/v1/tasks').send({ name: 'ft-emotions', kind: 'multi_label' }).expect(201)).body.id as string;
  await request(app)
    .post(`/v1/tasks/${taskId}/examples`)
    .set('content-type', 'application/x-ndjson')
    .send(emotions.map((e) => JSON.stringify({ text: e.text, labels: e.labels })).join('\n'))
    .expect(201);
  const job = await train(app, taskId, { head: { type: 'fine_tune', params: { ...small, epochs: 1 } } }, PATIENCE_MS);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  assert.ok('macro_f1' in job.progress.fine_tune!.epochs_done[0]!.held_out!);
  const version = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}`).expect(200)).body;
  assert.equal(version.head_type, 'fine_tune');
  assert.equal(version.metrics.kind, 'multi_label');
  assert.equal(typeof version.metrics.macro_f1, 'number');
  const artifact = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}/artifact`).expect(200)).body;
  assert.equal(artifact.head.format, 'multi-label');
  assert.equal(artifact.head.thresholds.length, version.labels.length);
  const predicted = await request(app)
    .post(`/v1/tasks/${taskId}/predict`)
    .send({ input: ['Thank you so much, this is wonderful!'] })
    .expect(200);
  assert.ok(Array.isArray(predicted.body.data[0].labels));
});
