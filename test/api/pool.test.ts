/**
 * A task's pool through the API: texts added (deduplicated against the
 * examples and the pool), listed, deleted, labelled into the examples, and
 * offered as suggestions with their pool ids (and as many of the head's
 * label probabilities as asked); what is wrong with a request
 * is said with a 4xx, quotas included.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { NO_LIMITS } from '../../src/store/sql-store.js';
import { testService, testStore } from '../helpers/app.js';
import { intents } from '../helpers/fixtures.js';
import { createTask, train } from '../helpers/jobs.js';

const svc = await testService();
const app = svc.app.app;

test('the pool: added without what the task has, paged, deleted, labelled into the examples', async () => {
  const rows = intents(5);
  const taskId = await createTask(app, 'pool', rows);
  const fresh = intents(8, 50).map((r) => r.text);
  const added = await request(app)
    .post(`/v1/tasks/${taskId}/pool`)
    .send({ input: [...fresh.slice(0, 10), rows[0]!.text, fresh[0]!] })
    .expect(201);
  assert.deepEqual(added.body, {
    object: 'pool.upload',
    received: 12,
    added: 10,
    skipped: { labelled: 1, pooled: 0, repeated: 1 },
    pool_count: 10,
  });
  const again = await request(app)
    .post(`/v1/tasks/${taskId}/pool`)
    .send({ input: fresh.slice(8, 12) })
    .expect(201);
  assert.deepEqual([again.body.added, again.body.skipped.pooled, again.body.pool_count], [2, 2, 12]);
  const same = await request(app).post(`/v1/tasks/${taskId}/pool`).send({ input: fresh[0] }).expect(200);
  assert.equal(same.body.added, 0);

  const page = (await request(app).get(`/v1/tasks/${taskId}/pool`).query({ limit: 5 }).expect(200)).body;
  assert.deepEqual(
    page.data.map((t: { id: number }) => t.id),
    [1, 2, 3, 4, 5],
  );
  assert.equal(page.data[0].text, fresh[0]);
  assert.equal(page.has_more, true);
  const rest = (await request(app).get(`/v1/tasks/${taskId}/pool`).query({ after: page.next_after }).expect(200)).body;
  assert.equal(rest.data.length, 7);
  assert.equal((await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body.pool_count, 12);

  // Labelled: the text leaves the pool and is an example.
  const labelled = await request(app).post(`/v1/tasks/${taskId}/pool/1/label`).send({ label: 'weather' }).expect(201);
  assert.deepEqual([labelled.body.object, labelled.body.text, labelled.body.label], ['example', fresh[0], 'weather']);
  const example = (await request(app).get(`/v1/tasks/${taskId}/examples/${labelled.body.id}`).expect(200)).body;
  assert.equal(example.text, fresh[0]);
  const gone = await request(app).post(`/v1/tasks/${taskId}/pool/1/label`).send({ label: 'weather' }).expect(404);
  assert.equal(gone.body.error.code, 'pool_text_not_found');
  // An example uploaded whose text is pooled takes it out of the pool.
  await request(app)
    .post(`/v1/tasks/${taskId}/examples`)
    .set('content-type', 'application/x-ndjson')
    .send(JSON.stringify({ text: fresh[1], label: 'music' }))
    .expect(201);
  assert.equal((await request(app).get(`/v1/tasks/${taskId}`).expect(200)).body.pool_count, 10);

  await request(app).delete(`/v1/tasks/${taskId}/pool/3`).expect(204);
  assert.equal((await request(app).delete(`/v1/tasks/${taskId}/pool/3`).expect(404)).body.error.code, 'pool_text_not_found');
  assert.equal((await request(app).delete(`/v1/tasks/${taskId}/pool/x`).expect(404)).body.error.code, 'pool_text_not_found');
  assert.deepEqual((await request(app).delete(`/v1/tasks/${taskId}/pool`).expect(200)).body, { object: 'pool.deletion', deleted: 9 });
  assert.equal((await request(app).get(`/v1/tasks/${taskId}/pool`).expect(200)).body.data.length, 0);
});

test('the pool: bad requests are refused with what was wrong', async () => {
  const taskId = await createTask(app, 'pool-bad', intents(3));
  const bad = async (body: object, param: string | RegExp) => {
    const res = await request(app).post(`/v1/tasks/${taskId}/pool`).send(body).expect(400);
    assert.match(String(res.body.error.param), param instanceof RegExp ? param : new RegExp(`^${param}`));
  };
  await bad({ input: [] }, 'input');
  await bad({ input: '' }, 'input');
  await bad({ input: ['fine', ''] }, 'input');
  await bad({ input: ['nul \u0000 inside'] }, 'input');
  await bad({}, 'input');
  await bad({ input: 'x', extra: 1 }, /.*/);
  assert.equal((await request(app).post('/v1/tasks/task_missing/pool').send({ input: 'x' }).expect(404)).body.error.code, 'task_not_found');

  await request(app)
    .post(`/v1/tasks/${taskId}/pool`)
    .send({ input: ['one unlabelled text', 'another unlabelled text'] })
    .expect(201);
  const labelled = (body: object, status: number) => request(app).post(`/v1/tasks/${taskId}/pool/1/label`).send(body).expect(status);
  assert.equal((await labelled({ labels: ['weather'] }, 400)).body.error.param, 'labels', 'a single-label task takes label, not labels');
  await labelled({ label: '' }, 400);
  await labelled({}, 400);
  assert.equal((await request(app).post(`/v1/tasks/${taskId}/pool/99/label`).send({ label: 'weather' }).expect(404)).body.error.code, 'pool_text_not_found');

  // A task that declares its labels takes only those (or ones on its examples).
  const declared = (
    await request(app)
      .post('/v1/tasks')
      .send({ name: 'pool-declared', labels: [{ name: 'weather' }, { name: 'music' }] })
      .expect(201)
  ).body.id;
  await request(app)
    .post(`/v1/tasks/${declared}/pool`)
    .send({ input: ['is it sunny', 'play a song'] })
    .expect(201);
  const unknown = await request(app).post(`/v1/tasks/${declared}/pool/1/label`).send({ label: 'cooking' }).expect(400);
  assert.equal(unknown.body.error.code, 'unknown_label');
  assert.equal(unknown.body.error.param, 'label');
  await request(app).post(`/v1/tasks/${declared}/pool/1/label`).send({ label: 'weather' }).expect(201);

  // Multi-label: labels, a set.
  const multi = (await request(app).post('/v1/tasks').send({ name: 'pool-multi', kind: 'multi_label' }).expect(201)).body.id;
  await request(app).post(`/v1/tasks/${multi}/pool`).send({ input: 'rain and jazz' }).expect(201);
  assert.equal((await request(app).post(`/v1/tasks/${multi}/pool/1/label`).send({ label: 'weather' }).expect(400)).body.error.param, 'label');
  const set = await request(app)
    .post(`/v1/tasks/${multi}/pool/1/label`)
    .send({ labels: ['weather', 'music'] })
    .expect(201);
  assert.deepEqual(set.body.labels, ['music', 'weather']);
});

