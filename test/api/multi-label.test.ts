/**
 * Multi-label tasks through the API: examples carry label sets (JSON Lines and
 * CSV), a logistic-regression or MLP head gives every label its own
 * probability and threshold, predictions are label sets, and /v1/predict mixes
 * them with single-label tasks. The texts join two intents of the fixture, so
 * the right set is known and learnable.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { DATASETS_DIR } from '../../bench/lib/datasets.js';
import { testService } from '../helpers/app.js';
import { intents, labelSets as sets } from '../helpers/fixtures.js';
import { assertDeclared } from '../helpers/declared.js';
import { createTask, train } from '../helpers/jobs.js';

const svc = await testService();
const app = svc.app.app;

/** A version, checked against the schema GET …/versions/{version} declares. */
async function versionOf(taskId: string, number: number | null) {
  const body = (await request(app).get(`/v1/tasks/${taskId}/versions/${number}`).expect(200)).body;
  assertDeclared(svc.app.docs.routes, 'get', '/v1/tasks/:task/versions/:version', 200, body);
  return body;
}

const post = (taskId: string, type: string, body: string) => request(app).post(`/v1/tasks/${taskId}/examples`).set('content-type', type).send(body);

async function multiTask(name: string): Promise<string> {
  const task = (await request(app).post('/v1/tasks').send({ name, kind: 'multi_label' }).expect(201)).body;
  assert.equal(task.kind, 'multi_label');
  return task.id;
}

