/**
 * The layer-stack builder on the bundled checkpoint: the top layers built
 * from a hidden state, with the weights as graph inputs (training's form)
 * fed from the import's layers.safetensors, compute what the imported
 * whole-model graph computes; dropout masks of ones change nothing, and
 * other masks are multiplied in where they say.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { encoderFeeds } from '../../src/encoder/feeds.js';
import { sequenceMask } from '../../src/encoder/import/attention.js';
import { bundledCheckpointDir } from '../../src/encoder/import/bundled.js';
import { importCheckpoint } from '../../src/encoder/import/importer.js';
import { addEncoderLayers, type LayerWeights, transpose } from '../../src/encoder/import/layer-stack.js';
import { readSafetensors } from '../../src/encoder/import/safetensors.js';
import { LAYERS_FILE } from '../../src/encoder/manifest.js';
import { DT, GraphBuilder } from '../../src/onnx/graph.js';
import { syncOrt } from '../../src/onnx/session.js';

const ort = syncOrt()!;
const dims = { hidden_size: 384, num_attention_heads: 12, intermediate_size: 1536, layer_norm_eps: 1e-12 };
const root = mkdtempSync(join(tmpdir(), 'stack-'));
const model = importCheckpoint(bundledCheckpointDir(), join(root, 'm'), 'm', { maxTokens: 256 });
const layers = readSafetensors(join(root, 'm', LAYERS_FILE));

/** Layers 4 and 5 from hidden state 4: outputs `out`, inputs `state`, `attention_mask` and what the source declares. */
function stackGraph(weights: LayerWeights) {
  const g = new GraphBuilder('stack', 17);
  const state = g.input('state', DT.FLOAT, ['batch_size', 'sequence_length', 384]);
  const mask = g.input('attention_mask', DT.INT64, ['batch_size', 'sequence_length']);
  const values = addEncoderLayers(g, { dims, first: 4, last: 5, input: state, attends: sequenceMask(g, mask).attends, weights });
  g.output('out', values.states[1]!, DT.FLOAT, ['batch_size', 'sequence_length', 384]);
  g.prune();
  return { session: ort.createSession(g.encode('test'), 1), values };
}

const sequences = [
  [101, 2023, 2003, 1037, 3231, 102],
  [101, 7592, 2088, 102],
];
const { feeds } = encoderFeeds(sequences);
const whole = ort.createSession(new Uint8Array(readFileSync(join(root, 'm', 'onnx', 'model.onnx'))), 1);
const states = whole.run(feeds as never, { 'hidden_states.4': null, 'hidden_states.6': null }, {});
const [B, T] = (feeds.attention_mask as OrtTensor).dims as [number, number];
const real = (i: number) => (feeds.attention_mask.data as BigInt64Array)[Math.floor(i / 384)] !== 0n;

function maxRealDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) if (real(i)) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function weightFeeds(values: ReturnType<typeof stackGraph>['values']): Record<string, OrtTensor> {
  return Object.fromEntries(
    values.weights.map((w) => {
      const t = layers.get(w.tensor)!;
      const data = w.transposed ? transpose(t.data, t.shape[0]!, t.shape[1]!) : t.data;
      return [w.input, new ort.Tensor('float32', data, w.dims)];
    }),
  );
}

test('a stack with its weights as inputs computes the imported graph’s top layers', () => {
  assert.equal(model.manifest.attention, 'fused');
  const { session, values } = stackGraph({ from: 'inputs' });
  assert.equal(values.weights.length, 32);
  assert.deepEqual(
    values.weights.slice(0, 2).map((w) => [w.input, w.tensor, w.dims, w.transposed]),
    [
      ['encoder.layer.4.attention.self.query.weight.T', 'encoder.layer.4.attention.self.query.weight', [384, 384], true],
      ['encoder.layer.4.attention.self.query.bias', 'encoder.layer.4.attention.self.query.bias', [384], false],
    ],
  );
  assert.equal(values.dropout.length, 0);
  const out = session.run({ state: states['hidden_states.4']!, attention_mask: feeds.attention_mask, ...weightFeeds(values) } as never, { out: null }, {});
  const diff = maxRealDiff(out.out!.data as Float32Array, states['hidden_states.6']!.data as Float32Array);
  assert.ok(diff < 1e-4, `stack vs imported graph: ${diff}`);
});

test('dropout masks: ones change nothing; a mask is multiplied in at its site', () => {
  const plain = stackGraph({ from: 'inputs' });
  const { session, values } = stackGraph({ from: 'inputs', dropout: true });
  assert.deepEqual(
    values.dropout.map((m) => `${m.input}@${m.layer}`),
    [
      'dropout.4.attention@4',
      'dropout.4.attention_output@4',
      'dropout.4.output@4',
      'dropout.5.attention@5',
      'dropout.5.attention_output@5',
      'dropout.5.output@5',
    ],
  );
  const masks = (fill: (m: (typeof values.dropout)[number]) => number) =>
    Object.fromEntries(
      values.dropout.map((m) => {
        const shape = m.site === 'attention' ? [B, 12, T, T] : [B, T, 384];
        return [m.input, new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill(m)), shape)];
      }),
    );
  const base = { state: states['hidden_states.4']!, attention_mask: feeds.attention_mask, ...weightFeeds(values) };
  const expected = plain.session.run({ ...base, ...weightFeeds(plain.values) } as never, { out: null }, {}).out!.data as Float32Array;
  const ones = session.run({ ...base, ...masks(() => 1) } as never, { out: null }, {}).out!.data as Float32Array;
  assert.deepEqual(ones, expected);
  // Layer 5's feed-forward output dropped everywhere: its output is then LayerNorm(attended) alone, unlike before.
  const dropped = session.run({ ...base, ...masks((m) => (m.layer === 5 && m.site === 'output' ? 0 : 1)) } as never, { out: null }, {}).out!
    .data as Float32Array;
  assert.ok(maxRealDiff(dropped, expected) > 0.1);
  // Attention probabilities doubled everywhere double the context, which differs from the plain output.
  const doubled = session.run({ ...base, ...masks((m) => (m.site === 'attention' ? 2 : 1)) } as never, { out: null }, {}).out!.data as Float32Array;
  assert.ok(maxRealDiff(doubled, expected) > 0.01);
});

test('a checkpoint-sourced stack in standard attention computes what the inputs-sourced one does', () => {
  const fromInputs = stackGraph({ from: 'inputs' });
  const fromCheckpoint = stackGraph({ from: 'checkpoint', attention: 'standard', tensor: (name) => layers.get(name)! });
  assert.equal(fromCheckpoint.values.weights.length, 0);
  const a = fromInputs.session.run(
    { state: states['hidden_states.4']!, attention_mask: feeds.attention_mask, ...weightFeeds(fromInputs.values) } as never,
    { out: null },
    {},
  );
  const b = fromCheckpoint.session.run({ state: states['hidden_states.4']!, attention_mask: feeds.attention_mask } as never, { out: null }, {});
  assert.ok(maxRealDiff(a.out!.data as Float32Array, b.out!.data as Float32Array) < 1e-5);
});
