import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { intents, LONG_JOB } from '../helpers/fixtures.js';
import { testService } from '../helpers/app.js';
import { createTask, train, waitForJob } from '../helpers/jobs.js';

const svc = await testService();
const app = svc.app.app;
const rows = intents(30);
const HELD_OUT = [
  { text: 'Is it going to snow in Vienna on Friday?', label: 'weather' },
  { text: 'Play the new album by my favourite band', label: 'music' },
  { text: 'Send 300 euros from my checking account to my landlord', label: 'banking' },
  { text: 'Which team scored first in the championship final?', label: 'sports' },
];

/** The task's predictions of the held-out texts, each of which must get its own label. */
async function predictHeldOut(taskId: string) {
  const res = await request(app)
    .post(`/v1/tasks/${taskId}/predict`)
    .send({ input: HELD_OUT.map((h) => h.text) })
    .expect(200);
  assert.deepEqual(
    res.body.data.map((d: { label: string }) => d.label),
    HELD_OUT.map((h) => h.label),
  );
  return res.body;
}

test('train an SVM through the API: 202 + Location, progress, an honest evaluation, then predictions', async () => {
  const taskId = await createTask(app, 'svm-e2e', rows);
  const started = await request(app).post(`/v1/tasks/${taskId}/jobs`).send({ head: 'svm' }).expect(202);
  assert.equal(started.headers.location, `/v1/tasks/${taskId}/jobs/${started.body.id}`);
  assert.ok(['queued', 'running'].includes(started.body.state));
  const job = await waitForJob(app, taskId, started.body.id);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  assert.equal(job.version, 1);
  assert.equal(job.progress.percent, 100);
  assert.ok(job.timings.some((t) => t.phase === 'features'));

  const version = (await request(app).get(`/v1/tasks/${taskId}/versions/1`).expect(200)).body;
  assert.equal(version.active, true);
  assert.equal(version.head_type, 'svm');
  assert.deepEqual(version.labels, ['banking', 'music', 'sports', 'weather']);
  assert.equal(version.example_count, rows.length);
  assert.equal(version.metrics.method, 'cv');
  assert.equal(version.metrics.folds, 5);
  assert.equal(version.metrics.fold_accuracy.length, 5);
  assert.ok(version.metrics.accuracy > 0.9, `cross-validated accuracy ${version.metrics.accuracy}`);
  assert.equal(version.metrics.per_label.length, 4);
  assert.equal(
    version.metrics.confusion_matrix.matrix.flat().reduce((a: number, b: number) => a + b, 0),
    rows.length,
  );
  const artifact = (await request(app).get(`/v1/tasks/${taskId}/versions/1/artifact`).expect(200)).body;
  assert.equal(artifact.format, 'libsvm');
  assert.match(artifact.model, /^svm_type c_svc\nkernel_type rbf/);
  assert.match(artifact.model, /\nprobA /, 'the model carries libsvm probability estimates');

  const predicted = await predictHeldOut(taskId);
  assert.equal(predicted.version, 1);
  for (const d of predicted.data) {
    const sum = Object.values(d.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-3, `probabilities sum to ${sum}`);
    assert.equal(d.score, d.probabilities[d.label]);
  }
  const one = await request(app).post(`/v1/tasks/${taskId}/predict`).send({ input: HELD_OUT[2]!.text, top_k: 2 }).expect(200);
  assert.equal(Object.keys(one.body.data[0].probabilities).length, 2);
  assert.equal(one.body.data[0].label, 'banking');
});

test('a logistic regression head: trained, stored as plain weights, predicting the held-out texts; auto searches it', async () => {
  const taskId = await createTask(app, 'logistic', rows);
  const job = await train(app, taskId, { head: { type: 'logistic_regression', params: { C: 10 } } });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  const version = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}`).expect(200)).body;
  assert.equal(version.head_type, 'logistic_regression');
  assert.deepEqual(version.params, { C: 10, class_weight: null, max_iter: 200, tolerance: 1e-4 });
  assert.ok(version.metrics.accuracy > 0.9, `cross-validated accuracy ${version.metrics.accuracy}`);
  const artifact = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}/artifact`).expect(200)).body;
  assert.equal(artifact.format, 'softmax-linear');
  assert.equal(artifact.weights.length, 4 * artifact.dim);
  await predictHeldOut(taskId);
  const auto = await request(app).post(`/v1/tasks/${taskId}/jobs`).send({ head: 'auto', activate: false }).expect(202);
  assert.deepEqual(auto.body.request.head.candidates, ['svm', 'random_forest', 'logistic_regression']);
  await request(app).delete(`/v1/tasks/${taskId}/jobs/${auto.body.id}`);
  const named = await request(app)
    .post(`/v1/tasks/${taskId}/jobs`)
    .send({ head: { type: 'auto', candidates: ['logistic_regression'] }, activate: false })
    .expect(202);
  const searched = await waitForJob(app, taskId, named.body.id);
  assert.equal(searched.state, 'succeeded', JSON.stringify(searched.error));
  const report = (await request(app).get(`/v1/tasks/${taskId}/versions/${searched.version}`).expect(200)).body.report;
  assert.equal(report.search.results.length, 5, 'the five values of C');
});

