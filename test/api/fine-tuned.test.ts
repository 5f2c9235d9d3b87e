/**
 * A fine-tuned version through the API, on the real model: the top 2 layers
 * and a classifier fine-tuned on 60 TREC questions (src/training/fine-tune/),
 * written through the store as a job's end writes it, beside a frozen SVM
 * version of the same task (trained by a job). Its record says what was
 * tuned; its artifact is the classifier; predict gives what the stack run
 * apart gives; a multi-task predict over it, a frozen task and a zero-shot
 * task runs the shared encoder once per text; evaluate and suggestions use
 * it; its features are cached as its own and never stored (a job's neither); its stack counts
 * in the client's stored bytes; the export, run by onnxruntime alone,
 * agrees with predict; rollback to the frozen version and deletion of the
 * fine-tuned one leave every cache without it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import request from 'supertest';
import { DEFAULT_MODEL } from '../../src/config.js';
import type { BatchStats } from '../../src/encoder/encoder-protocol.js';
import { specKey } from '../../src/encoder/feature-spec.js';
import { versionOut, versionSummaryOut } from '../../src/http/schemas/version.js';
import { textHash } from '../../src/store/ids.js';
import { DEFAULT_CLIENT } from '../../src/store/types.js';
import { testModels, testService } from '../helpers/app.js';
import { directlyTuned, fineTunedTrec, fineTunedVersion, writeVersion } from '../helpers/fine-tuned.js';
import { train } from '../helpers/jobs.js';
import { domains, downloadFile, metadataOf, tokenizeForExport } from '../helpers/onnx-file.js';

const service = await testService();
const { app } = service.app;
const { store } = service;
const encoder = (await testModels()).get(DEFAULT_MODEL)!;
const tuned = await fineTunedTrec(2);
const { stack } = tuned.result;

// One task: its frozen SVM version (a job's), then the fine-tuned one (written as a job's end writes it).
const taskId = (await request(app).post('/v1/tasks').send({ name: 'questions' }).expect(201)).body.id as string;
await request(app)
  .post(`/v1/tasks/${taskId}/examples`)
  .set('content-type', 'application/x-ndjson')
  .send(tuned.train.map((r) => JSON.stringify(r)).join('\n'))
  .expect(201);
const frozenJob = await train(app, taskId, { head: { type: 'svm' }, evaluation: { method: 'holdout', fraction: 0.25 } });
assert.equal(frozenJob.state, 'succeeded', JSON.stringify(frozenJob.error));
const FROZEN = frozenJob.version!;
// The runner would claim the job the store writes the fine-tuned version with: from here on, no runner.
await service.runner.stop();
const usageBefore = await store.usage(DEFAULT_CLIENT);
const TUNED = await writeVersion(store, DEFAULT_CLIENT, taskId, fineTunedVersion(tuned));
const record = (await store.getVersion(DEFAULT_CLIENT, taskId, TUNED))!;

/** A frozen task of its own (an SVM on other rows) and a zero-shot one: the other tasks of a multi-task predict. */
const otherTask = (await request(app).post('/v1/tasks').send({ name: 'frozen-other' }).expect(201)).body.id as string;
const zeroShot = (
  await request(app)
    .post('/v1/tasks')
    .send({ name: 'zero', labels: [{ name: 'a place' }, { name: 'a number' }, { name: 'a person' }] })
    .expect(201)
).body.id as string;

const predict = (texts: string[], version?: number) =>
  request(app)
    .post(`/v1/tasks/${taskId}/predict`)
    .send({ input: texts, ...(version ? { version } : {}) })
    .expect(200)
    .then((r) => r.body);

/** n × labels probabilities in the version's label order, from a predict answer. */
const matrix = (data: Array<{ probabilities: Record<string, number> }>) => Float32Array.from(data.flatMap((d) => tuned.labels.map((l) => d.probabilities[l]!)));
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

