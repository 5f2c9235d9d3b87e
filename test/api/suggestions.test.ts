/**
 * Suggestions through the API: a trained head is asked which texts to label
 * next; it picks the ones it cannot place (texts that mix two intents) over
 * clear ones, never a text the task has, and says what is wrong with a
 * request it cannot answer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { testService } from '../helpers/app.js';
import { intents } from '../helpers/fixtures.js';
import { createTask, train } from '../helpers/jobs.js';

const svc = await testService();
const app = svc.app.app;

test('suggestions: the texts the head cannot place, spread out, never one the task has', async () => {
  const rows = intents(20);
  const taskId = await createTask(app, 'suggest', rows);
  assert.equal((await train(app, taskId, { head: 'logistic_regression' })).state, 'succeeded');
  const known = new Set(rows.map((r) => r.text));
  const clear = [...new Set(intents(20, 100).map((r) => r.text))].filter((t) => !known.has(t));
  assert.ok(clear.length >= 20);
  const byLabel = new Map<string, string[]>();
  for (const r of intents(6, 80)) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r.text]);
  const [a, b, c, d] = [...byLabel.values()];
  // Each mixes two intents: the head cannot give it one label with confidence.
  const mixed = [0, 1, 2, 3, 4, 5].map((i) => `${[a, b, c, d][i % 4]![i]!} ${[b, c, d, a][i % 4]![i]!}`);
  const labelled = rows.slice(0, 3).map((r) => r.text);
  const input = [...clear, ...mixed, ...labelled, clear[0]!];
  const res = await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ input, k: 6, strategy: 'margin' }).expect(200);
  assert.equal(res.body.strategy, 'margin');
  assert.equal(res.body.uncertainty_weight, null);
  const picked = res.body.data.map((s: { text: string }) => s.text);
  assert.equal(new Set(picked).size, 6);
  assert.ok(
    picked.every((t: string) => !labelled.includes(t)),
    'never a text the task has',
  );
  assert.deepEqual(res.body.skipped, { labelled: 3, repeated: 1 });
  const mixedPicked = picked.filter((t: string) => mixed.includes(t)).length;
  // A random draw of 6 from the candidates would hold about one of the 6 mixed texts.
  assert.ok(mixedPicked >= 4, `${mixedPicked} of the 6 suggestions mix two intents`);
  for (const s of res.body.data) {
    assert.equal(input[s.index], s.text);
    assert.ok(s.uncertainty >= 0 && s.uncertainty <= 1);
    assert.equal(Object.keys(s.prediction.probabilities).length, 3);
  }
  const ordered = res.body.data.map((s: { uncertainty: number }) => s.uncertainty);
  assert.ok(ordered[0] >= Math.max(...ordered.slice(1)) - 1e-9 || res.body.data[0].similarity === 0);

  // `diversity` alone: margin, as before strategies.
  const old = await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ input, k: 6, diversity: 0.1 }).expect(200);
  assert.deepEqual(old.body.data, res.body.data);
  await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ input, k: 6, strategy: 'nearest' }).expect(400);
  await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ input, k: 6, uncertainty_weight: 2 }).expect(400);

  const tooMany = await request(app)
    .post(`/v1/tasks/${taskId}/suggestions`)
    .send({ input, k: clear.length + mixed.length + 1 })
    .expect(400);
  assert.equal(tooMany.body.error.param, 'k');
  assert.match(tooMany.body.error.message, new RegExp(`only ${clear.length + mixed.length} of the texts given are unlabelled and distinct`));
  await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ input, k: 0 }).expect(400);
  await request(app).post(`/v1/tasks/${taskId}/suggestions`).send({ input: [], k: 1 }).expect(400);
  const untrained = await createTask(app, 'suggest-untrained', rows);
  const noHead = await request(app).post(`/v1/tasks/${untrained}/suggestions`).send({ input: clear, k: 2 }).expect(409);
  assert.equal(noHead.body.error.code, 'no_active_version');
});

test('suggestions by typicality: typical texts of the intents, not the odd ones out, the same for the same seed; mixed', async () => {
  const rows = intents(2);
  const taskId = await createTask(app, 'suggest-cold', rows);
  assert.equal((await train(app, taskId, {})).state, 'succeeded');
  const known = new Set(rows.map((r) => r.text));
  const usual = [...new Set(intents(15, 50).map((r) => r.text))].filter((t) => !known.has(t));
  const odd = ['Zebra quantum marmalade 42', 'ok', 'The Treaty of Westphalia was signed in 1648.', '!!!???', 'lorem ipsum dolor sit amet'];
  const input = [...usual, ...odd];
  const ask = (body: Record<string, unknown>) =>
    request(app)
      .post(`/v1/tasks/${taskId}/suggestions`)
      .send({ input, k: 5, ...body })
      .expect(200);
  // Two examples a label: by default the head's uncertainty counts 2 / (2 + 2).
  const weighted = await ask({ strategy: 'typical' });
  assert.equal(weighted.body.strategy, 'typical');
  assert.ok(Math.abs(weighted.body.uncertainty_weight - 0.5) < 1e-6);
  // Typicality and coverage alone.
  const typical = await ask({ strategy: 'typical', uncertainty_weight: 0 });
  const picked: string[] = typical.body.data.map((s: { text: string }) => s.text);
  assert.equal(new Set(picked).size, 5);
  assert.deepEqual(
    picked.filter((t) => odd.includes(t)),
    [],
    'no odd one out',
  );
  for (const s of typical.body.data) assert.ok(s.typicality >= 0 && s.typicality <= 1);
  assert.deepEqual((await ask({ strategy: 'typical', uncertainty_weight: 0 })).body.data, typical.body.data, 'same seed, same picks');
  // mixed: (1 − 0.5) × 5, rounded, typical picks (with a typicality), then the least certain, none twice.
  const mixed = await ask({ strategy: 'mixed' });
  assert.equal(mixed.body.strategy, 'mixed');
  assert.deepEqual(
    mixed.body.data.map((s: { typicality: number | null }) => s.typicality !== null),
    [true, true, true, false, false],
  );
  assert.equal(new Set(mixed.body.data.map((s: { text: string }) => s.text)).size, 5);
  assert.equal((await ask({})).body.strategy, 'margin', 'the default');
  // Spread alone takes the odd ones: they are far from everything.
  const spread = await ask({ strategy: 'margin', diversity: 1 });
  assert.ok(spread.body.data.filter((s: { text: string }) => odd.includes(s.text)).length >= 1);
});
