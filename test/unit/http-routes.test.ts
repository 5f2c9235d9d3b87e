/** Route declarations, without the service: the router they build, the document they make, and the seams between route files. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import express from 'express';
import request from 'supertest';
import { z } from 'zod';
import { errorHandler, routeNotFound } from '../../src/http/errors.js';
import { ApiDoc } from '../../src/http/openapi.js';
import { type Route, route } from '../../src/http/route.js';
import { routerOf } from '../../src/http/router.js';
import { taskParam, versionParam } from '../../src/http/schemas/params.js';
import { Authenticator } from '../../src/http/auth.js';

/** Keys off: these routes are public, and nothing here reaches the store. */
const access = { auth: new Authenticator({ findKey: async () => undefined, onKeyChange: () => () => undefined }, undefined), limiter: null };

const seen: unknown[] = [];
const routes: Route[] = [
  route({
    method: 'post',
    path: '/things/:task/versions/:version',
    tag: 't',
    scope: 'public',
    summary: 'Echo what the handler received.',
    params: { task: taskParam, version: versionParam },
    query: z.object({ n: z.coerce.number().int().default(3) }).strict(),
    body: z.object({ word: z.string() }).strict(),
    responses: { 200: { description: 'Echo.' } },
    handler: ({ params, query, body, res }) => {
      // The types come from the schemas: version and n are numbers here, not strings.
      const version: number = params.version;
      const n: number = query.n;
      seen.push({ task: params.task, version, n, word: body.word });
      res.json({ ok: true });
    },
  }),
  route({
    method: 'get',
    path: '/things/:task/versions/:version',
    tag: 't',
    scope: 'public',
    summary: 'No body.',
    params: { task: taskParam, version: versionParam },
    responses: { 204: { description: 'Nothing.' } },
    handler: ({ res }) => {
      res.status(204).end();
    },
  }),
];

function appOf(rs: Route[]) {
  const app = express();
  app.use(routerOf(rs, express.json(), access));
  app.use(routeNotFound);
  app.use(errorHandler(() => {}));
  return app;
}

test('the handler gets params, query and body parsed by their schemas', async () => {
  const app = appOf(routes);
  await request(app).post('/things/a/versions/2?n=5').send({ word: 'hi' }).expect(200);
  await request(app).post('/things/b/versions/7').send({ word: 'yo' }).expect(200);
  assert.deepEqual(seen, [
    { task: 'a', version: 2, n: 5, word: 'hi' },
    { task: 'b', version: 7, n: 3, word: 'yo' },
  ]);
  const badQuery = await request(app).post('/things/a/versions/2?n=x').send({ word: 'hi' }).expect(400);
  assert.equal(badQuery.body.error.param, 'query.n');
  assert.equal((await request(app).post('/things/a/versions/2').send({ word: 1 }).expect(400)).body.error.param, 'word');
  assert.equal((await request(app).post('/things/a/versions/zero').send({ word: 'hi' }).expect(404)).body.error.code, 'version_not_found');
  assert.equal((await request(app).get('/things/a/versions/2').send({ word: 'hi' }).expect(400)).body.error.code, 'invalid_request');
  await request(app).get('/things/a/versions/2').expect(204);
  const wrong = await request(app).delete('/things/a/versions/2').expect(405);
  assert.equal(wrong.headers.allow, 'GET, HEAD, POST');
  assert.equal(seen.length, 2, 'no invalid request reached the handler');
});

test('declarations that disagree with their path, or repeat a method and path, fail when the router is built', () => {
  const base = { tag: 't', scope: 'public' as const, summary: 's', responses: {}, handler: () => {} };
  assert.throws(
    () => routerOf([route({ ...base, method: 'get', path: '/a/:task' })], express.json(), access),
    /path parameters \[task\] but params declares \[\]/,
  );
  assert.throws(
    () => routerOf([route({ ...base, method: 'get', path: '/a/:task', params: { task: taskParam, version: versionParam } })], express.json(), access),
    /params declares \[task,version\]/,
  );
  assert.throws(
    () => routerOf([route({ ...base, method: 'get', path: '/a' }), route({ ...base, method: 'get', path: '/a' })], express.json(), access),
    /declared twice/,
  );
});

test('the document shows path parameters, optional bodies and streamed media types as declared', () => {
  const base = { tag: 't', scope: 'public' as const, summary: 's', responses: { 200: { description: 'ok' } }, handler: () => {} };
  const doc = new ApiDoc([
    ...routes,
    route({ ...base, method: 'post', path: '/optional', body: z.object({ a: z.number().default(1) }).prefault({}) }),
    route({
      ...base,
      method: 'post',
      path: '/upload',
      streamedBody: { mediaTypes: ['application/json', 'text/csv'], schema: z.array(z.string()), description: 'rows' },
    }),
  ]).document({ title: 't', version: '0' }) as { paths: Record<string, Record<string, { parameters?: unknown[]; requestBody?: Record<string, unknown> }>> };
  const op = doc.paths['/things/{task}/versions/{version}']!.post!;
  assert.deepEqual(op.parameters?.[1], {
    name: 'version',
    in: 'path',
    required: true,
    description: 'Version number (1, 2, …).',
    schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  });
  assert.equal(op.requestBody?.required, true);
  assert.equal(doc.paths['/things/{task}/versions/{version}']!.get!.requestBody, undefined);
  assert.equal(doc.paths['/optional']!.post!.requestBody?.required, false);
  const upload = doc.paths['/upload']!.post!.requestBody as { content: Record<string, { schema: unknown }> };
  assert.deepEqual(Object.keys(upload.content), ['application/json', 'text/csv']);
  assert.deepEqual(upload.content['application/json']!.schema, { type: 'array', items: { type: 'string' } });
});

test('no route file imports another route file: shared helpers live outside routes/', () => {
  const dir = new URL('../../../src/http/routes/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8, `found only ${files.length} route files in ${dir.pathname}`);
  for (const file of files) {
    const imports = [...readFileSync(new URL(file, dir), 'utf8').matchAll(/from '(\.\/[^']+)'/g)].map((m) => m[1]);
    assert.deepEqual(imports, [], `${file} imports ${imports.join(', ')}`);
  }
});
