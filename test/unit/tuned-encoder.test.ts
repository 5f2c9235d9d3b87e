/**
 * Fine-tuned versions' stacks in the encoder worker, on the real model and a
 * real fine-tuned stack (the top 2 layers, 60 TREC questions): a tuned spec's
 * features are what the stack computes on the shared encoder's hidden state,
 * also when its texts share a run with texts that do not need the stack; the
 * stacks a worker holds stay within its byte bound and are loaded again
 * after they were pushed out; a forgotten version's stack goes; a worker
 * that holds no stack for a spec and got none answers `missing`; a stack
 * tuned on another import of the model is refused.
 */
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_MODEL } from '../../src/config.js';
import type { BatchStats, EncoderApi, EncoderEvent, WorkerInit } from '../../src/encoder/encoder-protocol.js';
import { Encoder } from '../../src/encoder/encoder.js';
import { type FeatureSpec, resolveSpec } from '../../src/encoder/feature-spec.js';
import { readManifest } from '../../src/encoder/manifest.js';
import { encodeTunedStack, tunedStackBytes } from '../../src/encoder/tuned-stack.js';
import { DomainError } from '../../src/errors.js';
import { fineTunedSpec } from '../../src/training/fine-tuned-version.js';
import { WorkerChannel } from '../../src/workers/channel.js';
import { directlyTuned, fineTunedTrec } from '../helpers/fine-tuned.js';
import { onFileEnd } from '../helpers/file-end.js';

const modelDir = resolve(join('models', DEFAULT_MODEL));
const manifest = readManifest(modelDir)!;
const tuned = await fineTunedTrec(2);
const { stack } = tuned.result;
const bytes = encodeTunedStack(stack);
const loaded = tunedStackBytes(stack);
const specOf = (version: string): FeatureSpec => ({ ...fineTunedSpec(stack), tuned: { version, first: stack.first } });
const frozen = resolveSpec({ model: manifest.name }, manifest.layers);
const texts = tuned.unseen;

const init = (maxStackBytes?: number): WorkerInit => ({
  modelDir,
  manifest,
  threads: 2,
  spin: false,
  maxBatchTokens: 8192,
  maxBatchSize: 64,
  ...(maxStackBytes !== undefined ? { maxStackBytes } : {}),
});

async function encoder(maxStackBytes?: number): Promise<Encoder> {
  const e = await Encoder.start({ ...init(maxStackBytes), maxQueuedTexts: 10_000 });
  onFileEnd(() => e.close());
  return e;
}

