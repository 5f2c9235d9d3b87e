/**
 * The console's files as the service serves them: public with keys on, each
 * with its content type, the pages revalidated and the assets (hashed or
 * versioned names) kept for good; nothing else under dist/console is served,
 * and none of it is an API route.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { testApp } from '../helpers/app.js';
import { KEYS_ON } from '../helpers/isolation.js';

const { app } = await testApp({ env: KEYS_ON, train: false });

const assetsOf = (html: string) => [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);

test('the console page is served without a key; the API still wants one', async () => {
  const page = await request(app).get('/').expect(200);
  assert.match(page.headers['content-type']!, /^text\/html; charset=utf-8/i);
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.ok(page.headers.etag, 'revalidated by its ETag');
  assert.match(page.headers['content-security-policy']!, /default-src 'self'/);
  assert.match(page.text, /<div id="app">/);
  await request(app).get('/index.html').expect(200);
  await request(app).get('/').set('if-none-match', page.headers.etag!).expect(304);
  assert.equal((await request(app).get('/v1/tasks').expect(401)).body.error.code, 'missing_api_key');
});

test("the pages' assets: hashed names, their content types, cached for a year", async () => {
  const scripts = assetsOf((await request(app).get('/').expect(200)).text);
  const docs = assetsOf((await request(app).get('/docs/').expect(200)).text);
  assert.equal(scripts.length, 2, 'the console loads one script and one stylesheet');
  assert.equal(docs.length, 4, "the reference page loads swagger-ui's script and stylesheet and its own");
  for (const path of [...scripts, ...docs]) {
    const res = await request(app).get(path).expect(200);
    assert.match(res.headers['content-type']!, path.endsWith('.js') ? /^(text|application)\/javascript/ : /^text\/css/, path);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', path);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  }
  assert.ok(scripts.some((p) => /\/assets\/app-[A-Z0-9]{8}\.js$/.test(p)));
});

test('scripts and stylesheets travel gzip-compressed to a browser that accepts it, as they are otherwise', async () => {
  const paths = [...assetsOf((await request(app).get('/').expect(200)).text), ...assetsOf((await request(app).get('/docs/').expect(200)).text)];
  for (const path of paths) {
    const plain = await request(app).get(path).set('accept-encoding', 'identity').expect(200);
    assert.equal(plain.headers['content-encoding'], undefined, path);
    assert.equal(plain.headers.vary, 'Accept-Encoding', path);
    const packed = await request(app).get(path).set('accept-encoding', 'gzip, deflate, br').expect(200);
    assert.equal(packed.headers['content-encoding'], 'gzip', path);
    assert.equal(packed.headers['content-type'], plain.headers['content-type'], path);
    assert.equal(packed.headers['cache-control'], plain.headers['cache-control'], path);
    const ratio = Number(packed.headers['content-length']) / Number(plain.headers['content-length']);
    assert.ok(ratio < (/\/app-\w+\.js$/.test(path) ? 0.4 : 1), `${path}: sent as ${ratio.toFixed(2)} of its size`);
    assert.equal(packed.text, plain.text, `${path}: the same file once decompressed`);
  }
  const script = paths.find((p) => /\/app-\w+\.js$/.test(p))!;
  const bare = await request(app).get(script).unset('accept-encoding').expect(200);
  assert.equal(bare.headers['content-encoding'], undefined, 'no Accept-Encoding: the file as it is');
});

test('/docs redirects to the reference page; nothing else under dist/console is served, nor any other method', async () => {
  assert.equal((await request(app).get('/docs').expect(301)).headers.location, '/docs/');
  for (const path of ['/src/route.js', '/console/src/route.js', '/assets/../src/route.js', '/docs/../index.html/x', '/nothing']) {
    assert.equal((await request(app).get(path)).status, 404, path);
  }
  assert.equal((await request(app).post('/').expect(404)).body.error.code, 'route_not_found');
});