test('the version says what was tuned and how big it is; its artifact is the classifier, tied to its layers', async () => {
  const v = (await request(app).get(`/v1/tasks/${taskId}/versions/${TUNED}`).expect(200)).body;
  versionOut.parse(v);
  assert.equal(v.head_type, 'fine_tune');
  assert.equal(v.active, true);
  assert.deepEqual(v.tuned, {
    layers: 2,
    first_layer: 4,
    last_layer: 5,
    stored_bytes: record.tuned!.storedBytes,
    loaded_bytes: record.tuned!.loadedBytes,
  });
  assert.ok(v.tuned.stored_bytes > 10e6 && v.tuned.loaded_bytes === 2 * 1_774_464 * 4, 'two layers of fp32 weights');
  assert.deepEqual(v.feature_spec, {
    model: DEFAULT_MODEL,
    layers: [6],
    layer_combine: 'concat',
    pooling: 'mean',
    normalize: false,
    tuned: { first_layer: 4 },
  });
  const list = (await request(app).get(`/v1/tasks/${taskId}/versions`).expect(200)).body.data;
  for (const item of list) versionSummaryOut.parse(item);
  assert.deepEqual(
    list.map((x: { tuned: { layers: number } | null }) => x.tuned?.layers ?? null),
    [null, 2],
  );
  const artifact = (await request(app).get(`/v1/tasks/${taskId}/versions/${TUNED}/artifact`).expect(200)).body;
  assert.deepEqual(
    { ...artifact, head: artifact.head.format },
    { format: 'fine-tuned', model: DEFAULT_MODEL, first: 4, last: 5, pooling: 'mean', head: 'softmax-linear' },
  );
  assert.deepEqual(artifact.head.weights.length, tuned.labels.length * 384);
  const doc = (await request(app).get('/openapi.json').expect(200)).body;
  const described = doc.paths['/v1/tasks/{task}/versions/{version}/artifact'].get.description as string;
  assert.match(described, /"fine-tuned" \(every fine-tuned version/, 'the artifact formats the API documents include it');
});

test("predict gives the probabilities of the tuned layers run apart, on the shared encoder's hidden state 4", async () => {
  const texts = tuned.unseen.slice(0, 20);
  const served = await predict(texts);
  assert.equal(served.version, TUNED);
  const direct = await directlyTuned(tuned.result, texts);
  const diff = maxDiff(matrix(served.data), direct.probabilities);
  assert.ok(diff <= 1e-4, `served and direct probabilities differ by ${diff}`);
  const best = (i: number) => tuned.labels[direct.probabilities.subarray(i * 6, i * 6 + 6).reduce((b, p, c, row) => (p > row[b]! ? c : b), 0)];
  assert.deepEqual(
    served.data.map((d: { label: string }) => d.label),
    texts.map((_, i) => best(i)),
  );
  assert.deepEqual(encoder.stacks, [record.id], 'the encoder holds its stack');
});

test('a multi-task predict over the fine-tuned, a frozen and a zero-shot task runs the shared encoder once per text', async () => {
  await request(app)
    .post(`/v1/tasks/${otherTask}/examples`)
    .set('content-type', 'application/x-ndjson')
    .send(
      tuned.train
        .slice(0, 40)
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
  // Not through a job (the runner is stopped): the frozen task answers with the frozen version of the first task's.
  const frozenRecord = (await store.getVersion(DEFAULT_CLIENT, taskId, FROZEN))!;
  const frozenArtifact = await store.getArtifact(DEFAULT_CLIENT, taskId, FROZEN);
  await writeVersion(store, DEFAULT_CLIENT, otherTask, { ...frozenRecord, artifact: frozenArtifact });
  const texts = tuned.unseen.slice(20, 40).map((t) => `${t} (multi)`);
  // The zero-shot head is built from its label texts' features on first use: built before counting.
  await request(app).post(`/v1/tasks/${zeroShot}/predict`).send({ input: 'warm' }).expect(200);
  const batches: BatchStats[] = [];
  const onBatch = (s: BatchStats) => batches.push(s);
  encoder.on('batch', onBatch);
  const multi = (
    await request(app)
      .post('/v1/predict')
      .send({ input: texts, tasks: [taskId, otherTask, zeroShot] })
      .expect(200)
  ).body;
  encoder.off('batch', onBatch);
  assert.deepEqual(
    multi.data.map((d: { task: string; version: number }) => [d.task, d.version]),
    [
      [taskId, TUNED],
      [otherTask, 1],
      [zeroShot, 0],
    ],
  );
  assert.equal(multi.usage.encoded_texts, texts.length);
  assert.equal(
    batches.reduce((n, s) => n + s.size, 0),
    texts.length,
    'each text through the shared graph once',
  );
  assert.ok(batches.every((s) => s.stacks === 1));
  // Each task's answer is its own predict's.
  const alone = await predict(texts);
  assert.equal(alone.usage.encoded_texts, 0, 'the fine-tuned features were cached under the version');
  assert.deepEqual(multi.data[0].predictions, alone.data);
  const frozen = (await request(app).post(`/v1/tasks/${otherTask}/predict`).send({ input: texts }).expect(200)).body;
  assert.deepEqual(multi.data[1].predictions, frozen.data);
  // Prediction features are kept in memory only, never stored.
  assert.equal((await store.getFeatures(specKey(record.spec), texts.map(textHash))).size, 0);
});

test('evaluate and suggestions answer with the fine-tuned version', async () => {
  const rows = tuned.train.slice(0, 30);
  const evaluation = (await request(app).post(`/v1/tasks/${taskId}/evaluate`).send({ examples: rows }).expect(200)).body;
  assert.equal(evaluation.version, TUNED);
  const served = await predict(rows.map((r) => r.text));
  const accuracy = served.data.filter((d: { label: string }, i: number) => d.label === rows[i]!.label).length / rows.length;
  assert.equal(evaluation.accuracy, accuracy);
  const suggestions = (
    await request(app)
      .post(`/v1/tasks/${taskId}/suggestions`)
      .send({ input: tuned.unseen.slice(0, 12), k: 3 })
      .expect(200)
  ).body;
  assert.equal(suggestions.version, TUNED);
  assert.equal(suggestions.data.length, 3);
});

test("a job's features under the fine-tuned spec are the served ones, encoded every time and never stored", async () => {
  const texts = tuned.unseen.slice(30, 36).map((t) => `${t} (training)`);
  const hashes = texts.map(textHash);
  const first = await service.features.forTraining(DEFAULT_CLIENT, [record.spec], texts, hashes);
  const again = await service.features.forTraining(DEFAULT_CLIENT, [record.spec], texts, hashes);
  assert.deepEqual([first.encoded, again.encoded], [texts.length, texts.length]);
  assert.deepEqual(again.matrices[0]!.x, first.matrices[0]!.x);
  assert.equal((await store.getFeatures(specKey(record.spec), hashes)).size, 0);
  const direct = await directlyTuned(tuned.result, texts);
  assert.ok(maxDiff(first.matrices[0]!.x, direct.features) < 1e-4);
});

test("the stack counts in the client's stored bytes", async () => {
  const artifact = (await store.getArtifactBytes(DEFAULT_CLIENT, taskId, TUNED))!;
  const grown = (await store.usage(DEFAULT_CLIENT)).storedBytes - usageBefore.storedBytes;
  // The other task's frozen version was written since: count it out.
  const other = (await store.getArtifactBytes(DEFAULT_CLIENT, otherTask, 1))!;
  const otherExamples = tuned.train.slice(0, 40).reduce((sum, r) => sum + Buffer.byteLength(r.text) + Buffer.byteLength(r.label), 0);
  assert.equal(grown - other.byteLength - otherExamples, artifact.byteLength + record.tuned!.storedBytes);
});

test('the export, run by onnxruntime alone, gives the labels and probabilities of predict', async () => {
  const texts = [...tuned.unseen.slice(0, 10), 'Hi', `Why ${'is the sky blue and the grass green and '.repeat(40)}?`];
  const res = await downloadFile(app, `/v1/tasks/${taskId}/versions/${TUNED}/export?format=onnx`).expect(200);
  const file = res.body as Buffer;
  const model = onnxProto.onnx.ModelProto.decode(file);
  const graph = model.graph as onnxProto.onnx.GraphProto;
  assert.ok(!domains(graph.node).has('com.microsoft'), 'no onnxruntime contrib operator: the file is portable');
  const meta = metadataOf(model);
  assert.equal(meta.head_type, 'fine_tune');
  assert.deepEqual(JSON.parse(meta.feature_spec!).tuned, { first_layer: 4 });
  // The tuned weights are in the file in place of the frozen ones (layers 4 and 5); layers 0-3 are the imported graph's.
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name, t]));
  assert.ok(initializers.has('encoder.layer.3.attention.self.qkv.weight') && !initializers.has('encoder.layer.4.attention.self.qkv.weight'));
  const exported = initializers.get('encoder.layer.5.output.dense.weight.T')!;
  const raw = exported.rawData!;
  const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const trained = stack.tensors.get('encoder.layer.5.output.dense.weight')!; // [out, in]; the file holds [in, out]
  const [outDim, inDim] = trained.shape as [number, number];
  assert.deepEqual(exported.dims!.map(Number), [inDim, outDim]);
  for (const [o, i] of [
    [0, 0],
    [7, 1000],
    [383, 1535],
  ] as const)
    assert.equal(values[i * outDim + o], trained.data[o * inDim + i]);
  const feeds = tokenizeForExport(texts, Number(meta.max_tokens));
  const session = await ort.InferenceSession.create(file);
  const out = await session.run({ input_ids: feeds.input_ids, attention_mask: feeds.attention_mask });
  await session.release();
  const labels = JSON.parse(meta.labels!) as string[];
  assert.deepEqual(labels, tuned.labels);
  const served = await predict(texts);
  assert.deepEqual(
    Array.from(out.label!.data as BigInt64Array, (c) => labels[Number(c)]),
    served.data.map((d: { label: string }) => d.label),
  );
  const diff = maxDiff(out.probabilities!.data as Float32Array, matrix(served.data));
  assert.ok(diff <= 1e-4, `exported and served probabilities differ by ${diff}`);
});

test('rollback to the frozen version answers with it; deleting the fine-tuned one drops its stack everywhere', async () => {
  const texts = tuned.unseen.slice(0, 5);
  await request(app).post(`/v1/tasks/${taskId}/versions/${FROZEN}/activate`).expect(200);
  const frozen = await predict(texts);
  assert.equal(frozen.version, FROZEN);
  assert.equal((await predict(texts, TUNED)).version, TUNED, 'still served when pinned');
  assert.ok(service.stacks.bytes > 0 && encoder.stacks.includes(record.id));
  const dropped = new Promise<string[]>((ok) => encoder.once('stacks', ok));
  await request(app).delete(`/v1/tasks/${taskId}/versions/${TUNED}`).expect(204);
  assert.deepEqual(await dropped, [], 'the worker let go of the stack');
  assert.equal(service.stacks.bytes, 0);
  const gone = await request(app).post(`/v1/tasks/${taskId}/predict`).send({ input: texts, version: TUNED }).expect(404);
  assert.equal(gone.body.error.code, 'version_not_found');
  assert.deepEqual((await predict(texts)).data, frozen.data, 'the frozen version still answers');
  assert.equal(await store.getTunedStack(DEFAULT_CLIENT, record.id), undefined);
});
