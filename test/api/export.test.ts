/**
 * GET …/versions/{n}/export?format=onnx: one version of each head type, and
 * multi-label versions (a native fit and one-vs-rest), each on a task with a
 * feature spec of its own (every pooling, both ways of combining layers, with
 * and without normalisation), downloaded and run by onnxruntime-node alone on
 * texts tokenized with the model's tokenizer.json, gives the labels (or label
 * sets) and probabilities the service's predict route gives; so does a head
 * blended with its label descriptions. And what cannot be exported is refused
 * with a 4xx.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import request from 'supertest';
import { headOf } from '../../src/heads/registry.js';
import { testApp } from '../helpers/app.js';
import { intents, labelSets } from '../helpers/fixtures.js';
import { train } from '../helpers/jobs.js';
import { domains, downloadFile, metadataOf, tokenizeForExport as tokenize } from '../helpers/onnx-file.js';

const { app } = await testApp();

const download = (path: string) => downloadFile(app, path);

/** Texts no task trained on: the fixture's unseen ones, and a few unlike them (one past the token limit). */
const TEXTS = [
  ...intents(4, 60).map((r) => r.text),
  'Hi',
  'Wie wird das Wetter morgen in München? ☔️',
  `Please ${'transfer the money to my savings account and then '.repeat(40)}tell me the balance`,
];

type Kind = 'single_label' | 'multi_label';

/** `described`: the task's labels declared with descriptions, one example a label, and a job with every default (a blend with the descriptions). */
async function trainedVersion(name: string, kind: Kind, head: object, featureSpec: object, described = false): Promise<{ task: string; version: number }> {
  const labels = described ? DESCRIBED : undefined;
  const task = (await request(app).post('/v1/tasks').send({ name, kind, feature_spec: featureSpec, labels }).expect(201)).body.id as string;
  const rows = described ? intents(1, 3) : kind === 'single_label' ? intents(10) : labelSets(8, 0);
  await request(app)
    .post(`/v1/tasks/${task}/examples`)
    .set('content-type', 'application/x-ndjson')
    .send(rows.map((r) => JSON.stringify(r)).join('\n'))
    .expect(201);
  const job = await train(app, task, described ? {} : { head, evaluation: { method: 'holdout', fraction: 0.25 } });
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  return { task, version: job.version! };
}

const DESCRIBED = [
  { name: 'weather', description: 'the weather forecast: rain, temperature, wind and umbrellas' },
  { name: 'music', description: 'playing music, songs, albums and playlists' },
  { name: 'banking', description: 'bank accounts, money transfers and card payments' },
  { name: 'sports', description: 'sports teams, matches, goals and scores' },
];

/**
 * Every head type, on feature specs that between them use every pooling, both combinations, with and without
 * normalisation; and a head blended with its label descriptions (`described`).
 */
const CASES: Array<{ kind: Kind; head: { type: string; params?: object }; spec: object; described?: boolean }> = [
  { kind: 'single_label', head: { type: 'svm' }, spec: {} },
  { kind: 'single_label', head: { type: 'random_forest', params: { n_estimators: 40 } }, spec: { layers: [2, 4], pooling: 'cls', normalize: false } },
  { kind: 'single_label', head: { type: 'logistic_regression' }, spec: { layers: [3, 5], layer_combine: 'mean', pooling: 'max' } },
  { kind: 'single_label', head: { type: 'mlp', params: { hidden_layer_sizes: [32, 16] } }, spec: { layers: -2 } },
  // Multi-label: a native fit (sigmoid outputs) and one-vs-rest (a two-class head per label), each with its thresholds.
  { kind: 'multi_label', head: { type: 'logistic_regression' }, spec: {} },
  { kind: 'multi_label', head: { type: 'random_forest', params: { n_estimators: 20 } }, spec: { pooling: 'max' } },
  { kind: 'single_label', head: { type: 'logistic_regression' }, spec: {}, described: true },
];

interface Served {
  label?: string;
  labels?: string[];
  probabilities: Record<string, number>;
}