test('an mlp head: trained, stored as plain weights, predicting the held-out texts; bad layer sizes are refused', async () => {
  const taskId = await createTask(app, 'mlp', rows);
  const job = await train(app, taskId, { head: { type: 'mlp', params: { hidden_layer_sizes: [32], max_iter: 300 } } });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  const version = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}`).expect(200)).body;
  assert.equal(version.head_type, 'mlp');
  assert.deepEqual(version.params.hidden_layer_sizes, [32]);
  assert.equal(version.params.early_stopping, true);
  const artifact = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}/artifact`).expect(200)).body;
  assert.equal(artifact.format, 'mlp');
  assert.deepEqual(
    artifact.layers.map((l: { in: number; out: number }) => [l.in, l.out]),
    [
      [artifact.dim, 32],
      [32, 4],
    ],
  );
  await predictHeldOut(taskId);
  const bad = await request(app)
    .post(`/v1/tasks/${taskId}/jobs`)
    .send({ head: { type: 'mlp', params: { hidden_layer_sizes: [64, 64, 64] } } })
    .expect(400);
  assert.match(bad.body.error.message, /hidden_layer_sizes/);
});

test('a learning curve: the chosen head on growing shares of the training rows, and an estimate of what more would bring', async () => {
  const taskId = await createTask(app, 'curve', rows);
  const job = await train(app, taskId, { head: 'logistic_regression', learning_curve: { fractions: [0.5, 0.2] }, activate: false });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  assert.deepEqual((job.request as { learning_curve: unknown }).learning_curve, { fractions: [0.2, 0.5] });
  const version = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}`).expect(200)).body;
  const curve = version.report.learning_curve;
  assert.equal(curve.metric, 'accuracy');
  assert.deepEqual(
    curve.points.map((p: { fraction: number }) => p.fraction),
    [0.2, 0.5, 1],
  );
  const examples = curve.points.map((p: { examples: number }) => p.examples);
  assert.ok(examples[0] < examples[1] && examples[1] < examples[2], `examples ${examples}`);
  assert.equal(curve.points[2].accuracy, version.metrics.accuracy, 'the whole is the evaluation itself');
  assert.ok(curve.points.every((p: { accuracy: number; macro_f1: number }) => p.accuracy >= 0 && p.accuracy <= 1 && p.macro_f1 >= 0));
  assert.deepEqual(curve.points[2].fold_accuracy, version.metrics.fold_accuracy, "each fold's score at the full share is the evaluation's");
  const { accuracy_at_double: atDouble, interval } = curve.estimate;
  assert.ok(interval[0] <= atDouble && atDouble <= interval[1], `${atDouble} within [${interval}]`);
  assert.equal(curve.estimate.doubled_examples, 2 * curve.points[2].examples);
  await request(app)
    .post(`/v1/tasks/${taskId}/jobs`)
    .send({ learning_curve: { fractions: [1.5] } })
    .expect(400);
});

test('a random forest version, rollback to the SVM, and pinned versions', async () => {
  const taskId = await createTask(app, 'versions', rows);
  assert.equal((await train(app, taskId, { head: 'svm' })).state, 'succeeded');
  const forest = await train(app, taskId, { head: { type: 'random_forest', params: { n_estimators: 50, seed: 7 } }, activate: true });
  assert.equal(forest.state, 'succeeded', JSON.stringify(forest.error));
  assert.equal(forest.version, 2);
  const v2 = (await request(app).get(`/v1/tasks/${taskId}/versions/2`).expect(200)).body;
  assert.equal(v2.head_type, 'random_forest');
  assert.deepEqual(v2.report.activation.decision, 'activated');
  assert.match(v2.report.activation.reason, /activate: true/);
  assert.equal(v2.params.n_estimators, 50);
  assert.equal((await request(app).get(`/v1/tasks/${taskId}/versions/2/artifact`).expect(200)).body.format, 'ml-random-forest');
  const predict = async (extra: object = {}) =>
    (
      await request(app)
        .post(`/v1/tasks/${taskId}/predict`)
        .send({ input: HELD_OUT[0]!.text, ...extra })
        .expect(200)
    ).body;
  assert.equal((await predict()).version, 2, 'the new version became active');
  assert.equal((await request(app).post(`/v1/tasks/${taskId}/versions/1/activate`).expect(200)).body.active_version, 1);
  assert.equal((await predict()).version, 1, 'rollback took effect at once');
  assert.equal((await predict({ version: 2 })).version, 2);
  const list = (await request(app).get(`/v1/tasks/${taskId}/versions`).expect(200)).body.data;
  assert.deepEqual(
    list.map((v: { version: number; active: boolean }) => [v.version, v.active]),
    [
      [1, true],
      [2, false],
    ],
  );
  assert.equal((await request(app).delete(`/v1/tasks/${taskId}/versions/1`).expect(409)).body.error.code, 'version_active');
  await request(app).delete(`/v1/tasks/${taskId}/versions/2`).expect(204);
  await request(app).post(`/v1/tasks/${taskId}/predict`).send({ input: 'x', version: 2 }).expect(404);
  const inactive = await train(app, taskId, { head: 'svm', activate: false });
  assert.equal(inactive.version, 3);
  assert.equal((await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body.active_version, 1, 'activate=false leaves the active version alone');
});

test('features are computed once: retraining and a second task with the same spec never call the encoder', async () => {
  const taskId = await createTask(app, 'reuse-a', rows);
  assert.equal((await train(app, taskId, { head: 'svm' })).state, 'succeeded');
  const before = svc.features.encodedTexts.training;
  const again = await train(app, taskId, { head: { type: 'svm', params: { C: 1 } } });
  assert.equal(again.state, 'succeeded');
  assert.equal(svc.features.encodedTexts.training, before, 'retraining encoded nothing');
  assert.equal((await request(app).get(`/v1/tasks/${taskId}/versions/${again.version}`).expect(200)).body.report.features.encoded_texts, 0);
  const other = await createTask(app, 'reuse-b', rows);
  assert.equal((await train(app, other, { head: 'random_forest' })).state, 'succeeded');
  assert.equal(svc.features.encodedTexts.training, before, 'another task with the same spec and texts encoded nothing');
});

test('layer sweep: every hidden state and the top-layer concatenation are cross-validated; the best, or a smaller candidate within one standard error, is trained', async () => {
  const taskId = await createTask(app, 'sweep', rows);
  const job = await train(app, taskId, { head: 'svm', layer_sweep: true, evaluation: { method: 'cv', folds: 3 } });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  const v = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}`).expect(200)).body;
  const sweep = v.report.layer_sweep;
  assert.deepEqual(sweep.results.map((r: { layers: number[] }) => r.layers.join('+')).sort(), ['0', '1', '2', '3', '4', '4+5+6', '5', '6'].sort());
  type Row = { layers: number[]; macro_f1: number; dimensions: number; within_one_se: boolean };
  const candidates: Row[] = sweep.results;
  const best = candidates.reduce((b, r) => (r.macro_f1 > b.macro_f1 ? r : b));
  assert.ok(best.within_one_se, 'the best candidate is within one standard error of itself');
  const close = candidates.filter((r) => r.within_one_se);
  const chosen = candidates.find((r) => r.layers.join('+') === sweep.chosen.layers.join('+'))!;
  assert.ok(chosen.within_one_se, 'the chosen candidate is close to the best');
  assert.equal(chosen.dimensions, Math.min(...close.map((r) => r.dimensions)), 'and has the fewest dimensions of those close to it');
  assert.deepEqual(v.feature_spec.layers, sweep.chosen.layers, 'the version was trained on the chosen layers');
  const p = await request(app).post(`/v1/tasks/${taskId}/predict`).send({ input: HELD_OUT[1]!.text }).expect(200);
  assert.equal(p.body.data[0].label, 'music');
});

