import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { bundledCheckpointDir } from '../../src/encoder/import/bundled.js';
import { buildBertGraph, checkBertConfig } from '../../src/encoder/import/bert-graph.js';
import { importCheckpoint } from '../../src/encoder/import/importer.js';
import { readRawSafetensors, readSafetensors } from '../../src/encoder/import/safetensors.js';
import { encoderFeeds } from '../../src/encoder/feeds.js';
import { LAYERS_FILE, MANIFEST_FILE, type ModelManifest } from '../../src/encoder/manifest.js';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Made-up token ids, [CLS] … [SEP], one sequence per length. */
const madeUpIds = (lengths: number[]) =>
  lengths.map((len, s) => Array.from({ length: len }, (_, t) => (t === 0 ? 101 : t === len - 1 ? 102 : 2000 + s * 100 + t)));

test('the importer writes a transformers.js folder whose ONNX graph is byte-identical across runs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'import-'));
  const a = importCheckpoint(bundledCheckpointDir(), join(root, 'a'), 'm', { maxTokens: 256 });
  importCheckpoint(bundledCheckpointDir(), join(root, 'b'), 'm', { maxTokens: 256 });
  assert.equal(a.skipped, false);
  assert.equal(sha(join(root, 'a', 'onnx', 'model.onnx')), sha(join(root, 'b', 'onnx', 'model.onnx')));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'transferd.json', LAYERS_FILE]) {
    assert.equal(sha(join(root, 'a', f)), sha(join(root, 'b', f)), f);
  }
  assert.deepEqual({ layers: a.manifest.layers, hidden: a.manifest.hiddenSize, max: a.manifest.maxTokens }, { layers: 6, hidden: 384, max: 256 });

  // The service controls padding and truncation, so the copied tokenizer must not.
  const tok = JSON.parse(readFileSync(join(root, 'a', 'tokenizer.json'), 'utf8'));
  assert.equal(tok.padding, null);
  assert.equal(tok.truncation, null);

  const again = importCheckpoint(bundledCheckpointDir(), join(root, 'a'), 'm', { maxTokens: 256 });
  assert.equal(again.skipped, true, 'an identical import is skipped');

  const session = await ort.InferenceSession.create(join(root, 'a', 'onnx', 'model.onnx'));
  assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
  assert.deepEqual([...session.outputNames].sort(), [...Array.from({ length: 7 }, (_, i) => `hidden_states.${i}`), 'last_hidden_state'].sort());
  await session.release();
});

test('fused and standard attention graphs compute the same hidden states, padding included', async () => {
  const root = mkdtempSync(join(tmpdir(), 'import-'));
  importCheckpoint(bundledCheckpointDir(), join(root, 'fused'), 'm');
  const std = importCheckpoint(bundledCheckpointDir(), join(root, 'std'), 'm', { standardAttention: true });
  assert.equal(std.manifest.attention, 'standard');
  const { feeds } = encoderFeeds(madeUpIds([9, 4, 2]));
  const mask = feeds.attention_mask.data as BigInt64Array;
  const outputs = [];
  for (const dir of ['fused', 'std']) {
    const session = await ort.InferenceSession.create(join(root, dir, 'onnx', 'model.onnx'));
    outputs.push(await session.run(feeds));
    await session.release();
  }
  for (let layer = 0; layer <= 6; layer++) {
    const a = outputs[0]![`hidden_states.${layer}`]!.data as Float32Array;
    const b = outputs[1]![`hidden_states.${layer}`]!.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < a.length; i++) if (mask[Math.floor(i / 384)] === 1n) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    assert.ok(worst < 1e-4, `layer ${layer}: fused and standard differ by ${worst}`);
  }
});

test('the importer refuses a checkpoint that is not a BERT encoder', () => {
  const root = mkdtempSync(join(tmpdir(), 'import-'));
  assert.throws(() => importCheckpoint(root, join(root, 'out'), 'x'), /no \.safetensors file/);
});

