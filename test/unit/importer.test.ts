import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { bundledCheckpointDir } from '../../src/encoder/import/bundled.js';
import { importCheckpoint } from '../../src/encoder/import/importer.js';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

test('the importer writes a transformers.js folder whose ONNX graph is byte-identical across runs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'import-'));
  const a = importCheckpoint(bundledCheckpointDir(), join(root, 'a'), 'm', { maxTokens: 256 });
  importCheckpoint(bundledCheckpointDir(), join(root, 'b'), 'm', { maxTokens: 256 });
  assert.equal(a.skipped, false);
  assert.equal(sha(join(root, 'a', 'onnx', 'model.onnx')), sha(join(root, 'b', 'onnx', 'model.onnx')));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'transferd.json']) {
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

test('the importer refuses a checkpoint that is not a BERT encoder', () => {
  const root = mkdtempSync(join(tmpdir(), 'import-'));
  assert.throws(() => importCheckpoint(root, join(root, 'out'), 'x'), /no \.safetensors file/);
});