test('auto: the whole grid is cross-validated and reported; the best macro-F1 wins', async () => {
  const taskId = await createTask(app, 'auto', rows);
  const job = await train(app, taskId, { head: 'auto', evaluation: { method: 'cv', folds: 3 } });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  const v = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}`).expect(200)).body;
  const results = v.report.search.results as Array<{ head_type: string; params: { kernel?: string; C?: number }; macro_f1: number }>;
  assert.equal(results.filter((r) => r.head_type === 'svm' && r.params.kernel === 'linear').length, 4);
  assert.equal(results.filter((r) => r.head_type === 'svm' && r.params.kernel === 'rbf').length, 12);
  assert.deepEqual(
    [...new Set(results.filter((r) => r.head_type === 'svm').map((r) => r.params.C))].sort((a, b) => a! - b!),
    [0.1, 1, 10, 100],
  );
  assert.ok(results.some((r) => r.head_type === 'random_forest'));
  const best = Math.max(...results.map((r) => r.macro_f1));
  assert.equal(v.metrics.macro_f1, best, "the version carries the winner's cross-validated score");
  assert.equal(v.head_type, v.report.search.chosen.head_type);
});

test('hold-out evaluation and evaluating a version on a labelled set the client sends', async () => {
  const taskId = await createTask(app, 'holdout', rows);
  const job = await train(app, taskId, { head: 'svm', evaluation: { method: 'holdout', fraction: 0.25 } });
  const v = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}`).expect(200)).body;
  assert.equal(v.metrics.method, 'holdout');
  assert.ok(Math.abs(v.metrics.n - rows.length * 0.25) <= 4, `held out ${v.metrics.n} of ${rows.length}`);
  const ev = (
    await request(app)
      .post(`/v1/tasks/${taskId}/evaluate`)
      .send({ examples: [...HELD_OUT, { text: 'Book a table for two', label: 'restaurant' }] })
      .expect(200)
  ).body;
  assert.equal(ev.n, 5);
  assert.deepEqual(ev.unknown_labels, ['restaurant']);
  assert.equal(ev.accuracy, 0.8, 'the four known intents right, the unknown label necessarily wrong');
});

