import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { encoderFeeds } from '../../src/encoder/feeds.js';
import { bundledCheckpointDir } from '../../src/encoder/import/bundled.js';
import type { GraphOptions } from '../../src/encoder/import/bert-graph.js';
import { checkpointGraph } from '../../src/encoder/import/importer.js';
import type { ModelManifest } from '../../src/encoder/manifest.js';
import { encoderGraph } from '../../src/export/encoder-graph.js';
import { DT } from '../../src/onnx/graph.js';

const H = 384;
const LAYERS = 6;
/** What an fp32 import writes, and the same with onnxruntime's EmbedLayerNormalization (measured, not kept). */
const IMPORTED: GraphOptions = { attention: 'fused' };
const FUSED: GraphOptions = { attention: 'fused', embeddings: 'fused' };

/** Op type → count, contrib operators prefixed with their domain. */
function opCounts(bytes: Uint8Array): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of onnxProto.onnx.ModelProto.decode(bytes).graph?.node ?? []) {
    const key = n.domain ? `${n.domain}:${n.opType}` : n.opType!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

interface Batch {
  feeds: Record<string, ort.Tensor>;
  /** [B·T]: 1 where a real token is. */
  mask: BigInt64Array;
}

/** Right-padded made-up token ids, one row per length; `tokenTypes` false leaves token_type_ids out (an export's inputs). */
function batch(lengths: number[], tokenTypes = true): Batch {
  const seqs = lengths.map((len, b) => Array.from({ length: len }, (_, t) => (t === 0 ? 101 : t === len - 1 ? 102 : 1996 + ((b * 7919 + t * 104729) % 27000))));
  const { input_ids, attention_mask, token_type_ids } = encoderFeeds(seqs).feeds;
  const feeds: Record<string, ort.Tensor> = { input_ids, attention_mask };
  if (tokenTypes) feeds.token_type_ids = token_type_ids;
  return { feeds, mask: attention_mask.data as BigInt64Array };
}

async function hiddenStates(model: Uint8Array, feeds: Record<string, ort.Tensor>, names: string[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  try {
    const out = await session.run(feeds, names);
    return names.map((n) => out[n]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

/** Largest |a - b| over real tokens (padded positions' values are not features). */
function worstOverTokens(a: Float32Array, b: Float32Array, mask: BigInt64Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) if (mask[Math.floor(i / H)] === 1n) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

const ALL = Array.from({ length: LAYERS + 1 }, (_, i) => `hidden_states.${i}`);
const BATCHES = [[1], [7], [130], [12, 3, 9], [40, 2, 17, 5, 33]];

test('the embeddings are plain operators in an import, one EmbedLayerNormalization when asked, in fp32 and int8 graphs', () => {
  const imported = opCounts(checkpointGraph(bundledCheckpointDir(), IMPORTED).bytes);
  const fused = opCounts(checkpointGraph(bundledCheckpointDir(), FUSED).bytes);
  assert.equal(imported.get('com.microsoft:EmbedLayerNormalization'), undefined);
  assert.equal(imported.get('LayerNormalization'), 2 * LAYERS + 1);
  assert.equal(fused.get('com.microsoft:EmbedLayerNormalization'), 1);
  assert.equal(fused.get('LayerNormalization'), 2 * LAYERS);
  assert.equal(fused.get('Gather'), undefined, 'no embedding lookup outside the fused node');
  const int8 = opCounts(checkpointGraph(bundledCheckpointDir(), { attention: 'multi-head', int8: true, embeddings: 'fused' }).bytes);
  assert.equal(int8.get('com.microsoft:EmbedLayerNormalization'), 1);
});

test('fused and plain embeddings give the same hidden states, single texts and padded batches alike', async () => {
  const fused = checkpointGraph(bundledCheckpointDir(), FUSED).bytes;
  const unfused = checkpointGraph(bundledCheckpointDir(), IMPORTED).bytes;
  for (const lengths of BATCHES) {
    const { feeds, mask } = batch(lengths);
    const [a, b] = [await hiddenStates(fused, feeds, ALL), await hiddenStates(unfused, feeds, ALL)];
    for (const [layer, name] of ALL.entries()) {
      const worst = worstOverTokens(a[layer]!, b[layer]!, mask);
      assert.ok(worst < 1e-4, `lengths ${lengths}, ${name}: fused and unfused differ by ${worst}`);
    }
  }
});

test("onnxruntime's optimizer fuses the layers' Add + LayerNormalization and erf GELU itself, though every layer output is a graph output", async () => {
  // Why the importer does not write SkipLayerNormalization or BiasGelu by hand: this is what it would get anyway.
  const path = join(mkdtempSync(join(tmpdir(), 'fusions-')), 'optimized.onnx');
  const session = await ort.InferenceSession.create(checkpointGraph(bundledCheckpointDir(), IMPORTED).bytes, {
    graphOptimizationLevel: 'all',
    optimizedModelFilePath: path,
    logSeverityLevel: 3,
  });
  await session.release();
  const optimized = opCounts(readFileSync(path));
  // Two a layer, and the embeddings' last Add + LayerNormalization: its EmbedLayerNormFusion does not match this graph.
  assert.equal(optimized.get('com.microsoft:SkipLayerNormalization'), 2 * LAYERS + 1);
  assert.equal(optimized.get('com.microsoft:BiasGelu'), LAYERS);
  assert.equal(optimized.get('Erf'), undefined);
  assert.equal(optimized.get('LayerNormalization'), undefined);
  assert.equal(optimized.get('com.microsoft:EmbedLayerNormalization'), undefined);
});

test("an export's portable graph rewrites EmbedLayerNormalization and Attention into standard operators and computes what the kernels do", async () => {
  const bytes = checkpointGraph(bundledCheckpointDir(), FUSED).bytes;
  const manifest = { hiddenSize: H, layers: LAYERS, packedRows: true } as ModelManifest;
  const g = encoderGraph(bytes, manifest, 'portable');
  const outputs = ['hidden_states.0', 'hidden_states.3', 'hidden_states.6'];
  for (const name of outputs) g.output(name, name, DT.FLOAT, ['batch_size', 'sequence_length', H]);
  g.prune();
  const portable = g.encode('test');
  assert.ok(!(onnxProto.onnx.ModelProto.decode(portable).graph?.node ?? []).some((n) => n.domain === 'com.microsoft'), 'no onnxruntime contrib operator');
  for (const lengths of [[6], [21, 4, 11]]) {
    const kernels = await hiddenStates(bytes, batch(lengths).feeds, outputs);
    const { feeds, mask } = batch(lengths, false);
    const plain = await hiddenStates(portable, feeds, outputs);
    for (const [i, name] of outputs.entries()) {
      const worst = worstOverTokens(kernels[i]!, plain[i]!, mask);
      assert.ok(worst < 1e-4, `lengths ${lengths}, ${name}: kernels and standard operators differ by ${worst}`);
    }
  }
});
