/** The real `openai` npm client, pointed at the service with baseURL, must just work. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { cosine, listen, norm, testApp } from '../helpers/app.js';

const { app } = await testApp();
const { url } = await listen(app);
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'not-needed-yet', maxRetries: 0 });
const REFERENCE = [0.06765693, 0.06349593, 0.04871314, 0.07930495, 0.03744806, 0.00265273];

test('embeddings.create with the client default (base64 on the wire) decodes to the reference vector', async () => {
  const res = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: 'This is an example sentence' });
  const v = Array.from(res.data[0]!.embedding);
  assert.equal(v.length, 384);
  for (const [i, r] of REFERENCE.entries()) assert.ok(Math.abs(v[i]! - r) < 1e-3, `dim ${i}: ${v[i]} vs ${r}`);
  assert.equal(res.model, 'all-MiniLM-L6-v2');
  assert.equal(res.usage.prompt_tokens, 7);
});

test('float encoding, batches and dimensions through the client agree with base64', async () => {
  const input = ['first text', 'a somewhat longer second text for the batch'];
  const asFloat = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input, encoding_format: 'float' });
  const asB64 = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input });
  assert.equal(asFloat.data.length, 2);
  for (let i = 0; i < 2; i++) {
    assert.equal(asFloat.data[i]!.index, i);
    assert.ok(cosine(asFloat.data[i]!.embedding, Array.from(asB64.data[i]!.embedding)) > 0.999999);
  }
  const short = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: 'x', dimensions: 128, encoding_format: 'float' });
  assert.equal(short.data[0]!.embedding.length, 128);
  assert.ok(Math.abs(norm(short.data[0]!.embedding) - 1) < 1e-5);
});

test('service extensions (layers, pooling) pass through the client', async () => {
  const base = { model: 'all-MiniLM-L6-v2', input: 'extensions', encoding_format: 'float' as const };
  const last = await client.embeddings.create(base);
  const first = await client.embeddings.create({ ...base, layers: 1, pooling: 'cls' } as OpenAI.EmbeddingCreateParams);
  assert.ok(cosine(last.data[0]!.embedding, first.data[0]!.embedding) < 0.99);
});

test("errors surface as the client's typed API errors", async () => {
  await assert.rejects(client.embeddings.create({ model: 'no-such-model', input: 'x' }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal((e as InstanceType<typeof OpenAI.NotFoundError>).code, 'model_not_found');
    return true;
  });
  await assert.rejects(client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: '' }), OpenAI.BadRequestError);
});

test('models.list shows the model', async () => {
  const ids: string[] = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['all-MiniLM-L6-v2']);
});