test('multi-task predict: one encoder pass per distinct feature spec, every head on the shared features', async () => {
  const a = await createTask(app, 'multi-a', rows);
  const b = await createTask(
    app,
    'multi-b',
    rows.map((r) => ({ text: r.text, label: r.label === 'banking' ? 'money' : 'other' })),
  );
  const c = await createTask(app, 'multi-c', rows, { layers: 3 });
  for (const t of [a, b, c]) assert.equal((await train(app, t, { head: 'svm' })).state, 'succeeded');
  const texts = ['Will it be sunny in Rome on Saturday?', 'Pay my phone bill from my checking account', 'A completely new sentence about nothing'];
  const before = svc.features.encodedTexts.predict;
  const res = (
    await request(app)
      .post('/v1/predict')
      .send({ input: texts, tasks: [a, { task: b, version: 1 }, c] })
      .expect(200)
  ).body;
  assert.deepEqual(
    res.data.map((d: { task: string }) => d.task),
    [a, b, c],
  );
  assert.equal(res.data[0].predictions[0].label, 'weather');
  assert.equal(res.data[1].predictions[1].label, 'money');
  assert.equal(svc.features.encodedTexts.predict - before, texts.length, 'each text went through the encoder once for three tasks and two specs');
  assert.equal(res.usage.encoded_texts, texts.length);
  const again = (
    await request(app)
      .post('/v1/predict')
      .send({ input: texts, tasks: [a, b, c] })
      .expect(200)
  ).body;
  assert.equal(again.usage.encoded_texts, 0, 'texts already seen are never encoded again');
  const bad = await request(app)
    .post('/v1/predict')
    .send({ input: 'x', tasks: [a, 'task_nope'] })
    .expect(404);
  assert.equal(bad.body.error.param, 'tasks[1]');
});

