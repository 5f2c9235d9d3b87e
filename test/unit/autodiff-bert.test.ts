/**
 * Gradients through the importer's own BERT graph (buildBertGraph, standard
 * attention: MatMul, Softmax, the additive mask bias, LayerNormalization,
 * exact GELU through Erf) with random weights, against central finite
 * differences of the same graph in fp32 (onnxruntime's Erf has no fp64
 * kernel): random directions per weight, relative tolerance 3e-3 (see
 * test/helpers/gradcheck.ts). One encoder layer by its weights and its input
 * states, padded keys getting no gradient; and a whole small model (two
 * layers, embeddings, mean pooling over the mask, a linear classifier,
 * cross-entropy) by every weight it has.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import { checkGradients, type InputSpec } from '../helpers/gradcheck.js';
import { buildBertGraph, type BertConfig } from '../../src/encoder/import/bert-graph.js';
import type { Tensor } from '../../src/encoder/import/safetensors.js';
import { rng } from '../../src/heads/evaluation.js';
import { cutAt, liftInitializers, softmaxCrossEntropy, type Weight } from '../../src/onnx/autodiff/index.js';
import { DT, GraphBuilder } from '../../src/onnx/graph.js';

const { onnx } = onnxProto;

function config(layers: number, hidden: number, heads: number): BertConfig {
  return {
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    intermediate_size: 2 * hidden,
    layer_norm_eps: 1e-12,
    max_position_embeddings: 16,
    type_vocab_size: 2,
    vocab_size: 40,
  };
}

/** Random checkpoint tensors: linear weights scaled to keep activations near unit size, LayerNorm scales near 1. */
function randomCheckpoint(c: BertConfig, seed: number): Map<string, Tensor> {
  const rand = rng(seed);
  const tensors = new Map<string, Tensor>();
  const put = (name: string, shape: number[], scale: number, centre = 0) =>
    tensors.set(name, { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => centre + (rand() * 2 - 1) * scale) });
  const H = c.hidden_size;
  const I = c.intermediate_size;
  const linear = (name: string, out: number, inDim: number) => {
    put(`${name}.weight`, [out, inDim], Math.sqrt(3 / inDim));
    put(`${name}.bias`, [out], 0.1);
  };
  const norm = (name: string) => {
    put(`${name}.weight`, [H], 0.2, 1);
    put(`${name}.bias`, [H], 0.1);
  };
  put('embeddings.word_embeddings.weight', [c.vocab_size, H], 1);
  put('embeddings.position_embeddings.weight', [c.max_position_embeddings, H], 0.5);
  put('embeddings.token_type_embeddings.weight', [c.type_vocab_size, H], 0.5);
  norm('embeddings.LayerNorm');
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const part of ['query', 'key', 'value']) linear(`${p}.attention.self.${part}`, H, H);
    linear(`${p}.attention.output.dense`, H, H);
    norm(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, I, H);
    linear(`${p}.output.dense`, H, I);
    norm(`${p}.output.LayerNorm`);
  }
  return tensors;
}

/** The standard-attention graph of `c` with random weights, its weights lifted to inputs; `cut`: starting from hidden state 0. */
function trainingModel(c: BertConfig, cut: boolean): { builder: () => GraphBuilder; weights: Map<string, Weight> } {
  const bytes = buildBertGraph(c, randomCheckpoint(c, 3), { attention: 'standard' });
  const prepare = () => {
    const model = onnx.ModelProto.decode(bytes);
    const weights = liftInitializers(model, (name) => (cut ? name.startsWith('encoder.') : !name.startsWith('const_')));
    if (cut) cutAt(model, 'hidden_states.0', ['batch_size', 'sequence_length', c.hidden_size]);
    return { model, weights };
  };
  return {
    builder: () => {
      const g = GraphBuilder.extend(prepare().model, 'train/');
      g.clearOutputs();
      return g;
    },
    weights: prepare().weights,
  };
}

/** Two rows of five tokens, the second padded after three. */
const MASK = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
const [B, T] = [2, 5];