for (const { kind, head, spec, described } of CASES) {
  const what = `${head.type}${described ? ' blended with descriptions' : ''}, ${kind}`;
  test(`${what}: the exported model, run by onnxruntime alone, gives the service's labels and probabilities`, async () => {
    const { task, version } = await trainedVersion(`export-${head.type}-${kind}${described ? '-blend' : ''}`, kind, head, spec, described);
    const res = await download(`/v1/tasks/${task}/versions/${version}/export?format=onnx`).expect(200);
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['content-disposition'], `attachment; filename="${task}-v${version}.onnx"`);
    const file = res.body as Buffer;
    assert.equal(Number(res.headers['content-length']), file.length);

    const model = onnxProto.onnx.ModelProto.decode(file);
    const graph = model.graph as onnxProto.onnx.GraphProto;
    assert.deepEqual(
      graph.input.map((i) => i.name),
      ['input_ids', 'attention_mask'],
    );
    assert.deepEqual(
      graph.output.map((o) => o.name),
      ['probabilities', kind === 'single_label' ? 'label' : 'predicted'],
    );
    assert.ok(!domains(graph.node).has('com.microsoft'), 'no onnxruntime contrib operator: the file is portable');
    const meta = metadataOf(model);
    const versionJson = (await request(app).get(`/v1/tasks/${task}/versions/${version}`).expect(200)).body;
    const labels = JSON.parse(meta.labels!) as string[];
    assert.deepEqual(labels, versionJson.labels);
    assert.deepEqual(JSON.parse(meta.feature_spec!), versionJson.feature_spec);
    assert.equal(meta.head_type, head.type);
    assert.equal(versionJson.report.blend !== undefined, described === true, 'a blend where (and only where) the descriptions carry weight');
    assert.equal(meta.thresholds === undefined, kind === 'single_label');

    const feeds = tokenize(TEXTS, Number(meta.max_tokens));
    assert.ok(feeds.longest > Number(meta.max_tokens), 'one text is cut to the model limit');
    const session = await ort.InferenceSession.create(file);
    const out = await session.run({ input_ids: feeds.input_ids, attention_mask: feeds.attention_mask });
    await session.release();
    const probabilities = out.probabilities!.data as Float32Array;
    const k = labels.length;

    const served = (await request(app).post(`/v1/tasks/${task}/predict`).send({ input: TEXTS, version }).expect(200)).body;
    let worst = 0;
    served.data.forEach((p: Served, i: number) => {
      const where = `text ${i}: ${TEXTS[i]!.slice(0, 40)}`;
      if (kind === 'single_label') assert.equal(labels[Number((out.label!.data as BigInt64Array)[i])], p.label, where);
      else {
        const predicted = labels.filter((_, c) => (out.predicted!.data as Uint8Array)[i * k + c]);
        assert.deepEqual(predicted.sort(), [...p.labels!].sort(), where);
      }
      labels.forEach((l, c) => {
        worst = Math.max(worst, Math.abs(probabilities[i * k + c]! - p.probabilities[l]!));
      });
    });
    assert.ok(worst <= 1e-4, `probabilities differ by up to ${worst}`);
  });
}

test('4xx: an unknown format lists the supported ones; a missing version or task is 404; a head type without an export is 409', async () => {
  const { task, version } = await trainedVersion('export-refusals', 'single_label', { type: 'logistic_regression' }, {});
  const format = await request(app).get(`/v1/tasks/${task}/versions/${version}/export?format=pmml`).expect(400);
  assert.equal(format.body.error.code, 'invalid_request');
  assert.equal(format.body.error.param, 'query.format');
  assert.match(format.body.error.message, /"pmml" is not an export format; supported: onnx/);
  assert.equal(
    (
      await request(app)
        .get(`/v1/tasks/${task}/versions/${version + 1}/export?format=onnx`)
        .expect(404)
    ).body.error.code,
    'version_not_found',
  );
  assert.equal((await request(app).get(`/v1/tasks/task_missing/versions/1/export?format=onnx`).expect(404)).body.error.code, 'task_not_found');

  // A head type whose definition has no export (as one added without it would be).
  const logistic = headOf('logistic_regression')!;
  const hook = logistic.onnx;
  delete (logistic as { onnx?: unknown }).onnx;
  try {
    const refused = await request(app).get(`/v1/tasks/${task}/versions/${version}/export`).expect(409);
    assert.equal(refused.body.error.code, 'export_unsupported');
    assert.match(refused.body.error.message, /logistic_regression heads cannot be exported to ONNX/);
  } finally {
    (logistic as { onnx?: unknown }).onnx = hook;
  }
});
