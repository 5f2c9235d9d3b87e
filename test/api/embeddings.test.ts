import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { cosine, norm, testApp } from '../helpers/app.js';

const { app } = await testApp();
const embed = (body: unknown) =>
  request(app)
    .post('/v1/embeddings')
    .send(body as object);

// sentence-transformers' published output for all-MiniLM-L6-v2 (mean pooling, L2-normalised, last layer).
const REFERENCE = [0.06765693, 0.06349593, 0.04871314, 0.07930495, 0.03744806, 0.00265273];

test('the default embedding matches the published sentence-transformers values within 1e-3', async () => {
  const res = await embed({ input: 'This is an example sentence' }).expect(200);
  assert.equal(res.body.object, 'list');
  assert.equal(res.body.model, 'all-MiniLM-L6-v2');
  const v: number[] = res.body.data[0].embedding;
  assert.equal(v.length, 384);
  for (const [i, r] of REFERENCE.entries()) assert.ok(Math.abs(v[i]! - r) < 1e-3, `dim ${i}: ${v[i]} vs ${r}`);
  assert.ok(Math.abs(norm(v) - 1) < 1e-5);
  assert.deepEqual(res.body.usage, { prompt_tokens: 7, total_tokens: 7 });
});

test('the embedding layer, layer 3 and layer 6 give different vectors; -1 is layer 6', async () => {
  const text = 'This is an example sentence';
  const get = async (layers: number) => (await embed({ input: text, layers }).expect(200)).body.data[0].embedding as number[];
  const [l0, l3, l6, last] = await Promise.all([get(0), get(3), get(6), get(-1)]);
  assert.ok(cosine(l0, l3) < 0.99, `layer 0 vs 3 cosine ${cosine(l0, l3)}`);
  assert.ok(cosine(l3, l6) < 0.99, `layer 3 vs 6 cosine ${cosine(l3, l6)}`);
  assert.ok(cosine(l0, l6) < 0.99);
  // Equal up to rounding: the four requests may share an encoder row, and a row's other sequences change the sums' order.
  assert.equal(last.length, l6.length);
  for (const [i, v] of l6.entries()) assert.ok(Math.abs(v - last[i]!) < 1e-6, `dim ${i}: layer 6 ${v}, layer -1 ${last[i]}`);
});

test('layer combinations: concat stacks layers, mean averages them', async () => {
  const text = 'Where is my card?';
  const concat = (await embed({ input: text, layers: [4, 5, 6], normalize: false }).expect(200)).body.data[0].embedding as number[];
  const mean = (await embed({ input: text, layers: [4, 5, 6], layer_combine: 'mean', normalize: false }).expect(200)).body.data[0].embedding as number[];
  const l5 = (await embed({ input: text, layers: 5, normalize: false }).expect(200)).body.data[0].embedding as number[];
  assert.equal(concat.length, 1152);
  assert.equal(mean.length, 384);
  for (let i = 0; i < 384; i++) assert.ok(Math.abs(concat[384 + i]! - l5[i]!) < 1e-5, 'the middle block of the concatenation is layer 5');
  for (let i = 0; i < 384; i++) {
    const avg = (concat[i]! + concat[384 + i]! + concat[768 + i]!) / 3;
    assert.ok(Math.abs(mean[i]! - avg) < 1e-5, 'mean is the average of the layers');
  }
});

test('pooling modes differ and normalize=false keeps the raw scale', async () => {
  const text = 'I lost my card yesterday';
  const get = async (extra: object) => (await embed({ input: text, ...extra }).expect(200)).body.data[0].embedding as number[];
  const [mean, cls, max, raw] = await Promise.all([get({}), get({ pooling: 'cls' }), get({ pooling: 'max' }), get({ normalize: false })]);
  assert.ok(cosine(mean, cls) < 0.999);
  assert.ok(cosine(mean, max) < 0.999);
  assert.ok(Math.abs(norm(raw) - 1) > 0.01, `raw norm ${norm(raw)}`);
  assert.ok(cosine(raw, mean) > 0.99999, 'normalising changes the length, not the direction');
});

test('a batch returns the same vectors as single requests, in input order, despite padding', async () => {
  const texts = ['Hi', 'How do I activate my new card when I am abroad and the app does not work?', 'Refund', 'exchange rate'];
  const batch = (await embed({ input: texts }).expect(200)).body.data as Array<{ index: number; embedding: number[] }>;
  assert.deepEqual(
    batch.map((d) => d.index),
    [0, 1, 2, 3],
  );
  for (const [i, t] of texts.entries()) {
    const single = (await embed({ input: t }).expect(200)).body.data[0].embedding as number[];
    assert.ok(cosine(single, batch[i]!.embedding) > 0.99999, `text ${i}: batch and single differ`);
  }
});

test('dimensions keeps the first N and re-normalises; base64 carries the same float32 values', async () => {
  const text = 'This is an example sentence';
  const full = (await embed({ input: text }).expect(200)).body.data[0].embedding as number[];
  const cut = (await embed({ input: text, dimensions: 64 }).expect(200)).body.data[0].embedding as number[];
  assert.equal(cut.length, 64);
  assert.ok(Math.abs(norm(cut) - 1) < 1e-5);
  assert.ok(cosine(cut, full.slice(0, 64)) > 0.99999);
  const b64 = (await embed({ input: text, encoding_format: 'base64' }).expect(200)).body.data[0].embedding as string;
  const buf = Buffer.from(b64, 'base64');
  const decoded = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  assert.deepEqual(
    Array.from(decoded),
    full.map((x) => Math.fround(x)),
  );
});

