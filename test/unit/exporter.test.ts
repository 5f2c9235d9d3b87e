/**
 * The exporter builds at most its bound of exports at once and refuses the
 * next one at once (overloaded, which the API answers 429) rather than
 * queueing it; a finished export frees its place, whether it succeeded or failed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSpec } from '../../src/encoder/feature-spec.js';
import { readManifest } from '../../src/encoder/manifest.js';
import { isDomainError } from '../../src/errors.js';
import { Exporter } from '../../src/export/exporter.js';
import type { ExportArgs } from '../../src/export/export-protocol.js';

const modelDir = 'models/all-MiniLM-L6-v2';
const manifest = readManifest(modelDir)!;
/** A version whose head type has no export: the worker starts, refuses it, and exits. */
const args: ExportArgs = {
  modelDir,
  manifest,
  spec: resolveSpec({ model: manifest.name }, manifest.layers),
  labels: ['a', 'b'],
  headType: 'no_such_head',
  artifactGzip: new Uint8Array(),
  task: 'task_x',
  version: 1,
};

const send = async () => assert.fail('nothing to send');

test('past its bound an export is refused at once; a finished one frees its place', async () => {
  const exporter = new Exporter(1);
  const first = exporter.build(args, send);
  await assert.rejects(exporter.build(args, send), (err) => isDomainError(err, 'overloaded'));
  assert.equal(exporter.active, 1);
  await assert.rejects(first, (err) => isDomainError(err, 'export_unsupported'));
  assert.equal(exporter.active, 0);
  await assert.rejects(exporter.build(args, send), (err) => isDomainError(err, 'export_unsupported'));
});