test('sequences packed into shared rows compute what each computes alone, in every attention kind', async () => {
  const dir = bundledCheckpointDir();
  const config = checkBertConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  const tensors = readSafetensors(join(dir, 'model.fp16.safetensors'));
  const lengths = [9, 4, 2, 7, 3, 5];
  const sequences = madeUpIds(lengths);
  const packed = encoderFeeds(sequences, 12);
  assert.ok(packed.layout.rows < lengths.length, 'the layout shares rows');
  for (const attention of ['fused', 'standard', 'multi-head'] as const) {
    const session = await ort.InferenceSession.create(buildBertGraph(config, tensors, { attention }));
    const together = await session.run(packed.feeds);
    for (const [s, ids] of sequences.entries()) {
      const alone = await session.run(encoderFeeds([ids]).feeds);
      const first = packed.firsts[s]!;
      for (let layer = 0; layer <= 6; layer++) {
        const a = alone[`hidden_states.${layer}`]!.data as Float32Array;
        const b = (together[`hidden_states.${layer}`]!.data as Float32Array).subarray(first * 384, (first + ids.length) * 384);
        const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
        assert.ok(worst < 1e-4, `${attention}, sequence ${s}, layer ${layer}: packed and alone differ by ${worst}`);
      }
    }
    await session.release();
  }
});

test('a trainable import copies the encoder layers as the checkpoint holds them; an int8 import is not trainable', () => {
  const root = mkdtempSync(join(tmpdir(), 'import-'));
  const fp32 = importCheckpoint(bundledCheckpointDir(), join(root, 'fp32'), 'm', { maxTokens: 256 });
  assert.equal(fp32.manifest.trainable, true);
  assert.equal(fp32.manifest.importerVersion, 4);
  const checkpoint = readRawSafetensors(join(bundledCheckpointDir(), 'model.fp16.safetensors'));
  const layers = readRawSafetensors(join(root, 'fp32', LAYERS_FILE));
  const expected = [...checkpoint.keys()].filter((n) => n.startsWith('encoder.layer.'));
  assert.equal(expected.length, 6 * 16);
  assert.deepEqual([...layers.keys()].sort(), expected.sort(), 'the layers, and not the embeddings');
  for (const [name, t] of layers) {
    const source = checkpoint.get(name)!;
    assert.equal(t.dtype, 'F16', name);
    assert.deepEqual(t.shape, source.shape, name);
    assert.ok(Buffer.from(t.bytes).equals(Buffer.from(source.bytes)), `${name}: the checkpoint's bytes`);
  }

  const int8 = importCheckpoint(bundledCheckpointDir(), join(root, 'int8'), 'm', { maxTokens: 256, int8: true });
  assert.equal(int8.manifest.trainable, undefined);
  assert.equal(existsSync(join(root, 'int8', LAYERS_FILE)), false);
  assert.equal(importCheckpoint(bundledCheckpointDir(), join(root, 'int8'), 'm', { maxTokens: 256, int8: true }).skipped, true);
});

test('an import by importer version 3, or one missing its layers, is redone', () => {
  const root = mkdtempSync(join(tmpdir(), 'import-'));
  const dir = join(root, 'm');
  importCheckpoint(bundledCheckpointDir(), dir, 'm', { maxTokens: 256 });
  const manifestPath = join(dir, MANIFEST_FILE);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
  writeFileSync(manifestPath, JSON.stringify({ ...manifest, importerVersion: 3, trainable: undefined }));
  rmSync(join(dir, LAYERS_FILE));
  const again = importCheckpoint(bundledCheckpointDir(), dir, 'm', { maxTokens: 256 });
  assert.equal(again.skipped, false, 'version 3 is re-imported');
  assert.ok(existsSync(join(dir, LAYERS_FILE)));
  rmSync(join(dir, LAYERS_FILE));
  assert.equal(importCheckpoint(bundledCheckpointDir(), dir, 'm', { maxTokens: 256 }).skipped, false, 'a folder without its layers is re-imported');
  assert.equal(importCheckpoint(bundledCheckpointDir(), dir, 'm', { maxTokens: 256 }).skipped, true);
});
