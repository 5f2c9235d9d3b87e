/**
 * Fine-tuning on the real model and real questions (60 TREC training
 * questions, the top layer tuned): the loss falls and the held-out accuracy
 * rises; a run is a pure function of its inputs and seed, bit for bit; a run
 * resumed from its epoch-1 checkpoint ends with the uninterrupted run's
 * weights; cancelling stops it between steps; the tuned stack, stored and
 * read back, run as serving will run it (fused attention, the weights as
 * initializers) with the classifier as a logistic-regression predictor,
 * gives the probabilities the run reported; the multi-label loss trains
 * sigmoid outputs. Also the recipe's checks and the states' spill file.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tensor } from 'onnxruntime-node';
import { loadJsonl, shuffled } from '../../bench/lib/datasets.js';
import { DEFAULT_MODEL } from '../../src/config.js';
import { DomainError } from '../../src/errors.js';
import { sequenceMask } from '../../src/encoder/import/attention.js';
import { decodeFloat16 } from '../../src/encoder/import/fp16.js';
import { addEncoderLayers } from '../../src/encoder/import/layer-stack.js';
import { type ModelManifest, readManifest } from '../../src/encoder/manifest.js';
import { decodeTunedStack, encodeTunedStack, tunedStackSource } from '../../src/encoder/tuned-stack.js';
import { LogisticPredictor } from '../../src/heads/logistic/model.js';
import { DT, GraphBuilder } from '../../src/onnx/graph.js';
import { syncOrt } from '../../src/onnx/session.js';
import { computeFrozenStates, frozenGraph, meanPooled } from '../../src/training/fine-tune/frozen-states.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  type FineTuneCheckpoint,
  type FineTuneInput,
  type FineTuneResult,
  fineTune,
  pairedOrder,
  resolveRecipe,
  untrainableReason,
} from '../../src/training/fine-tune/index.js';
import { tokenizerOf } from '../../src/training/fine-tune/tokens.js';

const dir = join('models', DEFAULT_MODEL);
const manifest = readManifest(dir)!;
const all = shuffled(loadJsonl('trec.train.jsonl'), 3);
const names = [...new Set(all.map((e) => e.label))].sort();
const train = all.slice(0, 60);
const held = all.slice(60, 160);
const y = (rows: typeof all) => Int32Array.from(rows, (e) => names.indexOf(e.label));
// A random start, so that the tests below see the classifier learn; the probe has a test of its own.
const recipe = resolveRecipe({ layers: 1, epochs: 2, batchSize: 8, learningRate: 3e-4, threads: 2, probe: false }, manifest);
const input: FineTuneInput = {
  modelDir: dir,
  texts: train.map((e) => e.text),
  labels: { classes: names.length, y: y(train) },
  recipe,
  heldOut: { texts: held.map((e) => e.text), labels: { classes: names.length, y: y(held) } },
  rowTokens: 64,
};

const weightsOf = (r: FineTuneResult) => Buffer.concat([Buffer.from(encodeTunedStack(r.stack)), Buffer.from(Float32Array.from(r.classifier.weights).buffer)]);

const checkpoints: FineTuneCheckpoint[] = [];
let steps = 0;
const first = await fineTune(input, {
  progress: () => steps++,
  checkpoint: (c) => {
    checkpoints.push(decodeCheckpoint(encodeCheckpoint(c)));
  },
});

test('the loss falls and the held-out accuracy rises over two epochs', async () => {
  assert.equal(steps, 16);
  assert.equal(first.history.length, 2);
  const [one, two] = first.history as [(typeof first.history)[0], (typeof first.history)[0]];
  assert.ok(two.loss < one.loss, `epoch losses ${one.loss} then ${two.loss}`);
  const accuracy = (h: typeof one) => (h.heldOut as { accuracy: number }).accuracy;
  const majority = Math.max(...names.map((l) => held.filter((e) => e.label === l).length)) / held.length;
  assert.ok(accuracy(two) > accuracy(one) && accuracy(two) > majority, `held-out accuracy ${accuracy(one)} then ${accuracy(two)} (majority ${majority})`);
  assert.equal(first.stack.first, 5);
  assert.equal(first.stack.last, 5);
  assert.equal(first.stack.tensors.size, 16);
  assert.deepEqual(
    first.stack.tensors.get('encoder.layer.5.intermediate.dense.weight')!.shape,
    [1536, 384],
    'linear weights [out, in], as the checkpoint stores them',
  );
  assert.equal(first.classifier.format, 'softmax-linear');
  assert.equal(first.classifier.weights.length, names.length * 384);
  const tokenize = await tokenizerOf(dir, recipe.maxTokens);
  assert.equal(first.stats.trainedTokens, 2 * train.reduce((n, e) => n + tokenize(e.text).length, 0), 'every text once an epoch');
  assert.ok(first.stats.computedTokens >= first.stats.trainedTokens);
});

test('a run is deterministic: the same seed gives the same weights bit for bit, another seed others', async () => {
  const again = await fineTune(input);
  assert.ok(weightsOf(again).equals(weightsOf(first)));
  assert.deepEqual(again.heldOutProbabilities, first.heldOutProbabilities);
  const other = await fineTune({ ...input, recipe: { ...recipe, seed: 1 } });
  assert.ok(!weightsOf(other).equals(weightsOf(first)));
});

test('a run resumed from its epoch-1 checkpoint ends with the uninterrupted run’s weights', async () => {
  assert.equal(checkpoints.length, 2);
  const resume = checkpoints[0]!;
  assert.deepEqual([resume.epoch, resume.step], [1, 8]);
  const resumedSteps: number[] = [];
  const resumed = await fineTune({ ...input, resume }, { progress: (p) => void resumedSteps.push(p.step) });
  assert.deepEqual(resumedSteps, [9, 10, 11, 12, 13, 14, 15, 16]);
  assert.ok(weightsOf(resumed).equals(weightsOf(first)));
  assert.deepEqual(
    resumed.history,
    first.history.map((h, i) => (i === 0 ? h : { ...h, seconds: resumed.history[1]!.seconds })),
  );
  await assert.rejects(fineTune({ ...input, recipe: { ...recipe, learningRate: 1e-4 }, resume }), /belongs to another run/);
});

test('a given starting classifier is where the classifier starts, and belongs to the run', async () => {
  const H = manifest.hiddenSize;
  const start = {
    weights: Float32Array.from({ length: names.length * H }, (_, i) => ((i % 7) - 3.5) / 100),
    bias: Float32Array.from(names, (_, c) => (c + 1) / 10),
  };
  // A step too small to move anything: what comes out is what went in (to fp32).
  const still = await fineTune({ ...input, classifier: start, recipe: { ...recipe, epochs: 1, learningRate: 1e-20 } });
  assert.deepEqual(Float32Array.from(still.classifier.weights), start.weights);
  assert.deepEqual(Float32Array.from(still.classifier.bias), start.bias);
  await assert.rejects(fineTune({ ...input, classifier: start, resume: checkpoints[0]! }), /belongs to another run/);
  await assert.rejects(fineTune({ ...input, classifier: { weights: [1, 2], bias: start.bias } }), /starting classifier's classifier.weight has 2 values/);
});

test('probing: the classifier starts at logistic regression on the untouched features, far ahead of a random start', async () => {
  const still = { ...recipe, epochs: 1, learningRate: 1e-20 };
  const probed = await fineTune({ ...input, recipe: { ...still, probe: true } });
  const random = await fineTune({ ...input, recipe: still });
  const acc = (r: FineTuneResult) => (r.history[0]!.heldOut as { accuracy: number }).accuracy;
  assert.ok(probed.stats.probeSeconds > 0 && random.stats.probeSeconds === 0);
  assert.ok(probed.history[0]!.loss < random.history[0]!.loss - 0.5, `loss ${probed.history[0]!.loss} against ${random.history[0]!.loss}`);
  assert.ok(acc(probed) >= acc(random) + 0.2, `held-out accuracy ${acc(probed)} against ${acc(random)}`);
  // A given classifier wins over the probe.
  const given = await fineTune({ ...input, recipe: { ...still, probe: true }, classifier: random.classifier });
  assert.deepEqual(given.classifier.weights, random.classifier.weights);
});

test('the contrastive objective: texts of a label batched together, the loss falls, a classifier fitted on the tuned embeddings', async () => {
  const labels = y(train);
  const order = pairedOrder(recipe.seed, 0, labels);
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    Array.from({ length: train.length }, (_, i) => i),
  );
  // At most one text a label lacks its pair (a label with an odd count).
  let unpaired = 0;
  for (let i = 0; i < order.length; ) {
    if (i + 1 < order.length && labels[order[i]!] === labels[order[i + 1]!]) i += 2;
    else {
      unpaired++;
      i++;
    }
  }
  assert.ok(unpaired <= names.length, `${unpaired} unpaired`);
  assert.notDeepEqual(pairedOrder(recipe.seed, 1, labels), order);
  const run = await fineTune({ ...input, recipe: { ...recipe, objective: 'contrastive', epochs: 3 } });
  const losses = run.history.map((h) => h.loss);
  assert.ok(losses[2]! < losses[0]!, `epoch losses ${losses}`);
  assert.equal(run.history[2]!.heldOut !== undefined && run.history[0]!.heldOut === undefined, true, 'scored once its classifier is fitted');
  const accuracy = (run.history[2]!.heldOut as { accuracy: number }).accuracy;
  const majority = Math.max(...names.map((l) => held.filter((e) => e.label === l).length)) / held.length;
  assert.ok(accuracy > majority + 0.1, `held-out accuracy ${accuracy} (majority ${majority})`);
  assert.equal(run.classifier.weights.length, names.length * 384);
  assert.ok(run.stats.probeSeconds > 0);
  // The stack and classifier it returns are what scored the held-out texts: the same run again agrees bit for bit.
  const again = await fineTune({ ...input, recipe: { ...recipe, objective: 'contrastive', epochs: 3 } });
  assert.deepEqual(again.heldOutProbabilities, run.heldOutProbabilities);
  await assert.rejects(
    fineTune({
      ...input,
      texts: input.texts.slice(0, 6),
      labels: { classes: 6, y: Int32Array.from([0, 1, 2, 3, 4, 5]) },
      heldOut: undefined,
      recipe: { ...recipe, objective: 'contrastive' },
    }),
    /some label with two/,
  );
});

test('cancelling stops the run between steps, before any checkpoint', async () => {
  let seen = 0;
  let saved = 0;
  const run = fineTune(input, { progress: () => seen++, cancelled: () => seen >= 3, checkpoint: () => void saved++ });
  await assert.rejects(run, (err: unknown) => err instanceof DomainError && err.code === 'cancelled');
  assert.deepEqual([seen, saved], [3, 0]);
});

test('the stored tuned stack, run as serving runs it, gives the probabilities the run reported', async () => {
  const stack = decodeTunedStack(encodeTunedStack(first.stack));
  assert.deepEqual(stack.model, { name: manifest.name, sourceSha256: manifest.sourceSha256 });
  const ort = syncOrt()!;
  // The shared encoder's hidden state 5 (fp16, as the job saw it), then the tuned layer with fused attention.
  const tokenize = await tokenizerOf(dir, recipe.maxTokens);
  const seqs = held.map((e) => tokenize(e.text));
  const states = await computeFrozenStates(
    ort.createSession(frozenGraph(readFileSync(join(dir, 'onnx', 'model.onnx')), 384, { states: stack.first }), 1),
    seqs,
    384,
  );
  const g = new GraphBuilder('served', 17);
  const state = g.input('state', DT.FLOAT, ['batch_size', 'sequence_length', 384]);
  const mask = g.input('attention_mask', DT.INT64, ['batch_size', 'sequence_length']);
  const dims = { hidden_size: 384, num_attention_heads: 12, intermediate_size: 1536, layer_norm_eps: 1e-12 };
  const { states: out } = addEncoderLayers(g, {
    dims,
    first: stack.first,
    last: stack.last,
    input: state,
    attends: sequenceMask(g, mask).attends,
    weights: { from: 'checkpoint', tensor: tunedStackSource(stack), attention: 'fused' },
  });
  g.output('out', out[0]!, DT.FLOAT, ['batch_size', 'sequence_length', 384]);
  const session = ort.createSession(g.encode('test'), 1);
  const predictor = new LogisticPredictor(first.classifier);
  let worst = 0;
  const buffer = new Uint16Array(recipe.maxTokens * 384);
  for (let i = 0; i < seqs.length; i++) {
    const len = states.lengths[i]!;
    states.read(i, buffer, 0);
    const x = decodeFloat16(new Uint8Array(buffer.buffer, 0, len * 384 * 2));
    const h = session.run(
      { state: new Tensor('float32', x, [1, len, 384]), attention_mask: new Tensor('int64', new BigInt64Array(len).fill(1n), [1, len]) } as never,
      { out: null },
      {},
    ).out!.data as Float32Array;
    const pooled = new Float32Array(384);
    for (let t = 0; t < len; t++) for (let d = 0; d < 384; d++) pooled[d]! += h[t * 384 + d]! / len;
    const p = predictor.predictProba(pooled, 1);
    for (let c = 0; c < names.length; c++) worst = Math.max(worst, Math.abs(p[c]! - first.heldOutProbabilities![i * names.length + c]!));
  }
  states.close();
  assert.ok(worst < 1e-4, `served and trained probabilities differ by ${worst}`);
});

test('multi-label tasks train sigmoid outputs on the averaged binary cross-entropy', async () => {
  // Two overlapping labels a question: its own class, and "asks for a fact" (NUM, LOC, HUM).
  const classes = names.length + 1;
  const targets = (rows: typeof all) => {
    const t = new Uint8Array(rows.length * classes);
    rows.forEach((e, i) => {
      t[i * classes + names.indexOf(e.label)] = 1;
      if (['NUM', 'LOC', 'HUM'].includes(e.label)) t[i * classes + names.length] = 1;
    });
    return t;
  };
  const result = await fineTune({
    ...input,
    labels: { classes, targets: targets(train) },
    heldOut: { texts: input.heldOut!.texts, labels: { classes, targets: targets(held) } },
  });
  assert.equal(result.classifier.output, 'sigmoid');
  const [one, two] = result.history;
  assert.ok(two!.loss < one!.loss, `epoch losses ${one!.loss} then ${two!.loss}`);
  assert.ok('macroF1' in two!.heldOut!);
  const p = result.heldOutProbabilities!;
  assert.equal(p.length, held.length * classes);
  assert.ok(p.every((v) => v > 0 && v < 1));
  // Sigmoid outputs, not a softmax: a row's probabilities need not sum to 1.
  assert.ok(Math.abs(p.slice(0, classes).reduce((a, b) => a + b, 0) - 1) > 1e-3);
});

test('the frozen states spill to a file above the memory bound, and read back the same', async () => {
  const ort = syncOrt()!;
  const session = ort.createSession(frozenGraph(readFileSync(join(dir, 'onnx', 'model.onnx')), 384, { states: 3 }), 1);
  const seqs = [
    [101, 2054, 2003, 102],
    [101, 7592, 2088, 2003, 1037, 3231, 102],
  ];
  const memory = await computeFrozenStates(session, seqs, 384);
  const spilled = await computeFrozenStates(session, seqs, 384, { memoryBytes: 1000, spillDir: tmpdir() });
  assert.deepEqual([memory.spilled, spilled.spilled, spilled.bytes], [false, true, 11 * 384 * 2]);
  const a = new Uint16Array(7 * 384);
  const b = new Uint16Array(7 * 384);
  for (const i of [0, 1]) {
    memory.read(i, a, 0);
    spilled.read(i, b, 0);
    assert.deepEqual(a, b);
  }
  memory.close();
  spilled.close();
});

test("one frozen pass keeps the cut layer's states and pools the last layer: what two passes give", async () => {
  const ort = syncOrt()!;
  const bytes = readFileSync(join(dir, 'onnx', 'model.onnx'));
  const L = manifest.layers;
  const tokenize = await tokenizerOf(dir, recipe.maxTokens);
  const seqs = train.slice(0, 12).map((e) => tokenize(e.text));
  const run = async (outputs: { states?: number; pooled?: number }, pooledOnly = false) => {
    const session = ort.createSession(frozenGraph(bytes, 384, outputs), 1);
    try {
      return pooledOnly ? { pooled: await meanPooled(session, seqs, 384) } : await computeFrozenStates(session, seqs, 384);
    } finally {
      session.dispose();
    }
  };
  const both = (await run({ states: 3, pooled: L })) as Awaited<ReturnType<typeof computeFrozenStates>>;
  const cut = (await run({ states: 3 })) as Awaited<ReturnType<typeof computeFrozenStates>>;
  const pooled = (await run({ pooled: L }, true)).pooled!;
  const top = (await run({ states: L })) as Awaited<ReturnType<typeof computeFrozenStates>>;
  assert.equal(cut.pooled, undefined);
  const a = new Uint16Array(128 * 384);
  const b = new Uint16Array(128 * 384);
  let worst = 0;
  for (let i = 0; i < seqs.length; i++) {
    const n = seqs[i]!.length;
    both.read(i, a, 0);
    cut.read(i, b, 0);
    assert.deepEqual(a.subarray(0, n * 384), b.subarray(0, n * 384));
    // The pooled rows: the same in both graphs, and the mean of the last layer's (fp16) token states.
    top.read(i, a, 0);
    const values = decodeFloat16(new Uint8Array(a.buffer, 0, n * 384 * 2));
    for (let h = 0; h < 384; h++) {
      let mean = 0;
      for (let t = 0; t < n; t++) mean += values[t * 384 + h]! / n;
      worst = Math.max(worst, Math.abs(both.pooled![i * 384 + h]! - mean), Math.abs(pooled[i * 384 + h]! - both.pooled![i * 384 + h]!));
    }
  }
  assert.ok(worst < 5e-3, `pooled rows differ by ${worst}`);
  for (const s of [both, cut, top]) s.close();
});

test('the recipe: defaults, "all", and a refusal naming the field for what cannot work', () => {
  const r = resolveRecipe({}, manifest);
  assert.equal(r.layers, manifest.layers);
  assert.deepEqual([r.weightDecay, r.warmup, r.clipNorm], [0.01, 0.1, 1]);
  const refused = (given: Parameters<typeof resolveRecipe>[0], param: string) =>
    assert.throws(
      () => resolveRecipe(given, manifest),
      (e: unknown) => e instanceof DomainError && e.code === 'invalid_params' && e.param === param,
    );
  refused({ layers: 7 }, 'layers');
  refused({ layers: 0 }, 'layers');
  refused({ learningRate: 0 }, 'learning_rate');
  refused({ maxTokens: 257 }, 'max_tokens');
  refused({ batchSize: 0 }, 'batch_size');
  refused({ batchSize: 128, maxTokens: 128 }, 'batch_size');
  refused({ dropout: 1 }, 'dropout');
  const old = { ...manifest, trainable: undefined, importerVersion: 3 } as ModelManifest;
  assert.match(untrainableReason(old)!, /re-import/);
  assert.match(untrainableReason({ ...manifest, weights: 'int8', trainable: undefined })!, /int8/);
  assert.equal(untrainableReason(manifest), undefined);
});
