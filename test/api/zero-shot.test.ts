/**
 * Zero-shot through the API: a task created from label names and
 * descriptions predicts at once (version 0, a prototype head built from the
 * descriptions), asks for suggestions, changes with its descriptions, and
 * gives way to a trained version only when that one does better on the same examples.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { testService } from '../helpers/app.js';
import { intents } from '../helpers/fixtures.js';
import { train } from '../helpers/jobs.js';

const svc = await testService();
const app = svc.app.app;

const LABELS = [
  { name: 'weather', description: 'the weather forecast: rain, temperature, wind and umbrellas' },
  { name: 'music', description: 'playing music, songs, albums and playlists' },
  { name: 'banking', description: 'bank accounts, money transfers and card payments' },
  { name: 'sports', description: 'sports teams, matches, goals and scores' },
];
const HELD_OUT = [
  { text: 'Is it going to snow in Vienna on Friday?', label: 'weather' },
  { text: 'Play the new album by my favourite band', label: 'music' },
  { text: 'Send 300 euros from my checking account to my landlord', label: 'banking' },
  { text: 'Which team scored first in the championship final?', label: 'sports' },
];

test('a task from label descriptions alone predicts at once, then gives way to a trained version', async () => {
  const created = (await request(app).post('/v1/tasks').send({ name: 'zero', labels: LABELS }).expect(201)).body;
  assert.deepEqual(created.labels, LABELS);
  const predict = () =>
    request(app)
      .post(`/v1/tasks/${created.id}/predict`)
      .send({ input: HELD_OUT.map((h) => h.text) })
      .expect(200);
  const first = (await predict()).body;
  assert.equal(first.version, 0, 'version 0: zero-shot');
  const right = first.data.filter((d: { label: string }, i: number) => d.label === HELD_OUT[i]!.label).length;
  assert.ok(right >= 3, `${right} of 4 right from the descriptions alone`);
  for (const d of first.data) {
    const sum = Object.values(d.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4);
  }
  const suggested = await request(app)
    .post(`/v1/tasks/${created.id}/suggestions`)
    .send({ input: HELD_OUT.map((h) => h.text), k: 2 })
    .expect(200);
  assert.equal(suggested.body.version, 0);

  // Descriptions change the prototypes at once.
  await request(app)
    .patch(`/v1/tasks/${created.id}`)
    .send({ label_descriptions: { music: 'money transfers and card payments' } })
    .expect(200);
  const changed = (await predict()).body;
  assert.notDeepEqual(changed.data[1].probabilities, first.data[1].probabilities);
  const unknown = await request(app)
    .patch(`/v1/tasks/${created.id}`)
    .send({ label_descriptions: { cooking: 'recipes' } })
    .expect(400);
  assert.equal(unknown.body.error.code, 'unknown_label');

  await request(app)
    .post(`/v1/tasks/${created.id}/examples`)
    .set('content-type', 'application/x-ndjson')
    .send(
      intents(10)
        .map((r) => JSON.stringify(r))
        .join('\n'),
    )
    .expect(201);
  // A single stump tells at most two of the four labels apart: worse than version 0 on the same examples, so version 0 stays.
  const worse = await train(app, created.id, {
    head: { type: 'random_forest', params: { n_estimators: 1, max_depth: 1, seed: 1 } },
    label_descriptions: false,
  });
  const vw = (await request(app).get(`/v1/tasks/${created.id}/versions/${worse.version}`).expect(200)).body;
  assert.equal(vw.report.activation.decision, 'kept', JSON.stringify(vw.report.activation));
  assert.equal(vw.report.activation.compared.active.version, 0);
  assert.equal(vw.report.activation.compared.rows, 40, 'version 0 never saw an example: every one scores it');
  assert.ok(vw.report.activation.compared.active.score > vw.report.activation.compared.new, JSON.stringify(vw.report.activation));
  assert.equal((await predict()).body.version, 0, 'version 0 still answers');
  const trained = await train(app, created.id, { head: 'logistic_regression', learning_curve: { fractions: [0.5] } });
  assert.equal(trained.state, 'succeeded', JSON.stringify(trained.error));
  const vt = (await request(app).get(`/v1/tasks/${created.id}/versions/${trained.version}`).expect(200)).body;
  assert.equal(vt.report.activation.decision, 'activated', JSON.stringify(vt.report.activation));
  assert.equal((await predict()).body.version, trained.version, 'a trained version answers once active');
  // Ten examples a label: few enough that the descriptions join the training rows (auto), never the scored ones.
  const v1 = vt;
  assert.deepEqual(v1.report.label_descriptions, { rows: 4, labels: ['weather', 'music', 'banking', 'sports'] });
  assert.equal(v1.metrics.n, 40, 'only the examples are scored');
  assert.equal(v1.example_count, 40);
  assert.deepEqual(
    v1.report.learning_curve.points.map((p: { examples: number }) => p.examples),
    [16, 32],
    'a learning curve counts examples, not the description rows every fold also trains on',
  );
  const without = await train(app, created.id, { head: 'logistic_regression', label_descriptions: false, activate: false });
  const v2 = (await request(app).get(`/v1/tasks/${created.id}/versions/${without.version}`).expect(200)).body;
  assert.deepEqual(v2.report.label_descriptions, { rows: 0, labels: [] });
});

test('zero-shot needs two declared labels; declaring one twice, or describing nothing, is refused', async () => {
  const one = (
    await request(app)
      .post('/v1/tasks')
      .send({ name: 'zero-one', labels: [LABELS[0]] })
      .expect(201)
  ).body;
  const res = await request(app).post(`/v1/tasks/${one.id}/predict`).send({ input: 'hello' }).expect(409);
  assert.equal(res.body.error.code, 'no_active_version');
  assert.match(res.body.error.message, /declare its labels/);
  const suggestions = await request(app)
    .post(`/v1/tasks/${one.id}/suggestions`)
    .send({ input: ['a', 'b'], k: 1 })
    .expect(409);
  assert.equal(suggestions.body.error.code, 'no_active_version');
  const twice = await request(app)
    .post('/v1/tasks')
    .send({ name: 'zero-twice', labels: [LABELS[0], LABELS[0]] })
    .expect(400);
  assert.equal(twice.body.error.param, 'labels[1].name');
  await request(app).patch(`/v1/tasks/${one.id}`).send({}).expect(400);
  await request(app)
    .patch(`/v1/tasks/${one.id}`)
    .send({ label_descriptions: { weather: '' } })
    .expect(400);
  // A label with examples can be described without being declared first.
  await request(app)
    .post(`/v1/tasks/${one.id}/examples`)
    .set('content-type', 'application/x-ndjson')
    .send(JSON.stringify({ text: 'play jazz', label: 'music' }))
    .expect(201);
  const described = (
    await request(app)
      .patch(`/v1/tasks/${one.id}`)
      .send({ label_descriptions: { music: 'playing music' } })
      .expect(200)
  ).body;
  assert.deepEqual(described.labels, [LABELS[0], { name: 'music', description: 'playing music' }]);
  assert.equal((await request(app).post(`/v1/tasks/${one.id}/predict`).send({ input: 'play some jazz' }).expect(200)).body.data[0].label, 'music');
});

test('one example a label: the head is blended with the descriptions at the weight right on most held-out examples', async () => {
  const created = (await request(app).post('/v1/tasks').send({ name: 'blend', labels: LABELS }).expect(201)).body;
  await request(app).post(`/v1/tasks/${created.id}/examples`).send(intents(1, 3)).expect(201);
  const job = await train(app, created.id, { learning_curve: true });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  const v = (await request(app).get(`/v1/tasks/${created.id}/versions/${job.version}`).expect(200)).body;
  assert.equal(v.head_type, 'logistic_regression', 'the little-data default head');
  assert.equal(v.metrics.folds, 2, 'one example a label: two folds');
  const { blend } = v.report;
  assert.ok(blend, `the descriptions carry weight where a held-out example's label has no other: ${JSON.stringify(v.report)}`);
  assert.deepEqual(
    blend.weights.map((w: { weight: number }) => w.weight),
    [0, 0.25, 0.5, 0.75, 1],
  );
  const best = Math.max(...blend.weights.map((w: { accuracy: number }) => w.accuracy));
  assert.equal(blend.weights.find((w: { weight: number }) => w.weight === blend.weight).accuracy, best, 'the weight kept is right on most');
  assert.equal(blend.weights.findLast((w: { accuracy: number }) => w.accuracy === best).weight, blend.weight, 'a tie goes to the larger weight');
  assert.ok(blend.weight > 0);
  assert.equal(blend.fold_weights.length, 2);
  for (const w of blend.fold_weights)
    assert.ok(
      blend.weights.some((t: { weight: number }) => t.weight === w),
      `${w}`,
    );
  // Each fold is scored at the weight the other fold chose: never above the best of the tries on all rows.
  assert.ok(v.metrics.accuracy <= best, `${v.metrics.accuracy} against ${best}`);
  assert.equal(v.report.learning_curve.estimate, null, 'one example a label: every share is the same rows, no curve to read');
});