/** A stack source that counts its reads. */
function source() {
  const reads: string[] = [];
  const stack = async (version: string) => {
    reads.push(version);
    return bytes;
  };
  return { reads, stack };
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

const shared = await encoder();

test("a tuned spec's features are the stack's on the shared encoder's hidden state, as computed apart", async () => {
  const direct = await directlyTuned(tuned.result, texts);
  const { stack: from } = source();
  const got = (await shared.encode(texts, [specOf('ver_direct')], { stack: from })).features[0]!;
  assert.ok(maxDiff(got, direct.features) < 1e-4, `features differ by ${maxDiff(got, direct.features)}`);
  assert.deepEqual(shared.stacks, ['ver_direct']);
});

test('texts with and without a tuned spec share one run of the shared graph; the stack runs on its texts only, with the same result', async () => {
  const { stack: from } = source();
  const a = texts.slice(0, 12);
  const b = texts.slice(12, 30);
  const alone = (await shared.encode(a, [specOf('ver_mixed')], { stack: from })).features[0]!;
  const frozenAlone = (await shared.encode(b, [frozen])).features[0]!;
  const batches: BatchStats[] = [];
  const onBatch = (s: BatchStats) => batches.push(s);
  shared.on('batch', onBatch);
  // Bulk work keeps the worker busy, so both calls wait in the interactive lane and are taken together by one run.
  const busy = shared.encode(
    Array.from({ length: 200 }, (_, i) => `${texts[i % texts.length]} (${i})`),
    [frozen],
    { lane: 'bulk' },
  );
  const [withStack, without] = await Promise.all([shared.encode(a, [specOf('ver_mixed')], { stack: from }), shared.encode(b, [frozen])]);
  await busy;
  shared.off('batch', onBatch);
  assert.deepEqual(
    batches.filter((s) => s.stacks > 0).map((s) => [s.size, s.stacks]),
    [[a.length + b.length, 1]],
    "one run for both calls, its stack on the first call's texts",
  );
  assert.ok(maxDiff(withStack.features[0]!, alone) < 1e-5, `gathered and whole-run stack features differ by ${maxDiff(withStack.features[0]!, alone)}`);
  assert.ok(maxDiff(without.features[0]!, frozenAlone) < 1e-5);
});

test('the stacks a worker holds stay within its bound, the least recently used pushed out and read again when next needed', async () => {
  const small = await encoder(Math.floor(1.5 * loaded));
  const { reads, stack: from } = source();
  const run = (version: string) => small.encode(texts.slice(0, 4), [specOf(version)], { stack: from }).then((r) => r.features[0]!);
  const first = await run('ver_a');
  assert.deepEqual([reads, small.stacks], [['ver_a'], ['ver_a']]);
  await run('ver_a');
  assert.deepEqual(reads, ['ver_a'], 'held: not read again');
  await run('ver_b');
  assert.deepEqual([reads, small.stacks], [['ver_a', 'ver_b'], ['ver_b']], 'one stack fits: the older one goes');
  const again = await run('ver_a');
  assert.deepEqual([reads, small.stacks], [['ver_a', 'ver_b', 'ver_a'], ['ver_a']]);
  assert.deepEqual(again, first, 'reloaded, the same features');

  // Two fit in a larger bound, the most recently used last.
  const larger = await encoder(Math.floor(2.5 * loaded));
  const two = source();
  for (const v of ['ver_a', 'ver_b', 'ver_a']) await larger.encode(texts.slice(0, 2), [specOf(v)], { stack: two.stack });
  assert.deepEqual(
    [two.reads, larger.stacks],
    [
      ['ver_a', 'ver_b'],
      ['ver_b', 'ver_a'],
    ],
  );
  // One spec of each in one call: both needed at once, both loaded, the bound keeps the newest two.
  await larger.encode(texts.slice(0, 2), [specOf('ver_c'), specOf('ver_a')], { stack: two.stack });
  assert.equal(larger.stacks.length, 2);
  assert.ok(larger.stacks.includes('ver_c') && larger.stacks.includes('ver_a'));
});

test("a forgotten version's stack is dropped by the worker, and read again if it is asked for", async () => {
  const e = await encoder();
  const { reads, stack: from } = source();
  await e.encode(texts.slice(0, 2), [specOf('ver_gone')], { stack: from });
  assert.deepEqual(e.stacks, ['ver_gone']);
  const changed = new Promise<string[]>((ok) => e.once('stacks', ok));
  e.forgetStacks(['ver_gone']);
  assert.deepEqual(e.stacks, [], 'forgotten here at once');
  assert.deepEqual(await changed, [], 'and by the worker');
  await e.encode(texts.slice(0, 2), [specOf('ver_gone')], { stack: from });
  assert.deepEqual(reads, ['ver_gone', 'ver_gone']);
});

test('the worker answers `missing` for a stack it neither holds nor got, and holds one it was sent', async () => {
  const channel = new WorkerChannel<EncoderApi, EncoderEvent>({
    url: new URL('../../src/encoder/encoder-worker.js', import.meta.url),
    name: 'encoder under test',
    workerData: init(),
  });
  onFileEnd(() => channel.stop());
  await channel.whenReady();
  const args = { texts: texts.slice(0, 3), specs: [frozen, specOf('ver_w')], truncate: true, lane: 'interactive' as const };
  assert.deepEqual(await channel.call('encode', args), { missing: ['ver_w'] });
  const sent = await channel.call('encode', { ...args, stacks: { ver_w: bytes } });
  assert.ok('features' in sent && sent.features[1]!.length === 3 * manifest.hiddenSize);
  const held = await channel.call('encode', args);
  assert.ok('features' in held);
  assert.deepEqual(held.features[1], sent.features[1]);
});

test('a stack tuned on another import of the model, or a spec that does not fit its stack, is refused', async () => {
  const other = encodeTunedStack({ ...stack, model: { ...stack.model, sourceSha256: 'another checkpoint' } });
  await assert.rejects(
    shared.encode(texts.slice(0, 1), [specOf('ver_other')], { stack: async () => other }),
    (err: unknown) => err instanceof DomainError && err.code === 'model_unavailable',
  );
  assert.ok(!shared.stacks.includes('ver_other'));
  const misfit: FeatureSpec = { ...specOf('ver_misfit'), layers: [stack.first] };
  await assert.rejects(
    shared.encode(texts.slice(0, 1), [misfit], { stack: async () => bytes }),
    (err: unknown) => err instanceof DomainError && err.code === 'invalid_feature_spec',
  );
});
