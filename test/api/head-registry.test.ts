/**
 * A head type is one folder and one registry line: the app built with a
 * registry holding one more head type (test/helpers/throwaway-head.ts, never
 * trained) lists it in GET /v1/heads, accepts it in training requests and
 * documents it in /openapi.json and the artifact route, with nothing else
 * changed; the app built with the registry as it is knows none of it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { HEADS } from '../../src/heads/registry.js';
import { testApp } from '../helpers/app.js';
import { intents } from '../helpers/fixtures.js';
import { createTask } from '../helpers/jobs.js';
import { WITH_THROWAWAY } from '../helpers/throwaway-head.js';

const { app } = await testApp({ heads: WITH_THROWAWAY, train: false });
const { app: plain } = await testApp({ train: false });

// biome-ignore lint/suspicious/noExplicitAny: the document is plain JSON
type Json = any;

/** The training request's head field in /openapi.json: the type names, and the {type, params} variants by type. */
async function documentedHeads(target: typeof app) {
  const doc = (await request(target).get('/openapi.json').expect(200)).body;
  const body = doc.paths['/v1/tasks/{task}/jobs'].post.requestBody.content['application/json'].schema;
  const [names, variants] = body.properties.head.anyOf as [Json, Json];
  const byType = new Map<string, Json>((variants.oneOf as Json[]).map((v) => [v.properties.type.const, v]));
  const artifact = doc.paths['/v1/tasks/{task}/versions/{version}/artifact'].get.description as string;
  return { doc, names: names.enum as string[], byType, artifact };
}

test('GET /v1/heads lists the new head type with its parameters, defaults and uses; the plain app does not', async () => {
  const heads = (await request(app).get('/v1/heads').expect(200)).body.data as Json[];
  assert.deepEqual(
    heads.map((h) => h.type),
    [...HEADS.map((h) => h.type), 'throwaway', 'fine_tune'],
  );
  const t = heads.find((h) => h.type === 'throwaway');
  assert.equal(t.description, 'A head type that exists only in the tests.');
  assert.deepEqual(t.defaults, { depth: 3, style: 'plain', tags: [] });
  assert.deepEqual(t.params.properties.depth, { default: 3, description: 'How deep it would go.', type: 'integer', minimum: 1, maximum: 9 });
  assert.deepEqual(t.params.properties.style.enum, ['plain', 'fancy']);
  assert.deepEqual(
    [t.task_kinds, t.multi_label, t.auto, t.default_for, t.exportable, t.search],
    [['single_label'], null, ['single_label'], [], false, 'depth ∈ {1, 2, 3}'],
  );
  assert.deepEqual(t.artifact, { format: 'throwaway-v1', description: 'depth (as trained), style.' });
  // What the real registry says, for comparison: every head type exports, the defaults are the default heads.
  assert.ok(
    heads.filter((h) => h.type !== 'throwaway').every((h) => h.exportable),
    'every real head type exports',
  );
  assert.deepEqual(
    heads.filter((h) => h.default_for.length).map((h) => [h.type, h.default_for]),
    [
      ['svm', ['single_label']],
      ['logistic_regression', ['multi_label']],
    ],
  );

  const known = (await request(plain).get('/v1/heads').expect(200)).body.data as Json[];
  assert.deepEqual(
    known.map((h) => h.type),
    [...HEADS.map((h) => h.type), 'fine_tune'],
  );
});

test("/openapi.json's training request and artifact description include the new head type", async () => {
  const withIt = await documentedHeads(app);
  assert.ok(withIt.names.includes('throwaway'));
  const variant = withIt.byType.get('throwaway');
  assert.deepEqual(Object.keys(variant.properties.params.properties), ['depth', 'style', 'tags']);
  assert.match(variant.properties.search.description, /depth ∈ \{1, 2, 3\}/);
  assert.match(withIt.byType.get('auto').properties.candidates.description, /default: svm, random_forest, logistic_regression, throwaway;/);
  assert.match(withIt.artifact, /"throwaway-v1" \(throwaway heads\): depth \(as trained\), style\./);
  for (const h of HEADS) assert.ok(withIt.artifact.includes(`"${h.format}" (${h.type} heads): ${h.artifactDescription}`), h.type);
  for (const wrapper of ['multi-label', 'one-vs-rest']) assert.ok(withIt.artifact.includes(`"${wrapper}" (`), wrapper);
  assert.ok(withIt.doc.paths['/v1/heads'].get, 'GET /v1/heads is documented');

  const without = await documentedHeads(plain);
  assert.ok(!without.names.includes('throwaway') && !without.byType.has('throwaway') && !without.artifact.includes('throwaway'));
});

test('a training request may name the new head type, its parameters checked by its own schema', async () => {
  const task = await createTask(app, 'throwaway', intents(6));
  const job = (
    await request(app)
      .post(`/v1/tasks/${task}/jobs`)
      .send({ head: { type: 'throwaway', params: { depth: 5 } } })
      .expect(202)
  ).body;
  assert.deepEqual(job.request.head, { type: 'throwaway', params: { depth: 5, style: 'plain', tags: [] }, search: false });
  const named = (await request(app).post(`/v1/tasks/${task}/jobs`).send({ head: 'throwaway' }).expect(202)).body;
  assert.deepEqual(named.request.head, { type: 'throwaway', params: { depth: 3, style: 'plain', tags: [] }, search: false });
  const auto = (await request(app).post(`/v1/tasks/${task}/jobs`).send({ head: 'auto' }).expect(202)).body;
  assert.deepEqual(auto.request.head.candidates, ['svm', 'random_forest', 'logistic_regression', 'throwaway']);

  const refused = (
    await request(app)
      .post(`/v1/tasks/${task}/jobs`)
      .send({ head: { type: 'throwaway', params: { depth: 0 } } })
      .expect(400)
  ).body;
  assert.equal(refused.error.param, 'head.params.depth');

  const other = await createTask(plain, 'throwaway', intents(6));
  const unknown = (
    await request(plain)
      .post(`/v1/tasks/${other}/jobs`)
      .send({ head: { type: 'throwaway', params: { depth: 5 } } })
      .expect(400)
  ).body;
  assert.match(unknown.error.message, /unknown head type; use one of svm, random_forest, logistic_regression, mlp, prototype, fine_tune, auto/);
});
