/**
 * The training pipeline on a job-wide pool: the report and metrics shapes
 * the API serves, and results that depend on the seed only — not on how
 * many threads ran the fits, nor on the order they finished in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FeatureSpec } from '../../src/encoder/feature-spec.js';
import { isDomainError } from '../../src/errors.js';
import { halvingRungs } from '../../src/training/search-plan.js';
import { runPipeline, withinOneStandardError } from '../../src/training/pipeline.js';
import type { JobThreadInput, JobThreadResult } from '../../src/training/job-protocol.js';
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
  const rand = () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
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
    Array.isArray(o)
      ? o.map(strip)
      : o && typeof o === 'object'
        ? Object.fromEntries(
            Object.entries(o)
              .filter(([k]) => k !== 'ms')
              .map(([k, v]) => [k, strip(v)]),
          )
        : o;
  return strip({ ...r, timings: undefined });
}

test('auto with a layer sweep: report shapes, the best macro-F1 chosen at each step', async () => {
  const job = input({ head: 'auto', layer_sweep: true }, 2, 4);
  const r = await runPipeline(job, () => undefined);
  const sweep = r.report.layer_sweep as { results: Array<{ layers: number[]; macro_f1: number; ms: number }>; chosen: { layers: number[] } };
  assert.equal(sweep.results.length, 4);
  assert.deepEqual(sweep.chosen.layers, [2], 'the most separable candidate wins the sweep');
  assert.equal(r.chosen, 2);
  const search = r.report.search as { results: Array<{ head_type: string; macro_f1: number }>; chosen: { head_type: string } };
  assert.equal(search.results.length, 16 + 3 + 5, 'the SVM, forest and logistic regression grids');
  assert.equal(Math.max(...search.results.map((x) => x.macro_f1)), (r.metrics as { macro_f1: number }).macro_f1);
  assert.equal(search.chosen.head_type, r.headType);
  const metrics = r.metrics as { method: string; folds: number; fold_accuracy: number[]; n: number };
  assert.deepEqual([metrics.method, metrics.folds, metrics.fold_accuracy.length, metrics.n], ['cv', 4, 4, N]);
  assert.deepEqual(
    r.timings.map((t) => t.phase),
    ['layer_sweep', 'search', 'evaluate', 'map', 'fit'],
  );
  // The out-of-fold predictions are those the metrics count, and the map shows every row of a task this small.
  const { predicted, map } = r.evaluation;
  assert.equal(predicted.length, N);
  assert.ok(
    predicted.every((p) => p >= 0),
    'cross-validation predicts every row once',
  );
  const correct = predicted.filter((p, i) => p === job.y[i]).length;
  assert.equal(correct / N, (r.metrics as { accuracy: number }).accuracy);
  assert.deepEqual(
    Array.from(map.rows),
    Array.from({ length: N }, (_, i) => i),
  );
  assert.equal(map.coords.length, 2 * N);
});

test('one thread or two: the same choices, metrics and artifact', async () => {
  for (const head of ['svm', 'random_forest', 'logistic_regression', 'mlp', 'auto'] as const) {
    const one = await runPipeline(input({ head }, 1), () => undefined);
    const two = await runPipeline(input({ head }, 2), () => undefined);
    assert.deepEqual(stable(two), stable(one), head);
  }
});

test('successive halving: every configuration scored on a fold, the best third on three, three on all four; the same choice as the full grid here', async () => {
  assert.deepEqual(halvingRungs(24, 5), [
    { folds: 1, keep: 8 },
    { folds: 3, keep: 3 },
  ]);
  assert.deepEqual(halvingRungs(5, 5), [], 'a small grid is searched whole');
  assert.deepEqual(halvingRungs(24, 2), [], 'two folds leave nothing to halve');
  const halved = await runPipeline(input({ head: 'auto' }, 2), () => undefined);
  const grid = await runPipeline(input({ head: 'auto', search_strategy: 'grid' }, 2), () => undefined);
  const search = (r: typeof halved) => r.report.search as { strategy: string; results: Array<{ folds: number; dropped?: boolean }> };
  assert.equal(search(halved).strategy, 'successive halving over folds');
  assert.equal(search(grid).strategy, 'full grid');
  const folds = search(halved).results.map((r) => r.folds);
  assert.equal(folds.length, 24);
  assert.deepEqual(
    [1, 3, 4].map((f) => folds.filter((x) => x === f).length),
    [16, 5, 3],
  );
  assert.ok(search(grid).results.every((r) => r.folds === 4 && !r.dropped));
  assert.deepEqual([halved.headType, halved.params], [grid.headType, grid.params]);
});

test('a raised cancel flag stops the pipeline between fits', async () => {
  const job = input({ head: 'auto' }, 2);
  let seen = 0;
  await assert.rejects(
    runPipeline(job, () => {
      if (++seen === 3) Atomics.store(job.cancel, 0, 1);
    }),
    (e: unknown) => isDomainError(e, 'cancelled'),
  );
});

test('one-standard-error rule: paired fold differences decide what is close', () => {
  assert.ok(withinOneStandardError([0.9, 0.8, 0.85], [0.9, 0.8, 0.85]), 'equal scores are close');
  assert.ok(withinOneStandardError([0.91, 0.79, 0.86], [0.9, 0.8, 0.85]), 'a noisy difference around zero is close');
  assert.ok(!withinOneStandardError([0.85, 0.75, 0.8], [0.9, 0.8, 0.85]), 'trailing on every fold is not');
  assert.ok(!withinOneStandardError([0.9], [0.9]), 'one hold-out split has no error estimate');
});

test('layer sweep: of candidates within one standard error, the one with fewer dimensions is trained', async () => {
  const base = input({ head: 'svm', layer_sweep: true }, 2, 3);
  // Candidate 3: candidate 2's columns twice (24 dimensions, the same information); it goes first in the list.
  const two = base.candidates[2]!;
  const x = new Float32Array(new SharedArrayBuffer(N * DIM * 2 * 4));
  for (let i = 0; i < N; i++) {
    x.set(two.x.subarray(i * DIM, (i + 1) * DIM), i * 2 * DIM);
    x.set(two.x.subarray(i * DIM, (i + 1) * DIM), i * 2 * DIM + DIM);
  }
  const wide = { spec: { ...two.spec, layers: [1, 2] }, dim: DIM * 2, x };
  const r = await runPipeline({ ...base, candidates: [wide, ...base.candidates] }, () => undefined);
  const sweep = r.report.layer_sweep as { results: Array<{ layers: number[]; dimensions: number; within_one_se: boolean }>; chosen: { layers: number[] } };
  assert.deepEqual(
    sweep.results.map((s) => s.dimensions),
    [24, 12, 12, 12],
  );
  assert.ok(sweep.results[0]!.within_one_se, 'the doubled copy scores like the original');
  assert.deepEqual(sweep.chosen.layers, [2], 'the smaller copy wins');
  assert.equal(r.chosen, 3);
});