test('bad training and predict requests get clear 4xx errors and create nothing', async () => {
  const empty = await createTask(app, 'empty', []);
  const one = await createTask(
    app,
    'one-label',
    rows.filter((r) => r.label === 'music'),
  );
  const ok = await createTask(app, 'fine', rows);
  const cases: Array<[string, object, number, string, RegExp, string | null]> = [
    [empty, {}, 409, 'no_examples', /no examples/, null],
    [one, {}, 409, 'too_few_labels', /at least two/, null],
    [ok, { head: 'xgboost' }, 400, 'invalid_request', /svm|random_forest|auto/, 'head'],
    [ok, { head: { type: 'svm', params: { C: -1 } } }, 400, 'invalid_request', /C/, 'head.params.C'],
    [ok, { head: { type: 'svm', params: { kernel: 'sigmoid' } } }, 400, 'invalid_request', /linear/, 'head.params.kernel'],
    [ok, { head: { type: 'random_forest', params: { n_estimators: 0 } } }, 400, 'invalid_request', />=1/, 'head.params.n_estimators'],
    [ok, { head: { type: 'svm', params: { class_weight: { cooking: 2 } } } }, 400, 'unknown_label', /"cooking"/, 'head.params.class_weight'],
    [ok, { evaluation: { method: 'cv', folds: 1 } }, 400, 'invalid_request', />=2/, 'evaluation.folds'],
    [ok, { layer_sweep: { layers: [9] } }, 400, 'invalid_feature_spec', /out of range/, 'layer_sweep.layers'],
    [ok, { epochs: 3 }, 400, 'invalid_request', /unknown field "epochs"/, 'epochs'],
  ];
  for (const [taskId, body, status, code, message, param] of cases) {
    const res = await request(app).post(`/v1/tasks/${taskId}/jobs`).send(body).expect(status);
    assert.equal(res.body.error.code, code, JSON.stringify(body));
    assert.match(res.body.error.message, message, JSON.stringify(body));
    assert.equal(res.body.error.param, param, JSON.stringify(body));
  }
  for (const t of [empty, one]) assert.equal((await request(app).get(`/v1/tasks/${t}/jobs`).expect(200)).body.data.length, 0, 'no job was created');
  assert.equal((await request(app).post(`/v1/tasks/${ok}/predict`).send({ input: 'hello' }).expect(409)).body.error.code, 'no_active_version');
  assert.equal((await request(app).post('/v1/tasks/task_nope/predict').send({ input: 'hello' }).expect(404)).body.error.code, 'task_not_found');
  assert.equal((await request(app).post('/v1/tasks/task_nope/jobs').send({}).expect(404)).body.error.code, 'task_not_found');
  assert.equal((await request(app).get(`/v1/tasks/${ok}/jobs/job_nope`).expect(404)).body.error.code, 'job_not_found');
  assert.equal((await request(app).get(`/v1/tasks/${ok}/versions/7`).expect(404)).body.error.code, 'version_not_found');
  assert.equal((await request(app).post(`/v1/tasks/${ok}/predict`).send({ input: [] }).expect(400)).body.error.param, 'input');
  const done = await train(app, ok, { head: 'svm' });
  assert.equal((await request(app).delete(`/v1/tasks/${ok}/jobs/${done.id}`).expect(409)).body.error.code, 'job_finished');
  assert.equal((await request(app).post(`/v1/tasks/${ok}/predict`).send({ input: 'x', version: 5 }).expect(404)).body.error.code, 'version_not_found');
});

