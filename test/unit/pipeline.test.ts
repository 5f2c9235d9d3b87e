/**
 * The training pipeline on a job-wide pool: the report and metrics shapes
 * the API serves, and results that depend on the seed only — not on how
 * many threads ran the fits, nor on the order they finished in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FeatureSpec } from '../../src/encoder/feature-spec.js';
import { runPipeline, Cancelled } from '../../src/training/pipeline.js';
import type { JobThreadInput, JobThreadResult } from '../../src/training/protocol.js';
import { normalizeRequest, trainingRequestSchema, type TrainingRequestInput } from '../../src/training/request.js';

const N = 150;
const DIM = 12;
const LABELS = ['a', 'b', 'c'];

function shared<T extends Float32Array | Int32Array>(a: T): T {
  const out = (a instanceof Float32Array ? new Float32Array(new SharedArrayBuffer(a.byteLength)) : new Int32Array(new SharedArrayBuffer(a.byteLength))) as T;
  out.set(a as never);
  return out;
}

/** Candidate feature matrices of growing class separation (layer l separates best at l = 2). */
function input(request: TrainingRequestInput, threads: number, layers = 1): JobThreadInput {
  let s = 7;
  const rand = () => ((s = (s * 48271) % 2147483647) / 2147483647);
  const y = Int32Array.from({ length: N }, (_, i) => i % LABELS.length);
  const candidates = Array.from({ length: layers }, (_, l) => {
    const x = new Float32Array(N * DIM);
    for (let i = 0; i < N; i++) for (let f = 0; f < DIM; f++) x[i * DIM + f] = rand() + (f % 3 === y[i] ? (l === 2 ? 0.9 : 0.35) : 0);
    const spec: FeatureSpec = { model: 'm', layers: [l], layerCombine: 'concat', pooling: 'mean', normalize: true };
    return { spec, dim: DIM, x: shared(x) };
  });
  return {
    request: normalizeRequest(trainingRequestSchema.parse({ ...request, evaluation: { method: 'cv', folds: 4 } })),
    labels: LABELS,
    y: shared(y),
    n: N,
    candidates,
    threads,
    cancel: new Int32Array(new SharedArrayBuffer(4)),
  };
}

/** The result without timings, which differ from run to run. */
function stable(r: JobThreadResult): unknown {
  const strip = (o: unknown): unknown =>
    Array.isArray(o) ? o.map(strip) : o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'ms').map(([k, v]) => [k, strip(v)])) : o;
  return strip({ ...r, timings: undefined });
}

test('auto with a layer sweep: report shapes, the best macro-F1 chosen at each step', async () => {
  const r = await runPipeline(input({ head: 'auto', layer_sweep: true }, 2, 4), () => undefined);
  const sweep = r.report['layer_sweep'] as { results: Array<{ layers: number[]; macro_f1: number; ms: number }>; chosen: { layers: number[] } };
  assert.equal(sweep.results.length, 4);
  assert.deepEqual(sweep.chosen.layers, [2], 'the most separable candidate wins the sweep');
  assert.equal(r.chosen, 2);
  const search = r.report['search'] as { results: Array<{ head_type: string; macro_f1: number }>; chosen: { head_type: string } };
  assert.equal(search.results.length, 16 + 3);
  assert.equal(Math.max(...search.results.map((x) => x.macro_f1)), (r.metrics as { macro_f1: number }).macro_f1);
  assert.equal(search.chosen.head_type, r.headType);
  const metrics = r.metrics as { method: string; folds: number; fold_accuracy: number[]; n: number };
  assert.deepEqual([metrics.method, metrics.folds, metrics.fold_accuracy.length, metrics.n], ['cv', 4, 4, N]);
  assert.deepEqual(r.timings.map((t) => t.phase), ['layer_sweep', 'search', 'evaluate', 'fit']);
});

test('one thread or two: the same choices, metrics and artifact', async () => {
  for (const head of ['svm', 'random_forest', 'auto'] as const) {
    const one = await runPipeline(input({ head }, 1), () => undefined);
    const two = await runPipeline(input({ head }, 2), () => undefined);
    assert.deepEqual(stable(two), stable(one), head);
  }
});

test('a raised cancel flag stops the pipeline between fits', async () => {
  const job = input({ head: 'auto' }, 2);
  let seen = 0;
  await assert.rejects(
    runPipeline(job, () => {
      if (++seen === 3) Atomics.store(job.cancel, 0, 1);
    }),
    Cancelled,
  );
});
