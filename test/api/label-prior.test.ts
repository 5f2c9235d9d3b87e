/**
 * Zero-shot prediction that knows the class balance, through the API: on a
 * skewed sample of a real data set (SST-2, 85 % negative), a prior estimated
 * on the task's pool makes version 0 beat itself without one, and reach the
 * rate of always saying the common label; the prior is reported, follows the
 * pool, and is for single-label tasks only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import { DESCRIPTIONS } from '../../bench/lib/label-descriptions.js';
import { loadJsonl, shuffled } from '../../bench/lib/datasets.js';
import { testService } from '../helpers/app.js';

const svc = await testService({ train: false });
const app = svc.app.app;

const MAJOR = 'negative';
const SHARE = 0.85;

/** `n` texts of `rows`, SHARE of them MAJOR, drawn with `seed`. */
function skewed(rows: Array<{ text: string; label: string }>, n: number, seed: number) {
  const major = Math.round(n * SHARE);
  const of = (keep: (label: string) => boolean, count: number) =>
    shuffled(
      rows.filter((r) => keep(r.label)),
      seed,
    ).slice(0, count);
  return shuffled([...of((l) => l === MAJOR, major), ...of((l) => l !== MAJOR, n - major)], seed);
}

/** Waits until the task's prior is estimated on its pool as it is now. */
async function priorOf(app: Express, taskId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(app).get(`/v1/tasks/${taskId}/prior`).expect(200);
    if (res.body.state !== 'estimating') return res.body;
    if (Date.now() > deadline) throw new Error(`the prior was still being estimated after ${timeoutMs} ms`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

test('a prior estimated on a skewed pool: zero-shot beats itself without, and the majority rate', async () => {
  const pool = skewed(loadJsonl('sst2.train.jsonl'), 300, 1);
  const heldOut = skewed(loadJsonl('sst2.dev.jsonl'), 200, 2);
  const labels = Object.entries(DESCRIPTIONS.sst2!).map(([name, description]) => ({ name, description }));
  const taskId = (await request(app).post('/v1/tasks').send({ name: 'skewed', labels }).expect(201)).body.id;
  const evaluate = async () => (await request(app).post(`/v1/tasks/${taskId}/evaluate`).send({ examples: heldOut }).expect(200)).body;

  const before = await evaluate();
  assert.equal(before.version, 0);
  assert.equal(before.prior, undefined, 'no pool, no prior');
  const none = (await request(app).get(`/v1/tasks/${taskId}/prior`).expect(200)).body;
  assert.deepEqual([none.state, none.prior], ['unavailable', null]);
  assert.match(none.reason, /20 or more/);

  await request(app)
    .post(`/v1/tasks/${taskId}/pool`)
    .send({ input: pool.map((r) => r.text) })
    .expect(201);
  const estimated = await priorOf(app, taskId);
  assert.equal(estimated.state, 'current');
  assert.equal(estimated.applied, true);
  assert.equal(estimated.pool_texts, 300);
  assert.ok(estimated.prior[MAJOR] > 0.6, `the common label's estimated share: ${estimated.prior[MAJOR]}`);

  const after = await evaluate();
  assert.deepEqual(after.prior, { labels: estimated.prior, pool_texts: 300 });
  const majority = heldOut.filter((r) => r.label === MAJOR).length / heldOut.length;
  console.log(
    `SST-2, ${SHARE * 100} % ${MAJOR}: zero-shot ${(before.accuracy * 100).toFixed(1)} % without the prior, ${(after.accuracy * 100).toFixed(1)} % with it ` +
      `(estimated share ${(estimated.prior[MAJOR] * 100).toFixed(1)} %), always ${MAJOR} ${(majority * 100).toFixed(1)} %`,
  );
  assert.ok(after.accuracy > before.accuracy, `${after.accuracy} with the prior, ${before.accuracy} without`);
  assert.ok(after.accuracy >= majority, `${after.accuracy} with the prior, ${majority} always saying ${MAJOR}`);
  const predicted = (await request(app).post(`/v1/tasks/${taskId}/predict`).send({ input: heldOut[0]!.text }).expect(200)).body;
  assert.deepEqual(predicted.prior, after.prior, 'predictions say which prior they applied');

  // The pool changes: the prior follows it. Emptied, there is none.
  await request(app).delete(`/v1/tasks/${taskId}/pool`).expect(200);
  const gone = await priorOf(app, taskId);
  assert.deepEqual([gone.state, gone.prior], ['unavailable', null]);
  const plain = await evaluate();
  assert.equal(plain.prior, undefined);
  assert.equal(plain.accuracy, before.accuracy, 'version 0 as it was without a pool');
});

test('a prior is for single-label tasks with a zero-shot version', async () => {
  const multi = (
    await request(app)
      .post('/v1/tasks')
      .send({ name: 'prior-multi', kind: 'multi_label', labels: [{ name: 'a' }, { name: 'b' }] })
      .expect(201)
  ).body.id;
  const res = (await request(app).get(`/v1/tasks/${multi}/prior`).expect(200)).body;
  assert.deepEqual([res.state, res.applied, res.prior], ['unavailable', false, null]);
  assert.match(res.reason, /single-label/);
  const bare = (await request(app).post('/v1/tasks').send({ name: 'prior-bare' }).expect(201)).body.id;
  assert.match((await request(app).get(`/v1/tasks/${bare}/prior`).expect(200)).body.reason, /fewer than two labels/);
  assert.equal((await request(app).get('/v1/tasks/task_missing/prior').expect(404)).body.error.code, 'task_not_found');
});
