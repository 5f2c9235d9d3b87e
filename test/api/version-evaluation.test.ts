import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { listen, testService } from '../helpers/app.js';
import { intents } from '../helpers/fixtures.js';
import { createTask, type JobJson, train } from '../helpers/jobs.js';
import { readEvents } from '../helpers/sse.js';

const svc = await testService();
const app = svc.app.app;
const { url } = await listen(app);
const rows = intents(30);

interface Prediction {
  example_id: number;
  text: string | null;
  label: string;
  predicted: string;
}

async function allPredictions(path: string, query = ''): Promise<Prediction[]> {
  const out: Prediction[] = [];
  let after: string | null = null;
  do {
    const page: request.Response = await request(app)
      .get(`${path}?limit=7${query}${after === null ? '' : `&after=${after}`}`)
      .expect(200);
    out.push(...page.body.data);
    assert.equal(page.body.has_more, page.body.next_after !== null);
    after = page.body.next_after;
  } while (after !== null);
  return out;
}

test("a job's event stream sends the job as it progresses, the same JSON as GET at the end, then end", async () => {
  const taskId = await createTask(app, 'events', rows);
  const started = await request(app).post(`/v1/tasks/${taskId}/jobs`).send({ head: 'svm', layer_sweep: true }).expect(202);
  const path = `/v1/tasks/${taskId}/jobs/${started.body.id}`;
  const { status, headers, events } = await readEvents(`${url}${path}/events`, { timeoutMs: 120_000 });
  assert.equal(status, 200);
  assert.match(headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(headers.get('x-accel-buffering'), 'no', 'nginx must not buffer the stream');
  assert.equal(events.at(-1)?.event, 'end');
  const jobs = events.filter((e) => e.event === 'job').map((e) => JSON.parse(e.data) as JobJson);
  assert.equal(jobs.length, events.length - 1, 'only job events before the end');
  assert.ok(jobs.length >= 2, `${jobs.length} job events: the job was seen before it ended`);
  for (let i = 1; i < jobs.length; i++) {
    assert.notDeepEqual(jobs[i], jobs[i - 1], 'an event is sent only when the job changed');
    if (jobs[i]!.state === 'running' && jobs[i - 1]!.state === 'running')
      assert.ok(jobs[i]!.progress.percent >= jobs[i - 1]!.progress.percent, 'progress never goes back');
  }
  const last = jobs.at(-1)!;
  assert.equal(last.state, 'succeeded');
  assert.equal(last.progress.percent, 100);
  assert.deepEqual(last, (await request(app).get(path).expect(200)).body);

  // A job that has ended: its state and the end, at once.
  const again = await readEvents(`${url}${path}/events`, { timeoutMs: 5000 });
  assert.deepEqual(
    again.events.map((e) => e.event),
    ['job', 'end'],
  );
  // A job that does not exist is an ordinary JSON 404, not a stream.
  const missing = await readEvents(`${url}/v1/tasks/${taskId}/jobs/job_nope/events`, { timeoutMs: 5000 });
  assert.equal(missing.status, 404);
  assert.equal((missing.body as { error: { code: string } }).error.code, 'job_not_found');
});

test('the evaluation lists every held-out example with its out-of-fold prediction, and its cells are the confusion matrix', async () => {
  const taskId = await createTask(app, 'evaluated', rows);
  const job = await train(app, taskId, { head: 'svm', evaluation: { method: 'cv', folds: 3 } });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  const version = (await request(app).get(`/v1/tasks/${taskId}/versions/1`).expect(200)).body;
  const labels: string[] = version.labels;
  const matrix: number[][] = version.metrics.confusion_matrix.matrix;
  const path = `/v1/tasks/${taskId}/versions/1/evaluation`;
  const all = await allPredictions(path);
  assert.equal(all.length, rows.length, 'cross-validation holds every example out once');
  const stored = (await request(app).get(`/v1/tasks/${taskId}/examples?limit=1000`).expect(200)).body.data as Array<{
    id: number;
    text: string;
    label: string;
  }>;
  assert.deepEqual(
    all.map((p) => p.example_id),
    stored.map((e) => e.id),
    'in training-row order, each example once',
  );
  for (const [i, p] of all.entries()) {
    assert.equal(p.text, stored[i]!.text);
    assert.equal(p.label, stored[i]!.label);
  }
  for (const [t, truth] of labels.entries())
    for (const [c, predicted] of labels.entries())
      assert.equal(all.filter((p) => p.label === truth && p.predicted === predicted).length, matrix[t]![c]!, `cell ${truth} → ${predicted}`);

  const errors = await allPredictions(path, '&errors_only=true');
  const correct = labels.reduce((s, _, i) => s + matrix[i]![i]!, 0);
  assert.equal(errors.length, rows.length - correct);
  assert.ok(errors.every((p) => p.predicted !== p.label));
  const [a, b] = [labels[0]!, labels[1]!];
  const cell = await allPredictions(path, `&true_label=${a}&predicted_label=${a}`);
  assert.equal(cell.length, matrix[0]![0]!);
  assert.equal((await allPredictions(path, `&true_label=${a}&predicted_label=${b}&errors_only=true`)).length, matrix[0]![1]!);
  const unknown = await request(app).get(`${path}?true_label=nope`).expect(400);
  assert.equal(unknown.body.error.code, 'unknown_label');
  assert.equal(unknown.body.error.param, 'true_label');
  await request(app).get(`${path}?errors_only=yes`).expect(400);
  await request(app).get(`/v1/tasks/${taskId}/versions/2/evaluation`).expect(404);

  // An example deleted since training is still listed (it was evaluated), without its text.
  await request(app).delete(`/v1/tasks/${taskId}/examples/${stored[0]!.id}`).expect(204);
  const after = await allPredictions(path);
  assert.equal(after[0]!.example_id, stored[0]!.id);
  assert.equal(after[0]!.text, null);
});

test('the map places every example in 2-D with its label and out-of-fold prediction; a hold-out maps its training rows without one', async () => {
  const taskId = await createTask(app, 'mapped', rows);
  assert.equal((await train(app, taskId, { head: 'svm', evaluation: { method: 'holdout', fraction: 0.25 } })).state, 'succeeded');
  const version = (await request(app).get(`/v1/tasks/${taskId}/versions/1`).expect(200)).body;
  const map = (await request(app).get(`/v1/tasks/${taskId}/versions/1/map`).expect(200)).body;
  assert.equal(map.object, 'example_map');
  assert.equal(map.method, 'pca');
  assert.equal(map.total, rows.length);
  assert.equal(map.points.length, rows.length, 'a task this small is mapped whole');
  const [first, second] = map.explained_variance_ratio as number[];
  assert.ok(first! > 0 && second! > 0 && first! >= second! && first! + second! <= 1 + 1e-9, `explained variance ${first}, ${second}`);
  const byText = new Map(rows.map((r) => [r.text, r.label]));
  for (const p of map.points) {
    assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y));
    assert.equal(p.label, byText.get(p.text), 'each point carries its own label');
  }
  const held = map.points.filter((p: { predicted: string | null }) => p.predicted !== null);
  assert.equal(held.length, version.metrics.n, 'only the held-out rows have a prediction');
  const evaluation = await allPredictions(`/v1/tasks/${taskId}/versions/1/evaluation`);
  assert.deepEqual(
    evaluation.map((p) => [p.example_id, p.predicted]),
    held.map((p: { example_id: number; predicted: string }) => [p.example_id, p.predicted]),
  );
});