test('cancelling: a running job stops and records it; the task keeps its active version', async () => {
  const taskId = await createTask(app, 'cancel', rows);
  const started = await request(app).post(`/v1/tasks/${taskId}/jobs`).send(LONG_JOB).expect(202);
  for (;;) {
    const j = (await request(app).get(`/v1/tasks/${taskId}/jobs/${started.body.id}`).expect(200)).body;
    if (j.state === 'running' && j.progress.phase !== 'features') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const cancel = await request(app).delete(`/v1/tasks/${taskId}/jobs/${started.body.id}`).expect(202);
  assert.equal(cancel.body.cancel_requested, true);
  const job = await waitForJob(app, taskId, started.body.id, 30_000);
  assert.equal(job.state, 'cancelled');
  assert.equal(job.version, null);
  assert.equal((await request(app).get(`/v1/tasks/${taskId}/versions`).expect(200)).body.data.length, 0);
});

test('deleting a task removes its examples, jobs and versions', async () => {
  const taskId = await createTask(app, 'doomed', rows);
  await train(app, taskId, { head: 'svm' });
  await request(app).delete(`/v1/tasks/${taskId}`).expect(204);
  await request(app).get(`/v1/tasks/${taskId}/versions`).expect(404);
  await request(app).post(`/v1/tasks/${taskId}/predict`).send({ input: 'x' }).expect(404);
  assert.equal((await svc.store.allExamples('default', taskId)).length, 0);
});

test('few examples train as the examples allow: a fold per example at most, a hold-out of what can be held out, or no evaluation', async () => {
  const few = [...rows.filter((r) => r.label !== 'sports'), ...rows.filter((r) => r.label === 'sports').slice(0, 3)];
  const small = await createTask(app, 'few-sports', few);
  const cv = await train(app, small, { head: 'logistic_regression' });
  assert.equal(cv.state, 'succeeded', JSON.stringify(cv.error));
  const v = (await request(app).get(`/v1/tasks/${small}/versions/${cv.version}`).expect(200)).body;
  assert.equal(v.metrics.method, 'cv');
  assert.equal(v.metrics.folds, 5, 'five folds: a label with three examples is held out in three of them');
  assert.equal(v.metrics.n, few.length, 'every example held out once');

  const tiny = await createTask(app, 'three-examples', [rows[0]!, rows.find((r) => r.label !== rows[0]!.label)!, rows[2]!]);
  const loo = await train(app, tiny, { head: 'logistic_regression' });
  const tv = (await request(app).get(`/v1/tasks/${tiny}/versions/${loo.version}`).expect(200)).body;
  // Two labels of two and one examples: two folds, so no fold holds out one label's examples and not the other's.
  assert.deepEqual([tv.metrics.method, tv.metrics.folds, tv.metrics.requested_folds, tv.metrics.n], ['cv', 2, 5, 3], 'as many folds as a label has');

  const holdout = await train(app, tiny, { head: 'logistic_regression', evaluation: { method: 'holdout' } });
  const hv = (await request(app).get(`/v1/tasks/${tiny}/versions/${holdout.version}`).expect(200)).body;
  assert.equal(hv.metrics.method, 'holdout', 'the label with two examples gives one to hold out');
  assert.equal(hv.metrics.n, 1);

  const none = await train(app, tiny, { head: 'logistic_regression', evaluation: { method: 'none' } });
  const nv = (await request(app).get(`/v1/tasks/${tiny}/versions/${none.version}`).expect(200)).body;
  assert.deepEqual(nv.metrics, { method: 'none', reason: 'the request asked for no evaluation' }, 'no score is invented');
  assert.equal(nv.report.activation.decision, 'kept', 'nothing to compare with the active version');
  const listed = (await request(app).get(`/v1/tasks/${tiny}/versions`).expect(200)).body.data;
  assert.deepEqual(listed.at(-1).metrics, { method: 'none', reason: 'the request asked for no evaluation' });
  const forced = await train(app, tiny, { head: 'logistic_regression', evaluation: { method: 'none' }, activate: true });
  assert.equal((await request(app).get(`/v1/tasks/${tiny}`).expect(200)).body.active_version, forced.version, 'activate: true forces it');
});

test('a new version takes over only when it beats the active one on the same examples, each scored out of sample', async () => {
  const taskId = await createTask(app, 'gated', rows);
  const good = await train(app, taskId, { head: 'logistic_regression' });
  const gv = (await request(app).get(`/v1/tasks/${taskId}/versions/${good.version}`).expect(200)).body;
  assert.deepEqual([gv.report.activation.decision, gv.report.activation.reason], ['activated', 'the task had no active version']);
  // A single stump tells at most two of the four labels apart: far worse on the same rows.
  const bad = await train(app, taskId, { head: { type: 'random_forest', params: { n_estimators: 1, max_depth: 1, seed: 1 } } });
  assert.equal(bad.state, 'succeeded', JSON.stringify(bad.error));
  const bv = (await request(app).get(`/v1/tasks/${taskId}/versions/${bad.version}`).expect(200)).body;
  const { compared } = bv.report.activation;
  assert.equal(bv.report.activation.decision, 'kept');
  assert.equal(compared.rows, rows.length, 'the active version trained on every row: its out-of-fold predictions score it');
  assert.equal(compared.active.version, good.version);
  assert.equal(compared.active.score, gv.metrics.accuracy, "the active version's score is its own out-of-fold accuracy");
  assert.equal(compared.new, bv.metrics.accuracy);
  assert.ok(compared.new < compared.active.score, JSON.stringify(compared));
  assert.equal((await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body.active_version, good.version, 'the better version stays');
  // New examples since the active version: it is scored on them by predicting them (it never saw them).
  await request(app).post(`/v1/tasks/${taskId}/examples`).send(HELD_OUT).expect(201);
  const again = await train(app, taskId, { head: 'logistic_regression', seed: 3 });
  const av = (await request(app).get(`/v1/tasks/${taskId}/versions/${again.version}`).expect(200)).body;
  assert.equal(av.report.activation.compared.rows, rows.length + HELD_OUT.length);
  assert.equal(av.report.activation.decision, av.report.activation.compared.new > av.report.activation.compared.active.score ? 'activated' : 'kept');
});