test('truncation: long inputs are cut to 256 tokens by default and refused with 413 when truncate=false', async () => {
  const long = 'banking '.repeat(400);
  const ok = await embed({ input: long }).expect(200);
  assert.equal(ok.body.usage.prompt_tokens, 256);
  const refused = await embed({ input: ['short', long], truncate: false }).expect(413);
  assert.equal(refused.body.error.code, 'input_too_long');
  assert.equal(refused.body.error.param, 'input[1]');
  assert.match(refused.body.error.message, /402 tokens; the model takes at most 256/);
});

test('concurrent requests are coalesced into shared encoder runs', async () => {
  const texts = Array.from({ length: 24 }, (_, i) => `concurrent request number ${i}`);
  await Promise.all(texts.map((t) => embed({ input: t }).expect(200)));
  const metrics = (await request(app).get('/metrics').expect(200)).text;
  const count = Number(/encoder_batch_size_count\{model="all-MiniLM-L6-v2"\} (\d+)/.exec(metrics)?.[1]);
  const sum = Number(/encoder_batch_size_sum\{model="all-MiniLM-L6-v2"\} (\d+)/.exec(metrics)?.[1]);
  assert.ok(sum / count > 1, `mean batch size ${sum}/${count}: no batching happened`);
});

const BAD: Array<[string, unknown, number, RegExp, string | null]> = [
  ['missing input', {}, 400, /input: is required/, 'input'],
  ['empty string', { input: '' }, 400, /must not be empty/, 'input'],
  ['empty list', { input: [] }, 400, /at least one text/, 'input'],
  ['empty item', { input: ['ok', ''] }, 400, /must not be empty/, 'input[1]'],
  ['number input', { input: 42 }, 400, /token-id input is not supported/, 'input'],
  ['non-string item', { input: ['ok', 3] }, 400, /token-id input is not supported/, 'input[1]'],
  ['object item', { input: ['ok', { text: 'x' }] }, 400, /expected string/, 'input[1]'],
  ['token arrays', { input: [[101, 2023]] }, 400, /token-id input is not supported/, 'input[0]'],
  ['too many inputs', { input: Array.from({ length: 2049 }, () => 'x') }, 400, /more than 2048 texts/, 'input'],
  ['unknown model', { input: 'x', model: 'text-embedding-3-small' }, 404, /does not exist/, 'model'],
  ['layer too high', { input: 'x', layers: 7 }, 400, /layer 7 is out of range/, 'layers'],
  ['layer too low', { input: 'x', layers: -8 }, 400, /layer -8 is out of range/, 'layers'],
  ['fractional layer', { input: 'x', layers: 1.5 }, 400, /int/, 'layers'],
  ['duplicate layers', { input: 'x', layers: [6, -1] }, 400, /same layer twice/, 'layers'],
  ['bad pooling', { input: 'x', pooling: 'sum' }, 400, /mean.*cls.*max/, 'pooling'],
  ['bad combine', { input: 'x', layers: [1, 2], layer_combine: 'add' }, 400, /concat.*mean/, 'layer_combine'],
  ['bad encoding', { input: 'x', encoding_format: 'int8' }, 400, /float.*base64/, 'encoding_format'],
  ['dimensions too large', { input: 'x', dimensions: 385 }, 400, /exceeds the 384/, 'dimensions'],
  ['dimensions zero', { input: 'x', dimensions: 0 }, 400, />=1/, 'dimensions'],
  ['normalize not boolean', { input: 'x', normalize: 'yes' }, 400, /boolean/, 'normalize'],
  ['unknown field', { input: 'x', temperature: 1 }, 400, /unknown field "temperature"/, 'temperature'],
  ['body is an array', ['x'], 400, /must be a JSON object/, null],
];

for (const [name, body, status, message, param] of BAD) {
  test(`bad input: ${name} → ${status}`, async () => {
    const res = await embed(body).expect(status).expect('content-type', /json/);
    assert.match(res.body.error.message, message);
    assert.equal(res.body.error.param, param);
    assert.equal(typeof res.body.error.type, 'string');
    assert.equal(typeof res.body.error.code, 'string');
    assert.doesNotMatch(JSON.stringify(res.body), /at .*\.js:\d+/, 'no stack trace');
  });
}

test('bad input: malformed JSON → 400, wrong content type → 415, over-long text → 400', async () => {
  const bad = await request(app).post('/v1/embeddings').set('content-type', 'application/json').send('{"input": ').expect(400);
  assert.equal(bad.body.error.code, 'invalid_json');
  const plain = await request(app).post('/v1/embeddings').set('content-type', 'text/plain').send('hello').expect(415);
  assert.equal(plain.body.error.code, 'unsupported_media_type');
  const huge = await embed({ input: 'a'.repeat(100_001) }).expect(400);
  assert.match(huge.body.error.message, /longer than 100000 characters/);
});

test('bad input: a body over the configured limit → 413 without reaching the encoder', async () => {
  const small = await testApp({ env: { TRANSFERD_BODY_LIMIT: '1024' } });
  const res = await request(small.app)
    .post('/v1/embeddings')
    .send({ input: 'x'.repeat(2000) })
    .expect(413);
  assert.equal(res.body.error.code, 'body_too_large');
});

test('unknown routes answer 404 and wrong methods 405, both as JSON errors', async () => {
  const nf = await request(app).get('/v1/nothing').expect(404);
  assert.equal(nf.body.error.code, 'route_not_found');
  const mna = await request(app).get('/v1/embeddings').expect(405);
  assert.equal(mna.headers.allow, 'POST');
});
