/**
 * The fine-tuning step graph on the real model: its gradients, as the
 * differentiator assembles them with the layer stack, dropout masks, the
 * pooling product, the classifier and the loss, agree with central finite
 * differences of its own loss, on real frozen states of a packed batch (two
 * rows, several texts a row), in directions across every parameter and
 * within single weights; for the softmax cross-entropy and the multi-label
 * sigmoid loss. (The autodiff tests cover each operator's rule; this checks
 * the assembly.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tensor } from 'onnxruntime-node';
import { DEFAULT_MODEL } from '../../src/config.js';
import { transpose } from '../../src/encoder/import/layer-stack.js';
import { readSafetensors } from '../../src/encoder/import/safetensors.js';
import { LAYERS_FILE, readManifest } from '../../src/encoder/manifest.js';
import { Rng } from '../../src/heads/rng.js';
import { syncOrt } from '../../src/onnx/session.js';
import { batchFeeds } from '../../src/training/fine-tune/batch.js';
import { DropoutMasks } from '../../src/training/fine-tune/dropout.js';
import { computeFrozenStates, frozenGraph } from '../../src/training/fine-tune/frozen-states.js';
import { type ClassifierOutput, gradName, stepGraph } from '../../src/training/fine-tune/graphs.js';

const ort = syncOrt()!;
const dir = join('models', DEFAULT_MODEL);
const manifest = readManifest(dir)!;
const dims = { hidden_size: 384, num_attention_heads: 12, intermediate_size: 1536, layer_norm_eps: 1e-12 };
const layers = readSafetensors(join(dir, LAYERS_FILE));
const SEQS = [
  [101, 2054, 2003, 1996, 3007, 1997, 2605, 1029, 102],
  [101, 2129, 2116, 102],
  [101, 2040, 2626, 10346, 1029, 102],
  [101, 7592, 102],
  [101, 2054, 2406, 2003, 1996, 2087, 12256, 1029, 102],
];
const FIRST = 4;
const frozen = await computeFrozenStates(ort.createSession(frozenGraph(readFileSync(join(dir, 'onnx', 'model.onnx')), 384, { states: FIRST }), 1), SEQS, 384);

function check(output: ClassifierOutput, classes: number) {
  const step = stepGraph({ dims, first: FIRST, last: manifest.layers - 1, classes, output }, true);
  const session = ort.createSession(step.bytes, 1);
  // Rows of up to 16 tokens: two rows, several texts in each.
  const batch = batchFeeds(frozen, [0, 1, 2, 3, 4], 16);
  assert.ok(batch.rows === 2 && batch.width <= 16, `packed in ${batch.rows} rows of ${batch.width}`);
  const rng = new Rng(5);
  const masks = new DropoutMasks(0.1, rng);
  const feeds: Record<string, Tensor> = { ...batch.feeds };
  for (const m of step.masks) {
    const shape = m.site === 'pooled' ? [5, 384] : m.site === 'attention' ? [batch.rows, 12, batch.width, batch.width] : [batch.rows, batch.width, 384];
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    masks.fill(values);
    feeds[m.input] = new Tensor('float32', values, shape);
  }
  if (output === 'softmax') feeds.labels = new Tensor('int64', BigInt64Array.from([2n, 0n, 1n, 2n, 0n]), [5]);
  else feeds.targets = new Tensor('float32', Float32Array.from([1, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0]), [5, classes]);
  const values = new Map<string, Float32Array>();
  for (const p of step.parameters) {
    let data: Float32Array;
    if (p.tensor) {
      const t = layers.get(p.tensor)!;
      data = p.transposed ? transpose(t.data, t.shape[0]!, t.shape[1]!) : Float32Array.from(t.data);
    } else {
      data = new Float32Array(p.dims.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = ((rng.nextU32() / 2 ** 32) * 2 - 1) * 0.3;
    }
    values.set(p.input, data);
  }
  const run = (at: Map<string, Float32Array>, gradients: boolean) => {
    const f: Record<string, Tensor> = { ...feeds };
    for (const p of step.parameters) f[p.input] = new Tensor('float32', at.get(p.input)!, p.dims);
    const fetches: Record<string, null> = { loss: null };
    if (gradients) for (const p of step.parameters) fetches[gradName(p.input)] = null;
    return session.run(f as never, fetches as never, {});
  };
  const out = run(values, true);
  const grads = new Map(step.parameters.map((p) => [p.input, out[gradName(p.input)]!.data as Float32Array]));
  const lossAt = (direction: Map<string, Float64Array>, h: number) => {
    const moved = new Map(values);
    for (const [name, v] of direction)
      moved.set(
        name,
        values.get(name)!.map((x, i) => x + h * v[i]!),
      );
    return (run(moved, false).loss!.data as Float32Array)[0]!;
  };
  const directional = (what: string, names: string[], aligned: boolean, h: number) => {
    const direction = new Map<string, Float64Array>();
    let norm = 0;
    for (const name of names) {
      const g = grads.get(name)!;
      // Aligned: along the gradient with each element's share jittered, so a wrong element shows; else uniform noise.
      const v = Float64Array.from(g, (gi) => (aligned ? gi * (0.5 + rng.nextU32() / 2 ** 32) : rng.nextU32() / 2 ** 32 - 0.5));
      for (const x of v) norm += x * x;
      direction.set(name, v);
    }
    norm = Math.sqrt(norm);
    let analytic = 0;
    for (const [name, v] of direction) {
      const g = grads.get(name)!;
      for (let i = 0; i < v.length; i++) {
        v[i]! /= norm;
        analytic += g[i]! * v[i]!;
      }
    }
    const numeric = (lossAt(direction, h) - lossAt(direction, -h)) / (2 * h);
    const error = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), 1e-6);
    if (process.env.FT_VERBOSE) console.error(what, analytic, numeric, error);
    assert.ok(error < 2e-2, `${output}, ${what}: analytic ${analytic}, numeric ${numeric} (relative error ${error.toExponential(2)})`);
    return analytic;
  };
  const all = step.parameters.map((p) => p.input);
  assert.equal(all.length, 2 * 16 + 2);
  assert.ok(directional('every parameter, along the gradient', all, true, 1e-2) > 0);
  directional('the top layer’s key weights, at random', ['encoder.layer.5.attention.self.key.weight.T'], false, 1e-1);
  directional(
    'the first tuned layer’s feed-forward input and LayerNorm, along the gradient',
    ['encoder.layer.4.intermediate.dense.weight.T', 'encoder.layer.4.attention.output.LayerNorm.weight'],
    true,
    1e-2,
  );
  directional('the classifier, at random', ['classifier.weight', 'classifier.bias'], false, 1e-1);
  session.dispose();
}

test('the step graph’s gradients agree with finite differences: softmax cross-entropy', () => check('softmax', 3));
test('the step graph’s gradients agree with finite differences: multi-label sigmoid loss', () => check('sigmoid', 3));