test('suggestions from the pool: k of its texts, each with its pool id to label it by', async () => {
  const rows = intents(10);
  const taskId = await createTask(app, 'pool-suggest', rows);
  const none = await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ k: 2 }).expect(409);
  assert.equal(none.body.error.code, 'no_active_version');
  assert.equal((await train(app, taskId, { head: 'logistic_regression' })).state, 'succeeded');
  const empty = await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ k: 2 }).expect(400);
  assert.equal(empty.body.error.param, 'input');
  const pooled = intents(15, 100).map((r) => r.text);
  const count = (await request(app).post(`/v1/tasks/${taskId}/pool`).send({ input: pooled }).expect(201)).body.pool_count;
  assert.ok(count >= 20, `${count} pooled (texts the task has are left out)`);
  const tooMany = await request(app)
    .post(`/v1/tasks/${taskId}/suggestions`)
    .send({ k: count + 1 })
    .expect(400);
  assert.equal(tooMany.body.error.param, 'k');
  const res = await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ k: 5 }).expect(200);
  assert.deepEqual([res.body.source, res.body.candidates, res.body.data.length], ['pool', count, 5]);
  const pool = new Map<number, string>(
    (await request(app).get(`/v1/tasks/${taskId}/pool`).query({ limit: 1000 }).expect(200)).body.data.map((t: { id: number; text: string }) => [t.id, t.text]),
  );
  for (const s of res.body.data) {
    assert.equal(pool.get(s.pool_id), s.text, 'the pool id names the text');
    assert.equal(s.index, undefined);
  }
  const labels = new Set(rows.map((r) => r.label));
  for (const s of res.body.data) assert.equal(Object.keys(s.prediction.probabilities).length, 3, 'the three most probable labels by default');
  // top_k: every label's probability for a labelling page's bars (more than the task has means all of them).
  const every = await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ k: 5, top_k: 100 }).expect(200);
  assert.deepEqual(
    every.body.data.map((s: { pool_id: number }) => s.pool_id),
    res.body.data.map((s: { pool_id: number }) => s.pool_id),
    'the same suggestions',
  );
  for (const s of every.body.data) {
    const probabilities = s.prediction.probabilities as Record<string, number>;
    assert.deepEqual(new Set(Object.keys(probabilities)), labels);
    assert.ok(Math.abs(Object.values(probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-4);
  }
  const zero = await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ k: 5, top_k: 0 }).expect(400);
  assert.equal(zero.body.error.param, 'top_k');
  const first = res.body.data[0];
  await request(app).post(`/v1/tasks/${taskId}/pool/${first.pool_id}/label`).send({ label: first.prediction.label }).expect(201);
  const next = await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ k: 5 }).expect(200);
  assert.equal(next.body.candidates, count - 1);
  assert.ok(
    next.body.data.every((s: { pool_id: number }) => s.pool_id !== first.pool_id),
    'a labelled text is no longer suggested',
  );
  // With input, as before: positions in input.
  const withInput = await request(app)
    .post(`/v1/tasks/${taskId}/suggestions`)
    .send({ input: pooled.slice(0, 4), k: 2 })
    .expect(200);
  assert.equal(withInput.body.source, 'input');
  assert.ok(withInput.body.data.every((s: { index: number; pool_id?: number }) => Number.isInteger(s.index) && s.pool_id === undefined));
});

