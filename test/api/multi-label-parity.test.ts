/**
 * What single-label tasks have, multi-label tasks have too: evaluation on a
 * labelled set, examples listed and deleted by one label of their sets, a
 * version's out-of-fold sets example by example, and suggestions that ask the
 * label closest to its threshold.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { testService } from '../helpers/app.js';
import { assertDeclared } from '../helpers/declared.js';
import { labelSets as sets } from '../helpers/fixtures.js';
import { createTask, train } from '../helpers/jobs.js';
import { intents } from '../helpers/fixtures.js';

const svc = await testService();
const app = svc.app.app;
const routes = svc.app.docs.routes;

type Row = { text: string; labels: string[] };
const jsonl = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).join('\n');
/** Sets of the fixture's texts that sets(24, 0), the training rows, does not have. */
function unseen(): Row[] {
  const trained = new Set(sets(24, 0).map((r) => r.text));
  const out = new Map<string, Row>();
  for (const r of [...sets(6, 100), ...sets(6, 300)]) if (!trained.has(r.text)) out.set(r.text, r);
  return [...out.values()];
}
const same = (a: string[], b: string[]) => [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

async function trainedMultiTask(name: string, rows: Row[]): Promise<{ taskId: string; version: number }> {
  const taskId = (await request(app).post('/v1/tasks').send({ name, kind: 'multi_label' }).expect(201)).body.id as string;
  await request(app).post(`/v1/tasks/${taskId}/examples`).set('content-type', 'application/x-ndjson').send(jsonl(rows)).expect(201);
  const job = await train(app, taskId, { head: { type: 'logistic_regression', params: { C: 10 } }, evaluation: { method: 'cv', folds: 3 } });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  return { taskId, version: job.version! };
}

/** Every page of a GET that lists, following next_after. */
async function allPages(path: string, query: Record<string, string>, schemaPath: string) {
  const out: Array<Record<string, unknown>> = [];
  let after: string | undefined;
  for (;;) {
    const res = await request(app)
      .get(path)
      .query({ ...query, limit: '7', ...(after ? { after } : {}) })
      .expect(200);
    assertDeclared(routes, 'get', schemaPath, 200, res.body);
    out.push(...res.body.data);
    if (!res.body.has_more) return out;
    after = res.body.next_after;
  }
}

test('multi-label: the example-by-example evaluation lists every example with its set and its out-of-fold set, filtered by "has label"', async () => {
  const rows = sets(24, 0);
  const { taskId, version } = await trainedMultiTask('ml-evaluation', rows);
  const path = `/v1/tasks/${taskId}/versions/${version}/evaluation`;
  const schemaPath = '/v1/tasks/:task/versions/:version/evaluation';
  const all = (await allPages(path, {}, schemaPath)) as Array<{ example_id: number; text: string; labels: string[]; predicted_labels: string[] }>;
  assert.equal(all.length, rows.length, 'cross-validation holds out every example once');
  const byText = new Map(rows.map((r) => [r.text, r.labels]));
  for (const r of all) {
    assert.ok(same(r.labels, byText.get(r.text)!), `${r.text}: its set then`);
    assert.ok(Array.isArray(r.predicted_labels));
    assert.equal((r as { label?: string }).label, undefined);
  }
  const metrics = (await request(app).get(`/v1/tasks/${taskId}/versions/${version}`).expect(200)).body.metrics;
  const exact = all.filter((r) => same(r.labels, r.predicted_labels)).length;
  assert.ok(Math.abs(exact / all.length - metrics.subset_accuracy) < 1e-6, "the rows are what the version's subset accuracy counts");

  const label = metrics.per_label[0].label as string;
  const withLabel = await allPages(path, { true_label: label }, schemaPath);
  assert.deepEqual(
    withLabel.map((r) => r.example_id),
    all.filter((r) => r.labels.includes(label)).map((r) => r.example_id),
  );
  const predictedAs = await allPages(path, { predicted_label: label }, schemaPath);
  assert.deepEqual(
    predictedAs.map((r) => r.example_id),
    all.filter((r) => r.predicted_labels.includes(label)).map((r) => r.example_id),
  );
  const errors = await allPages(path, { errors_only: 'true' }, schemaPath);
  assert.equal(errors.length, all.length - exact);
  const both = await allPages(path, { true_label: label, predicted_label: label }, schemaPath);
  assert.ok(both.length > 0 && both.length <= withLabel.length);

  const unknown = await request(app).get(path).query({ true_label: 'no-such-label' }).expect(400);
  assert.equal(unknown.body.error.code, 'unknown_label');
  assert.equal(unknown.body.error.param, 'true_label');
  await request(app).get(path).query({ errors_only: 'yes' }).expect(400);
});

test('multi-label: POST …/evaluate scores label sets as predict labels them, unknown labels counted as missed', async () => {
  const { taskId, version } = await trainedMultiTask('ml-evaluate', sets(24, 0));
  const held = unseen();
  assert.ok(held.length >= 10, `${held.length} unseen texts`);
  const res = await request(app).post(`/v1/tasks/${taskId}/evaluate`).send({ examples: held }).expect(200);
  assertDeclared(routes, 'post', '/v1/tasks/:task/evaluate', 200, res.body);
  const e = res.body;
  assert.equal(e.kind, 'multi_label');
  assert.equal(e.version, version);
  assert.equal(e.n, held.length);
  assert.deepEqual(e.unknown_labels, []);
  assert.ok(e.micro_f1 > 0.7, `micro-F1 ${e.micro_f1}`);
  assert.equal(e.accuracy, undefined);
  const predicted = (
    await request(app)
      .post(`/v1/tasks/${taskId}/predict`)
      .send({ input: held.map((h) => h.text) })
      .expect(200)
  ).body.data as Array<{
    labels: string[];
  }>;
  const exact = held.filter((h, i) => same(h.labels, predicted[i]!.labels)).length;
  assert.ok(Math.abs(e.subset_accuracy - exact / held.length) < 1e-9, 'subset accuracy is the share predict gets exactly right');
  const thresholds = (await request(app).get(`/v1/tasks/${taskId}/versions/${version}`).expect(200)).body.metrics.per_label;
  for (const l of e.per_label) {
    const support = held.filter((h) => h.labels.includes(l.label)).length;
    assert.equal(l.support, support, l.label);
    assert.equal(l.threshold, thresholds.find((t: { label: string }) => t.label === l.label).threshold);
  }

  // A label the version never saw: a column it never predicts.
  const odd = [...held.slice(0, 3), { text: held[3]!.text, labels: [...held[3]!.labels, 'unseen'] }, { text: 'nothing here at all', labels: [] }];
  const withUnknown = (await request(app).post(`/v1/tasks/${taskId}/evaluate`).send({ examples: odd }).expect(200)).body;
  assert.deepEqual(withUnknown.unknown_labels, ['unseen']);
  const missed = withUnknown.per_label.find((l: { label: string }) => l.label === 'unseen');
  assert.deepEqual([missed.support, missed.recall, missed.threshold], [1, 0, null]);

  // Input errors: a 400 naming the field.
  const bad = async (body: object, param: RegExp) => {
    const r = await request(app).post(`/v1/tasks/${taskId}/evaluate`).send(body).expect(400);
    assert.match(String(r.body.error.param), param, JSON.stringify(r.body.error));
  };
  await bad({ examples: [{ text: 'hello there', label: 'a' }] }, /^examples\[0\]\.label$/);
  await bad({ examples: [{ text: 'hello there', labels: 'a' }] }, /^examples/);
  await bad({ examples: [{ text: 'hello there', labels: [''] }] }, /^examples/);
  await bad({ examples: [] }, /^examples$/);
  await bad({ examples: [{ text: '', labels: ['a'] }] }, /^examples/);
  const single = await createTask(app, 'ml-evaluate-single', intents(6));
  assert.equal((await train(app, single, { head: 'logistic_regression' })).state, 'succeeded');
  const refused = await request(app)
    .post(`/v1/tasks/${single}/evaluate`)
    .send({ examples: [{ text: 'hello there', labels: ['a'] }] })
    .expect(400);
  assert.equal(refused.body.error.param, 'examples[0].labels');
  const singleOk = (
    await request(app)
      .post(`/v1/tasks/${single}/evaluate`)
      .send({ examples: intents(2, 30).map((r) => ({ text: r.text, label: r.label })) })
      .expect(200)
  ).body;
  assert.equal(singleOk.kind, 'single_label');
  assert.equal(typeof singleOk.accuracy, 'number');
});

test('multi-label: examples listed by one label of their set; deleting a label takes it off, and deletes an example left with none', async () => {
  const taskId = (await request(app).post('/v1/tasks').send({ name: 'ml-by-label', kind: 'multi_label' }).expect(201)).body.id as string;
  const rows = sets(6, 0);
  await request(app).post(`/v1/tasks/${taskId}/examples`).set('content-type', 'application/x-ndjson').send(jsonl(rows)).expect(201);
  const counts = (await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body.label_counts as Record<string, number>;
  const label = Object.keys(counts)[0]!;
  const listed = await allPages(`/v1/tasks/${taskId}/examples`, { label }, '/v1/tasks/:task/examples');
  assert.equal(listed.length, counts[label]);
  assert.ok(listed.every((e) => (e.labels as string[]).includes(label)));
  assert.deepEqual(
    listed.map((e) => e.text),
    rows.filter((r) => r.labels.includes(label)).map((r) => r.text),
  );
  assert.deepEqual((await request(app).get(`/v1/tasks/${taskId}/examples`).query({ label: 'nobody' }).expect(200)).body.data, []);
  await request(app).get(`/v1/tasks/${taskId}/examples`).query({ label: '' }).expect(400);

  const alone = rows.filter((r) => same(r.labels, [label])).length;
  const res = await request(app).delete(`/v1/tasks/${taskId}/examples`).query({ label }).expect(200);
  assertDeclared(routes, 'delete', '/v1/tasks/:task/examples', 200, res.body);
  assert.deepEqual(res.body, { object: 'examples.deletion', deleted: alone, relabelled: counts[label]! - alone });
  assert.ok(alone > 0 && counts[label]! - alone > 0, 'the fixture has both kinds');
  const after = (await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body;
  assert.equal(after.example_count, rows.length - alone);
  assert.equal(after.label_counts[label], undefined);
  for (const [l, n] of Object.entries(counts)) if (l !== label) assert.equal(after.label_counts[l], n, `${l} is untouched`);
  await request(app).delete(`/v1/tasks/${taskId}/examples`).query({ label, all: 'true' }).expect(400);
  await request(app).delete(`/v1/tasks/${taskId}/examples`).expect(400);
});

test('multi-label: suggestions rank texts by the label closest to its threshold, guesses as label sets, never a labelled text', async () => {
  const rows = sets(24, 0);
  const { taskId, version } = await trainedMultiTask('ml-suggestions', rows);
  const pool = [...unseen().map((r) => r.text), rows[0]!.text];
  const res = await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ input: pool, k: 5, diversity: 0 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assertDeclared(routes, 'post', '/v1/tasks/:task/suggestions', 200, res.body);
  assert.equal(res.body.kind, 'multi_label');
  assert.equal(res.body.skipped.labelled, 1);
  assert.ok(res.body.data.every((s: { text: string }) => s.text !== rows[0]!.text));
  const thresholds = new Map<string, number>(
    (await request(app).get(`/v1/tasks/${taskId}/versions/${version}`).expect(200)).body.metrics.per_label.map((l: { label: string; threshold: number }) => [
      l.label,
      l.threshold,
    ]),
  );
  const probabilities = (await request(app).post(`/v1/tasks/${taskId}/predict`).send({ input: pool }).expect(200)).body.data as Array<{
    probabilities: Record<string, number>;
  }>;
  const expected = probabilities.map((p) =>
    Math.max(...Object.entries(p.probabilities).map(([l, v]) => 1 - Math.abs(v - thresholds.get(l)!) / Math.max(thresholds.get(l)!, 1 - thresholds.get(l)!))),
  );
  const ranked = expected
    .map((u, i) => ({ u, i }))
    .filter(({ i }) => i < pool.length - 1)
    .sort((a, b) => b.u - a.u)
    .slice(0, 5);
  for (const [j, s] of res.body.data.entries()) {
    assert.ok(Math.abs(s.uncertainty - expected[s.index]!) < 1e-4, `suggestion ${j}: ${s.uncertainty} vs ${expected[s.index]}`);
    assert.ok(Math.abs(s.uncertainty - ranked[j]!.u) < 1e-4, `diversity 0: the ${j + 1}th least certain`);
    assert.ok(Array.isArray(s.prediction.labels) && s.prediction.label === undefined);
  }
});
