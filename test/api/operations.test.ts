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

/** A layer of express's router stack: a route, or middleware (a mounted router has a stack of its own). */
interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: unknown;
  slash?: boolean;
}

/** Every route express would dispatch to, with its full path: what the server really answers, whatever declared it. */
function registeredRoutes(stack: Layer[], prefix = ''): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  for (const layer of stack) {
    if (layer.route) {
      assert.equal(typeof layer.route.path, 'string', 'routes are registered with string paths');
      for (const method of Object.keys(layer.route.methods)) out.push({ method, path: prefix + String(layer.route.path) });
    } else if (layer.handle.stack) {
      out.push(...registeredRoutes(layer.handle.stack, layer.slash ? prefix : prefix + String(layer.rawPath)));
    }
  }
  return out;
}

const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

test('every route the server registers is in /openapi.json with the same method, and every documented operation is registered', async () => {
  const doc = (await request(app).get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
  const registered = registeredRoutes((app as unknown as { router: { stack: Layer[] } }).router.stack);
  // `_all` routes are the 405 answers for a known path's other methods: their path must be documented too.
  for (const r of registered.filter((x) => x.method === '_all')) assert.ok(doc.paths[openApiPath(r.path)], `405 handler for undocumented path ${r.path}`);
  const served = registered.filter((r) => r.method !== '_all').map((r) => `${r.method} ${openApiPath(r.path)}`);
  assert.deepEqual([...new Set(served)].sort(), served.sort(), 'no route is registered twice');
  assert.deepEqual(served.sort(), documented.sort());
  assert.ok(served.length >= 30, `only ${served.length} routes found: is the stack walk still finding the router?`);
});

test('every documented operation answers something other than route_not_found or method_not_allowed', async () => {
  const doc = (await request(app).get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
  for (const [path, ops] of Object.entries(doc.paths)) {
    // Ids that exist nowhere: the calls answer 404 for the resource (or 4xx for the missing body) and change nothing.
    const concrete = path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'version' || name === 'example' ? '999999' : `missing_${name}`));
    for (const method of Object.keys(ops)) {
      const res = await request(app)[method as 'get' | 'post' | 'patch' | 'delete'](concrete);
      assert.notEqual(res.body?.error?.code, 'route_not_found', `${method} ${concrete}`);
      assert.notEqual(res.status, 405, `${method} ${concrete}`);
    }
  }
});

test('every documented path answers 405 with its declared methods in Allow for any other method, and OPTIONS lists them', async () => {
  const doc = (await request(app).get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
  for (const [path, ops] of Object.entries(doc.paths)) {
    const concrete = path.replace(/\{(\w+)\}/g, 'x');
    const methods = Object.keys(ops).map((m) => m.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    const allow = methods.sort().join(', ');
    const other = (['put', 'patch', 'delete', 'post'] as const).find((m) => !(m in ops))!;
    const res = await request(app)[other](concrete).expect(405);
    assert.equal(res.body.error.code, 'method_not_allowed', `${other} ${concrete}`);
    assert.equal(res.headers.allow, allow, `${other} ${concrete}`);
    assert.equal((await request(app).options(concrete).expect(200)).headers.allow, allow, `OPTIONS ${concrete}`);
  }
  assert.equal((await request(app).put('/v1/nothing').expect(404)).body.error.code, 'route_not_found');
});