test("the pool counts in the client's quotas: stored texts and bytes", async () => {
  const store = await testStore(10_000, { ...NO_LIMITS, maxExamples: 12, maxStoredBytes: 400 });
  const limited = (await testService({ store, train: false })).app.app;
  const rows = intents(1);
  const taskId = await createTask(limited, 'pool-quota', rows);
  const texts = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `pooled text number ${from + i}`);
  await request(limited)
    .post(`/v1/tasks/${taskId}/pool`)
    .send({ input: texts(6) })
    .expect(201);
  const used = rows.reduce((sum, r) => sum + r.text.length + r.label.length, 0) + texts(6).join('').length;
  assert.ok(used + 300 > 400 && used + 60 <= 400, `${used} bytes stored`);
  const long = await request(limited)
    .post(`/v1/tasks/${taskId}/pool`)
    .send({ input: 'x'.repeat(300) })
    .expect(403);
  assert.deepEqual([long.body.error.code, long.body.error.limit], ['quota_exceeded', 'max_stored_bytes']);
  const over = await request(limited)
    .post(`/v1/tasks/${taskId}/pool`)
    .send({ input: texts(3, 6) })
    .expect(403);
  assert.deepEqual([over.body.error.code, over.body.error.limit], ['quota_exceeded', 'max_examples'], '4 examples and 9 pool texts would pass 12');
  assert.equal((await request(limited).get(`/v1/tasks/${taskId}`).expect(200)).body.pool_count, 6, 'nothing of either was added');
  const usage = await store.usage('default');
  assert.deepEqual([usage.examples, usage.poolTexts], [4, 6]);
});