const weightInputs = (weights: Map<string, Weight>): Record<string, InputSpec> =>
  Object.fromEntries([...weights].map(([name, w]) => [name, { dims: w.dims, data: w.data }]));

test('one encoder layer: gradients by its 16 weights and by its input states; padded tokens get none', () => {
  const c = config(1, 16, 4);
  const { builder, weights } = trainingModel(c, true);
  assert.equal(weights.size, 16);
  const report = checkGradients({
    precision: 'float32',
    builder,
    inputs: {
      ...weightInputs(weights),
      'hidden_states.0': { dims: [B, T, c.hidden_size], low: -1.5, high: 1.5 },
      attention_mask: { dims: [B, T], kind: 'int64', data: MASK },
    },
    // The loss reads the real tokens' outputs only, so a padded token's state reaches it through nothing.
    build: (g, v) => {
      const mask = g.node('Cast', [g.node('Unsqueeze', [v.attention_mask!, g.ints([2])])], { to: DT.FLOAT });
      return g.node('Mul', [`hidden_states.1`, mask]);
    },
  });
  const states = report.gradients['hidden_states.0']!;
  const H = c.hidden_size;
  for (let t = 0; t < T; t++) {
    const row = states.subarray((T + t) * H, (T + t + 1) * H);
    const size = row.reduce((s, v) => s + Math.abs(v), 0);
    if (MASK[T + t]) assert.ok(size > 0, `real token ${t} has a gradient`);
    else assert.equal(size, 0, `padded token ${t} gets no gradient`);
  }
  assert.ok(report.checked >= 3 * 17);
});

test('a whole small model (2 layers, hidden 32, 4 heads, mean pooling, a linear classifier, cross-entropy) by every weight', () => {
  const c = config(2, 32, 4);
  const { builder, weights } = trainingModel(c, false);
  const rand = rng(11);
  const classifier = Float32Array.from({ length: 32 * 3 }, () => (rand() * 2 - 1) * 0.5);
  const report = checkGradients({
    precision: 'float32',
    builder,
    inputs: {
      ...weightInputs(weights),
      'classifier.weight': { dims: [32, 3], data: classifier },
      'classifier.bias': { dims: [3], data: [0.1, -0.2, 0.05] },
      input_ids: { dims: [B, T], kind: 'int64', data: [1, 7, 7, 30, 2, 1, 12, 2, 0, 0] },
      token_type_ids: { dims: [B, T], kind: 'int64', data: [0, 0, 0, 1, 1, 0, 0, 0, 0, 0] },
      attention_mask: { dims: [B, T], kind: 'int64', data: MASK },
      labels: { dims: [B], kind: 'int64', data: [2, 0] },
    },
    build: (g, v) => {
      const mask = g.node('Cast', [g.node('Unsqueeze', [v.attention_mask!, g.ints([2])])], { to: DT.FLOAT });
      const summed = g.node('ReduceSum', [g.node('Mul', ['last_hidden_state', mask]), g.ints([1])], { keepdims: 0 });
      const pooled = g.node('Div', [summed, g.node('ReduceSum', [mask, g.ints([1])], { keepdims: 0 })]);
      const logits = g.node('Add', [g.node('MatMul', [pooled, v['classifier.weight']!]), v['classifier.bias']!]);
      return softmaxCrossEntropy(g, logits, v.labels!, 3);
    },
  });
  // Every weight: 16 per layer, 5 of the embeddings, 2 of the classifier.
  assert.equal(Object.keys(report.gradients).length, 2 * 16 + 5 + 2);
  const word = report.gradients['embeddings.word_embeddings.weight']!;
  const rowSize = (r: number) => word.subarray(r * 32, (r + 1) * 32).reduce((s, v) => s + Math.abs(v), 0);
  assert.ok(rowSize(7) > 0 && rowSize(0) === 0 && rowSize(3) === 0, 'only the rows of the ids read (padding id 0 is masked out) get a gradient');
});
