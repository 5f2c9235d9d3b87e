import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { testApp } from '../helpers/app.js';

const { app } = await testApp();

test('GET /v1/models lists the model with its layers, hidden size and token limit', async () => {
  const res = await request(app).get('/v1/models').expect(200);
  assert.equal(res.body.object, 'list');
  const m = res.body.data[0];
  assert.deepEqual(
    { id: m.id, object: m.object, layers: m.layers, hidden_size: m.hidden_size, max_tokens: m.max_tokens, default: m.default },
    { id: 'all-MiniLM-L6-v2', object: 'model', layers: 6, hidden_size: 384, max_tokens: 256, default: true },
  );
  await request(app).get('/v1/models/all-MiniLM-L6-v2').expect(200);
  await request(app).get('/v1/models/nope').expect(404);
});

test('health, readiness and metrics', async () => {
  assert.deepEqual((await request(app).get('/healthz').expect(200)).body, { status: 'ok' });
  assert.deepEqual((await request(app).get('/readyz').expect(200)).body, { status: 'ready' });
  await request(app)
    .post('/v1/embeddings')
    .send({ input: ['one', 'two words'] })
    .expect(200);
  await request(app).post('/v1/embeddings').send({ input: '' }).expect(400);
  const text = (
    await request(app)
      .get('/metrics')
      .expect(200)
      .expect('content-type', /text\/plain/)
  ).text;
  for (const re of [
    /http_requests_total\{method="POST",route="\/v1\/embeddings",status="200"\} 1/,
    /http_requests_total\{method="POST",route="\/v1\/embeddings",status="400"\} 1/,
    /http_request_duration_seconds_bucket\{le="0.1",method="POST",route="\/v1\/embeddings",status="200"\}/,
    /encoder_tokens_total\{model="all-MiniLM-L6-v2"\} [1-9]/,
    /encoder_batch_size_count\{model="all-MiniLM-L6-v2"\} [1-9]/,
    /encoder_inference_seconds_count\{model="all-MiniLM-L6-v2"\} [1-9]/,
    /encoder_queue_depth\{model="all-MiniLM-L6-v2"\} 0/,
    /process_cpu_user_seconds_total/,
  ]) {
    assert.match(text, re);
  }
});

test('readiness fails while a readiness check fails, and says why', async () => {
  let dbUp = false;
  const guarded = await testApp({ readiness: [() => (dbUp ? null : 'database unreachable')] });
  const res = await request(guarded.app).get('/readyz').expect(503);
  assert.deepEqual(res.body, { status: 'not_ready', reasons: ['database unreachable'] });
  dbUp = true;
  await request(guarded.app).get('/readyz').expect(200);
  guarded.startDraining();
  assert.deepEqual((await request(guarded.app).get('/readyz').expect(503)).body.reasons, ['shutting down']);
});

test('the OpenAPI document is generated from the request schemas', async () => {
  const doc = (await request(app).get('/openapi.json').expect(200)).body;
  assert.equal(doc.openapi, '3.1.0');
  const body = doc.paths['/v1/embeddings'].post.requestBody.content['application/json'].schema;
  assert.deepEqual(body.required, ['input']);
  assert.deepEqual(body.properties.pooling.enum, ['mean', 'cls', 'max']);
  assert.equal(body.additionalProperties, false);
  assert.ok(doc.paths['/v1/models'].get);
});
