/**
 * What the route declarations promise, checked against what the server does:
 * bodies only where declared, path parameters validated, and every answer of a
 * scripted tour of the API matching the response its route documents.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import type { Route } from '../../src/http/route.js';
import { testApp } from '../helpers/app.js';
import { assertDeclared } from '../helpers/declared.js';
import { intents, jsonl } from '../helpers/fixtures.js';
import { waitForJob } from '../helpers/jobs.js';

const { app, docs } = await testApp();

type Method = Route['method'];

/** Collects a body that is bytes (supertest parses only text and JSON). */
const bytes = ((res: NodeJS.ReadableStream, done: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}) as unknown as Parameters<request.Test['parse']>[0];

/** Calls `pattern` with `params` filled in, and checks the answer against the route's declared responses. */
async function call(method: Method, pattern: string, params: Record<string, string | number> = {}, prepare?: (r: request.Test) => request.Test) {
  const path = pattern.replace(/:(\w+)/g, (_m, name: string) => String(params[name]));
  const pending = request(app)[method](path);
  const res = await (prepare ? prepare(pending) : pending);
  const where = `${method.toUpperCase()} ${path} → ${res.status}`;
  if (res.status >= 400) {
    // Errors share one documented shape (the `default` response).
    assert.deepEqual(Object.keys(res.body.error).slice(0, 4), ['message', 'type', 'param', 'code'], where);
    return res;
  }
  const doc = assertDeclared(docs.routes, method, pattern, res.status, res.body, where);
  for (const header of Object.keys(doc.headers ?? {})) assert.ok(res.headers[header.toLowerCase()], `${where}: documented header ${header} missing`);
  return res;
}

test('a tour of the API: every answer has a documented status and matches its documented schema', async () => {
  await call('get', '/healthz');
  await call('get', '/readyz');
  await call('get', '/metrics');
  await call('get', '/v1/models');
  await call('get', '/v1/models/:model', { model: 'all-MiniLM-L6-v2' });
  await call('get', '/v1/heads');
  await call('post', '/v1/embeddings', {}, (r) => r.send({ input: ['one', 'two'], dimensions: 8 }));
  await call('post', '/v1/embeddings', {}, (r) => r.send({ input: 'one', encoding_format: 'base64' }));

  const task = (await call('post', '/v1/tasks', {}, (r) => r.send({ name: 'tour', description: 'a tour' }))).body;
  const t = { task: task.id as string };
  await call('get', '/v1/tasks', {}, (r) => r.query({ limit: 1 }));
  await call('get', '/v1/tasks/:task', t);
  await call('patch', '/v1/tasks/:task', t, (r) => r.send({ description: null }));

  const rows = intents(6);
  const upload = (body: string) => (r: request.Test) => r.set('content-type', 'application/x-ndjson').send(body);
  assert.equal((await call('post', '/v1/tasks/:task/examples', t, upload(jsonl(rows)))).status, 201);
  assert.equal((await call('post', '/v1/tasks/:task/examples', t, upload(jsonl(rows.slice(0, 2))))).status, 200, 'nothing new');
  const page = (await call('get', '/v1/tasks/:task/examples', t, (r) => r.query({ limit: 2 }))).body;
  const example = { ...t, example: page.data[0].id as number };
  await call('get', '/v1/tasks/:task/examples/:example', example);
  await call('patch', '/v1/tasks/:task/examples/:example', example, (r) => r.send({ label: page.data[0].label }));
  const pooled = ['Is it windy in Lima today', 'Put on some folk songs', 'Pay my rent from savings', 'Who scored last night'];
  assert.equal((await call('post', '/v1/tasks/:task/pool', t, (r) => r.send({ input: pooled }))).status, 201);
  assert.equal((await call('post', '/v1/tasks/:task/pool', t, (r) => r.send({ input: pooled[0] }))).status, 200, 'nothing new');
  await call('get', '/v1/tasks/:task/pool', t, (r) => r.query({ limit: 2 }));
  await call('get', '/v1/tasks/:task/prior', t);

  const started = (await call('post', '/v1/tasks/:task/jobs', t, (r) => r.send({ head: 'svm', evaluation: { method: 'holdout', fraction: 0.25 } }))).body;
  const job = await waitForJob(app, task.id, started.id);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  await call('get', '/v1/tasks/:task/jobs', t);
  await call('get', '/v1/tasks/:task/jobs/:job', { ...t, job: started.id });
  const v = { ...t, version: job.version! };
  await call('get', '/v1/tasks/:task/versions', t);
  await call('get', '/v1/tasks/:task/versions/:version', v);
  await call('get', '/v1/tasks/:task/versions/:version/artifact', v);
  const onnx = await call('get', '/v1/tasks/:task/versions/:version/export', v, (r) => r.query({ format: 'onnx' }).buffer(true).parse(bytes));
  assert.equal(onnx.headers['content-type'], 'application/octet-stream');
  await call('get', '/v1/tasks/:task/versions/:version/evaluation', v, (r) => r.query({ errors_only: 'false', limit: 3 }));
  await call('get', '/v1/tasks/:task/versions/:version/map', v);
  // A version whose report has every part a single-label job writes: layer sweep, search (halving), learning curve.
  const searched = (
    await call('post', '/v1/tasks/:task/jobs', t, (r) =>
      r.send({
        head: { type: 'auto', candidates: ['logistic_regression', 'prototype'] },
        layer_sweep: { layers: [5, 6], top_concat: 2 },
        learning_curve: true,
        evaluation: { method: 'cv', folds: 3 },
        activate: false,
      }),
    )
  ).body;
  const full = await waitForJob(app, task.id, searched.id);
  assert.equal(full.state, 'succeeded', JSON.stringify(full.error));
  const report = (await call('get', '/v1/tasks/:task/versions/:version', { ...t, version: full.version! })).body.report;
  assert.deepEqual(Object.keys(report).sort(), ['activation', 'features', 'label_descriptions', 'layer_sweep', 'learning_curve', 'search', 'timings']);
  const events = await call('get', '/v1/tasks/:task/jobs/:job/events', { ...t, job: started.id });
  assert.match(events.text, /event: job\n[\s\S]*event: end\n/, 'an ended job: its last state, then the end');
  await call('post', '/v1/tasks/:task/versions/:version/activate', v);
  await call('post', '/v1/tasks/:task/predict', t, (r) => r.send({ input: ['Will it rain in Oslo?', 'Play some jazz'], top_k: 2 }));
  await call('post', '/v1/predict', {}, (r) => r.send({ input: 'Play some jazz', tasks: [task.id, { task: task.id, version: job.version }] }));
  const suggested = (await call('post', '/v1/tasks/:task/suggestions', t, (r) => r.send({ k: 2 }))).body;
  const poolText = { ...t, pool_text: suggested.data[0].pool_id as number };
  await call('post', '/v1/tasks/:task/pool/:pool_text/label', poolText, (r) => r.send({ label: 'weather' }));
  await call('delete', '/v1/tasks/:task/pool/:pool_text', { ...t, pool_text: suggested.data[1].pool_id });
  await call('delete', '/v1/tasks/:task/pool', t);
  await call('post', '/v1/tasks/:task/evaluate', t, (r) =>
    r.send({
      examples: [
        { text: 'Will it snow in Rome?', label: 'weather' },
        { text: 'Cook me a pie', label: 'cooking' },
      ],
    }),
  );

  const queued = (await call('post', '/v1/tasks/:task/jobs', t, (r) => r.send({ activate: false }))).body;
  const cancel = await call('delete', '/v1/tasks/:task/jobs/:job', { ...t, job: queued.id });
  assert.ok([200, 202].includes(cancel.status));
  await call('delete', '/v1/tasks/:task/examples/:example', example);
  await call('delete', '/v1/tasks/:task/examples', t, (r) => r.query({ all: 'true' }));
  await call('delete', '/v1/tasks/:task', t);
  await call('get', '/openapi.json');
});