test('a multi-label task: label sets in, per-label thresholds, label sets out, mixed with a single-label task', async () => {
  const taskId = await multiTask('tags');
  const rows = sets(24, 0);
  const half = rows.length / 2;
  await post(
    taskId,
    'application/x-ndjson',
    rows
      .slice(0, half)
      .map((r) => JSON.stringify(r))
      .join('\n'),
  ).expect(201);
  const csv = ['text,labels', ...rows.slice(half).map((r) => `"${r.text.replaceAll('"', '""')}",${r.labels.join('|')}`)].join('\n');
  await post(taskId, 'text/csv', csv).expect(201);
  const task = (await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body;
  assert.equal(task.example_count, rows.length);
  const expected = new Map<string, number>();
  for (const r of rows) for (const l of r.labels) expected.set(l, (expected.get(l) ?? 0) + 1);
  assert.deepEqual(task.label_counts, Object.fromEntries([...expected].sort()), 'a set counts once for each of its labels');
  const listed = (await request(app).get(`/v1/tasks/${taskId}/examples?limit=3`).expect(200)).body.data;
  assert.ok(listed.every((e: { labels?: string[]; label?: string }) => Array.isArray(e.labels) && e.label === undefined));

  const job = await train(app, taskId, { head: { type: 'logistic_regression', params: { C: 10 } } });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  const version = await versionOf(taskId, job.version);
  assert.equal(version.metrics.kind, 'multi_label');
  for (const key of ['micro_f1', 'macro_f1', 'subset_accuracy', 'hamming_loss']) assert.equal(typeof version.metrics[key], 'number', key);
  assert.ok(version.metrics.micro_f1 > 0.8, `cross-validated micro-F1 ${version.metrics.micro_f1}`);
  assert.equal(version.metrics.per_label.length, 4);
  for (const l of version.metrics.per_label) assert.ok(l.threshold > 0 && l.threshold < 1, `${l.label} threshold ${l.threshold}`);
  const summary = (await request(app).get(`/v1/tasks/${taskId}/versions`).expect(200)).body.data[0];
  assert.equal(summary.metrics.kind, 'multi_label');
  const artifact = (await request(app).get(`/v1/tasks/${taskId}/versions/${job.version}/artifact`).expect(200)).body;
  assert.equal(artifact.format, 'multi-label');
  assert.equal(artifact.head.output, 'sigmoid');

  const held = sets(4, 40).filter((r) => r.labels.length === 2);
  const res = await request(app)
    .post(`/v1/tasks/${taskId}/predict`)
    .send({ input: held.map((h) => h.text) })
    .expect(200);
  assert.equal(res.body.kind, 'multi_label');
  let exact = 0;
  for (const [i, p] of res.body.data.entries()) {
    assert.equal(Object.keys(p.probabilities).length, 4);
    assert.ok(p.label === undefined && Array.isArray(p.labels));
    if ([...p.labels].sort().join() === [...held[i]!.labels].sort().join()) exact++;
  }
  assert.ok(exact >= held.length / 2, `${exact} of ${held.length} held-out sets exactly right`);

  const single = await createTask(app, 'single', intents(12));
  assert.equal((await train(app, single, { head: 'logistic_regression' })).state, 'succeeded');
  const mixed = await request(app)
    .post('/v1/predict')
    .send({ tasks: [single, taskId], input: held[0]!.text })
    .expect(200);
  assert.deepEqual(
    mixed.body.data.map((d: { kind: string }) => d.kind),
    ['single_label', 'multi_label'],
  );
  assert.equal(typeof mixed.body.data[0].predictions[0].label, 'string');
  assert.ok(Array.isArray(mixed.body.data[1].predictions[0].labels));

  const mlp = await train(app, taskId, { head: { type: 'mlp', params: { hidden_layer_sizes: [32], max_iter: 300 } }, activate: false });
  assert.equal(mlp.state, 'succeeded', JSON.stringify(mlp.error));
  const mlpVersion = await versionOf(taskId, mlp.version);
  assert.ok(mlpVersion.metrics.micro_f1 > 0.7, `mlp micro-F1 ${mlpVersion.metrics.micro_f1}`);

  // auto and the layer sweep, scored by macro-F1 as for single-label tasks.
  const swept = await train(app, taskId, {
    head: { type: 'auto', candidates: ['logistic_regression'] },
    layer_sweep: { layers: [3, 6], top_concat: 0 },
    evaluation: { method: 'cv', folds: 3 },
    activate: false,
  });
  assert.equal(swept.state, 'succeeded', JSON.stringify(swept.error));
  const sweptReport = (await versionOf(taskId, swept.version)).report;
  assert.equal(sweptReport.layer_sweep.results.length, 2, 'layer 3, and layer 6 (the task spec)');
  for (const r of [...sweptReport.layer_sweep.results, ...sweptReport.search.results])
    for (const key of ['subset_accuracy', 'micro_f1', 'macro_f1']) assert.equal(typeof r[key], 'number', key);
  assert.equal(sweptReport.search.results.length, 5);

  // The SVM, one-vs-rest: a Platt-calibrated two-class SVM per label.
  const svm = await train(app, taskId, { head: 'svm', evaluation: { method: 'cv', folds: 3 }, activate: false });
  assert.equal(svm.state, 'succeeded', JSON.stringify(svm.error));
  const svmVersion = await versionOf(taskId, svm.version);
  assert.ok(svmVersion.metrics.micro_f1 > 0.7, `svm micro-F1 ${svmVersion.metrics.micro_f1}`);
  const svmArtifact = (await request(app).get(`/v1/tasks/${taskId}/versions/${svm.version}/artifact`).expect(200)).body;
  assert.equal(svmArtifact.head.format, 'one-vs-rest');
  assert.equal(svmArtifact.head.heads.length, 4);
  const bySvm = await request(app)
    .post(`/v1/tasks/${taskId}/predict`)
    .send({ input: held.map((h) => h.text), version: svm.version })
    .expect(200);
  assert.ok(bySvm.body.data.every((p: { labels: string[] }) => p.labels.length > 0));
});

test('multi-label input errors: a clear 4xx, nothing stored', async () => {
  const multi = await multiTask('tags-errors');
  const single = await createTask(app, 'single-errors', []);
  const bad = async (taskId: string, type: string, body: string, pattern: RegExp) => {
    const res = await post(taskId, type, body).expect(400);
    assert.match(res.body.error.message, pattern);
  };
  await bad(multi, 'application/x-ndjson', JSON.stringify({ text: 'hello there', label: 'a' }), /multi-label: send labels/);
  await bad(multi, 'application/x-ndjson', JSON.stringify({ text: 'hello there', labels: [] }), /labels is empty/);
  await bad(multi, 'application/x-ndjson', JSON.stringify({ text: 'hello there', labels: 'a' }), /labels must be a list/);
  await bad(multi, 'application/x-ndjson', JSON.stringify({ text: 'hello there', labels: ['a', ''] }), /labels\[1\] is empty/);
  await bad(multi, 'text/csv', 'text,labels\nhello there,\n', /labels is empty/);
  await bad(single, 'application/x-ndjson', JSON.stringify({ text: 'hello there', labels: ['a'] }), /for multi-label tasks/);
  for (const id of [multi, single]) assert.equal((await request(app).get(`/v1/tasks/${id}`).expect(200)).body.example_count, 0);

  const rows = sets(10, 0);
  await post(multi, 'application/x-ndjson', rows.map((r) => JSON.stringify(r)).join('\n')).expect(201);
  const recordWeights = await request(app)
    .post(`/v1/tasks/${multi}/jobs`)
    .send({ head: { type: 'svm', params: { class_weight: { a: 2 } } } })
    .expect(400);
  assert.equal(recordWeights.body.error.param, 'head.params.class_weight');
  const auto = await request(app).post(`/v1/tasks/${multi}/jobs`).send({ head: 'auto', activate: false }).expect(202);
  assert.deepEqual(auto.body.request.head.candidates, ['logistic_regression', 'mlp']);
  await request(app).delete(`/v1/tasks/${multi}/jobs/${auto.body.id}`);
  const weighted = await request(app)
    .post(`/v1/tasks/${multi}/jobs`)
    .send({ head: { type: 'logistic_regression', params: { class_weight: 'balanced' } } })
    .expect(400);
  assert.equal(weighted.body.error.param, 'head.params.class_weight');
  const example = (await request(app).get(`/v1/tasks/${multi}/examples?limit=1`).expect(200)).body.data[0];
  await request(app).patch(`/v1/tasks/${multi}/examples/${example.id}`).send({ label: 'x' }).expect(400);
  const relabelled = (
    await request(app)
      .patch(`/v1/tasks/${multi}/examples/${example.id}`)
      .send({ labels: ['x', 'b', 'x'] })
      .expect(200)
  ).body;
  assert.deepEqual(relabelled.labels, ['b', 'x']);
  await request(app).post('/v1/tasks').send({ name: 'odd', kind: 'several' }).expect(400);
});

test('a multi-label upload that repeats a text stores it once with the union of its label sets; a stored text keeps the conflict rule', async () => {
  const taskId = await multiTask('tags-union');
  const lines = [
    { text: 'thanks, I love it', labels: ['gratitude'] },
    { text: 'so sad', labels: ['sadness'] },
    { text: 'thanks, I love it', labels: ['love', 'gratitude'] },
    { text: 'thanks, I love it', labels: ['gratitude', 'love'] },
    { text: 'thanks, I love it', labels: ['joy'] },
  ];
  const res = await post(taskId, 'application/x-ndjson', lines.map((l) => JSON.stringify(l)).join('\n')).expect(201);
  assert.deepEqual(
    [res.body.received, res.body.inserted, res.body.merged, res.body.duplicates],
    [5, 2, 2, 1],
    'two records added labels, one repeated the set so far',
  );
  const examples = (await request(app).get(`/v1/tasks/${taskId}/examples`).expect(200)).body.data;
  assert.deepEqual(
    examples.map((e: { text: string; labels: string[] }) => [e.text, e.labels]),
    [
      ['thanks, I love it', ['gratitude', 'joy', 'love']],
      ['so sad', ['sadness']],
    ],
  );
  // CSV too.
  const csv = await post(taskId, 'text/csv', 'text,labels\nwow,surprise\nwow,joy|surprise\n').expect(201);
  assert.deepEqual([csv.body.inserted, csv.body.merged], [1, 1]);

  // A text already in the task: its union meets the stored set under on_conflict.
  const clash = await post(taskId, 'application/x-ndjson', '{"text":"so sad","labels":["sadness"]}\n{"text":"so sad","labels":["grief"]}').expect(409);
  assert.equal(clash.body.error.code, 'label_conflict');
  assert.match(clash.body.error.message, /already in the task with another label/);
  assert.deepEqual(clash.body.error.conflicts, [{ text: 'so sad', existing_label: '["sadness"]', new_label: '["grief","sadness"]' }]);
  const replaced = await post(taskId, 'application/x-ndjson', '{"text":"so sad","labels":["sadness"]}\n{"text":"so sad","labels":["grief"]}')
    .query({ on_conflict: 'replace' })
    .expect(200);
  assert.deepEqual([replaced.body.relabelled, replaced.body.merged], [1, 1]);
});

test("the README's multi-label example: GoEmotions' training file, which repeats texts with other label sets, uploads as it is", async () => {
  const taskId = await multiTask('emotions');
  const file = readFileSync(join(DATASETS_DIR, 'goemotions.train.jsonl'));
  const records = file
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { text: string; labels: string[] });
  const union = new Map<string, Set<string>>();
  for (const r of records) union.set(r.text, new Set([...(union.get(r.text) ?? []), ...r.labels]));
  const given = new Map<string, Set<string>>();
  for (const r of records) given.set(r.text, new Set([...(given.get(r.text) ?? []), JSON.stringify([...r.labels].sort())]));
  assert.ok(
    [...given.values()].some((sets) => sets.size > 1),
    'the file gives some texts several label sets',
  );

  // As the README sends it: curl --data-binary @goemotions.train.jsonl -H 'content-type: application/x-ndjson', no on_conflict.
  const res = await post(taskId, 'application/x-ndjson', file.toString('utf8')).expect(201);
  assert.equal(res.body.received, records.length);
  assert.equal(res.body.inserted, union.size, 'one example per text');
  assert.equal(res.body.example_count, union.size);
  assert.equal(res.body.merged + res.body.duplicates, records.length - union.size, 'every other record merged or a duplicate');
  assert.ok(res.body.merged > 0);
  const expected = new Map<string, number>();
  for (const labels of union.values()) for (const l of labels) expected.set(l, (expected.get(l) ?? 0) + 1);
  const task = (await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body;
  assert.deepEqual(task.label_counts, Object.fromEntries([...expected].sort()), "every text counted once under each label of its sets' union");
});

test('a multi-label learning curve in macro-F1, with no estimate while a fold trains on one text a label', async () => {
  const curveOf = async (name: string, rows: Array<{ text: string; labels: string[] }>) => {
    const taskId = await multiTask(name);
    await post(taskId, 'application/x-ndjson', rows.map((r) => JSON.stringify(r)).join('\n')).expect(201);
    const job = await train(app, taskId, { head: 'logistic_regression', learning_curve: true });
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    return (await versionOf(taskId, job.version as number)).report.learning_curve;
  };
  // One label with 6 texts, the rest with 2: two folds, each training on 3 of the one and 1 of each other; the
  // shares cut the 3 and keep the 1s.
  const taken = new Map<string, number>();
  const skewed = intents(6, 0)
    .filter((r) => {
      const n = taken.get(r.label) ?? 0;
      taken.set(r.label, n + 1);
      return n < (taken.size === 1 ? 6 : 2);
    })
    .map((r) => ({ text: r.text, labels: [r.label] }));
  const few = await curveOf('curve-few', skewed);
  assert.equal(few.metric, 'macro_f1');
  assert.ok(few.points.length > 1, 'the points are measured');
  assert.equal(few.estimate, null, 'shares that only cut the one common label are not a curve');
  const more = await curveOf('curve-more', sets(8, 0));
  const { macro_f1_at_double: atDouble, interval } = more.estimate;
  assert.ok(atDouble >= 0 && atDouble <= 1 && interval[0] <= atDouble && atDouble <= interval[1], `${atDouble} within [${interval}]`);
});
