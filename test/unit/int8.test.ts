import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { Encoder } from '../../src/encoder/encoder.js';
import { resolveSpec } from '../../src/encoder/feature-spec.js';
import { encoderFeeds } from '../../src/encoder/feeds.js';
import { bundledCheckpointDir } from '../../src/encoder/import/bundled.js';
import { importCheckpoint } from '../../src/encoder/import/importer.js';
import { quantizePerColumn } from '../../src/encoder/import/quantize.js';
import { encoderGraph } from '../../src/export/encoder-graph.js';
import { DT } from '../../src/onnx/graph.js';

const TEXTS = [
  'I still have not received my new card',
  'How do I top up by bank transfer?',
  'What is the capital of Australia?',
  'a gorgeous, witty, seductive movie.',
  'the plot is nothing but boilerplate clichés from start to finish',
  'Why was I charged an extra fee when I withdrew cash abroad at the weekend?',
];

test('per-column quantization: each column gets its own scale and the whole int8 range', () => {
  // [rows 2, cols 2]: column 0 is a thousand times larger than column 1.
  const q = quantizePerColumn(Float32Array.from([1000, 0.25, -400, -1]), 2, 2);
  assert.deepEqual([...q.values], [127, 32, -51, -127]);
  assert.ok(Math.abs(q.scales[0]! - 1000 / 127) < 1e-3 && Math.abs(q.scales[1]! - 1 / 127) < 1e-6);
});

test('the int8 import exposes every hidden state and keeps mean-pooled features within 0.99 cosine of fp32', async () => {
  const root = mkdtempSync(join(tmpdir(), 'import-int8-'));
  const fp32 = importCheckpoint(bundledCheckpointDir(), join(root, 'fp32'), 'fp32', { maxTokens: 256 });
  const int8 = importCheckpoint(bundledCheckpointDir(), join(root, 'int8'), 'int8', { maxTokens: 256, int8: true });
  assert.equal(int8.manifest.weights, 'int8');
  assert.deepEqual(int8.manifest.hiddenStateOutputs, fp32.manifest.hiddenStateOutputs);

  // Every linear layer runs quantized (Q, K, V, attention output, two feed-forward: 6 a layer); no float MatMul reads a weight.
  const graph = onnxProto.onnx.ModelProto.decode(readFileSync(join(root, 'int8', 'onnx', 'model.onnx'))).graph!;
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const nodes = graph.node ?? [];
  assert.equal(nodes.filter((n) => n.opType === 'DynamicQuantizeMatMul').length, 6 * 6);
  assert.ok(!nodes.some((n) => n.opType === 'MatMul' && (n.input ?? []).some((i) => weights.has(i))));
  assert.deepEqual(
    (graph.output ?? []).map((o) => o.name),
    [...int8.manifest.hiddenStateOutputs, 'last_hidden_state'],
  );

  const start = (r: typeof fp32, dir: string) =>
    Encoder.start({ modelDir: join(root, dir), manifest: r.manifest, threads: 2, spin: false, maxBatchTokens: 8192, maxBatchSize: 64, maxQueuedTexts: 1000 });
  const encoders = [await start(fp32, 'fp32'), await start(int8, 'int8')];
  try {
    const specs = (name: string) => [0, 3, 6].map((layers) => resolveSpec({ model: name, layers }, 6));
    const [a, b] = [await encoders[0]!.encode(TEXTS, specs('fp32')), await encoders[1]!.encode(TEXTS, specs('int8'))];
    for (const [i, layer] of [0, 3, 6].entries()) {
      const fa = a.features[i]!;
      const fb = b.features[i]!;
      let mean = 0;
      for (let t = 0; t < TEXTS.length; t++) {
        // Normalised features: the dot product is the cosine.
        let dot = 0;
        for (let d = 0; d < 384; d++) dot += fa[t * 384 + d]! * fb[t * 384 + d]!;
        mean += dot / TEXTS.length;
      }
      // Layer 0 is the embeddings' output, untouched by quantization.
      assert.ok(layer === 0 ? mean > 0.99999 : mean >= 0.99, `layer ${layer}: mean cosine int8 vs fp32 ${mean.toFixed(5)}`);
    }
  } finally {
    await Promise.all(encoders.map((e) => e.close()));
  }
});

test("an export's portable graph runs the int8 encoder in standard operators and computes what onnxruntime's kernels do", async () => {
  const root = mkdtempSync(join(tmpdir(), 'import-int8-'));
  const { manifest } = importCheckpoint(bundledCheckpointDir(), join(root, 'int8'), 'int8', { maxTokens: 256, int8: true });
  const bytes = readFileSync(join(root, 'int8', 'onnx', 'model.onnx'));
  const g = encoderGraph(bytes, manifest, 'portable');
  for (const layer of [3, 6]) g.output(`hidden_states.${layer}`, `hidden_states.${layer}`, DT.FLOAT, ['batch_size', 'sequence_length', 384]);
  g.prune();
  const portable = g.encode('test');
  const graph = onnxProto.onnx.ModelProto.decode(portable).graph!;
  assert.ok(!(graph.node ?? []).some((n) => n.domain === 'com.microsoft'), 'no onnxruntime contrib operator');

  // Two texts of different lengths, the shorter padded.
  const seqs = [8, 5].map((len, b) => Array.from({ length: len }, (_, t) => (t === 0 ? 101 : t === len - 1 ? 102 : 2000 + 37 * b + t)));
  const { input_ids, attention_mask, token_type_ids } = encoderFeeds(seqs).feeds;
  const feeds = { input_ids, attention_mask };
  const mask = attention_mask.data as BigInt64Array;
  const run = async (model: Uint8Array, extra: Record<string, ort.Tensor>) => {
    const session = await ort.InferenceSession.create(model);
    try {
      return await session.run({ ...feeds, ...extra }, ['hidden_states.3', 'hidden_states.6']);
    } finally {
      await session.release();
    }
  };
  const kernels = await run(bytes, { token_type_ids });
  const plain = await run(portable, {});
  for (const name of ['hidden_states.3', 'hidden_states.6']) {
    const a = kernels[name]!.data as Float32Array;
    const b = plain[name]!.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < a.length; i++) if (mask[Math.floor(i / 384)] === 1n) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    assert.ok(worst < 1e-3, `${name}: kernels and standard operators differ by ${worst}`);
  }
});