test('a route without a body refuses one; a route with a JSON body answers 415 for another media type', async () => {
  const task = (await request(app).post('/v1/tasks').send({ name: 'bodies' }).expect(201)).body;
  const refused = await request(app).post(`/v1/tasks/${task.id}/versions/1/activate`).send({ force: true }).expect(400);
  assert.equal(refused.body.error.code, 'invalid_request');
  assert.match(refused.body.error.message, /takes no request body/);
  assert.equal((await request(app).get('/v1/tasks').send({ limit: 1 }).expect(400)).body.error.code, 'invalid_request');
  // An empty body is no body.
  assert.equal((await request(app).post(`/v1/tasks/${task.id}/versions/1/activate`).expect(404)).body.error.code, 'version_not_found');

  const plain = await request(app).post(`/v1/tasks/${task.id}/jobs`).set('content-type', 'text/plain').send('{"head":"svm"}').expect(415);
  assert.equal(plain.body.error.code, 'unsupported_media_type');
  assert.equal(
    (await request(app).patch(`/v1/tasks/${task.id}`).set('content-type', 'text/plain').send('x').expect(415)).body.error.code,
    'unsupported_media_type',
  );
  // The training request's body is optional: none at all trains with the defaults (here: refused for lack of examples).
  assert.equal((await request(app).post(`/v1/tasks/${task.id}/jobs`).expect(409)).body.error.code, 'no_examples');
  assert.equal((await request(app).get(`/v1/tasks/${task.id}/jobs`).expect(200)).body.data.length, 0);
});

test('path parameters are validated by their schema and answer their resource 404', async () => {
  const task = (await request(app).post('/v1/tasks').send({ name: 'params' }).expect(201)).body;
  for (const bad of ['x', '0', '-1', '1.5']) {
    const res = await request(app).get(`/v1/tasks/${task.id}/versions/${bad}`).expect(404);
    assert.deepEqual([res.body.error.code, res.body.error.param, res.body.error.message], ['version_not_found', 'version', `version "${bad}" does not exist`]);
    assert.equal((await request(app).post(`/v1/tasks/${task.id}/versions/${bad}/activate`).expect(404)).body.error.code, 'version_not_found');
    const example = await request(app).get(`/v1/tasks/${task.id}/examples/${bad}`).expect(404);
    assert.deepEqual([example.body.error.code, example.body.error.param], ['example_not_found', 'example']);
  }
  assert.equal((await request(app).get(`/v1/tasks/${task.id}/versions/1`).expect(404)).body.error.code, 'version_not_found');
  assert.equal((await request(app).get('/v1/tasks/task_missing/versions/1').expect(404)).body.error.code, 'task_not_found');
});
