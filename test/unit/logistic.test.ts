/**
 * The logistic_regression head. Its objective is strictly convex, so the
 * oracle is optimality itself: at the weights it returns, every partial
 * derivative of the objective (computed here independently, by central
 * differences of a plain re-implementation) is zero to within the tolerance.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blobs } from '../helpers/blobs.js';
import type { Dataset } from '../../src/heads/dataset.js';
import { logisticHead } from '../../src/heads/logistic/index.js';
import { logisticParamsSchema } from '../../src/heads/logistic/params.js';
import { LogisticPredictor } from '../../src/heads/logistic/model.js';
import { balancedClassWeights, classWeightsByIndex } from '../../src/heads/class-weights.js';
import { fitLogistic } from '../../src/heads/logistic/train.js';
import { loadPredictor } from '../../src/heads/registry.js';
import { runPipeline } from '../../src/training/pipeline.js';
import { normalizeRequest, trainingRequestSchema } from '../../src/training/request.js';

/** ½‖W‖² + C Σ sᵢ (logsumexp zᵢ − zᵢ,yᵢ), written plainly. */
function objective(data: Dataset, w: Float64Array, b: Float64Array, C: number, weight: Float64Array): number {
  const { n, dim, classes } = data;
  let f = 0;
  for (const v of w) f += 0.5 * v * v;
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: classes }, (_, c) => {
      let s = b[c]!;
      for (let j = 0; j < dim; j++) s += w[c * dim + j]! * data.x[i * dim + j]!;
      return s;
    });
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
    f += C * weight[data.y[i]!]! * (lse - z[data.y[i]!]!);
  }
  return f;
}

test('the fit is the minimum of the objective: every partial derivative vanishes there', () => {
  const data = blobs(120, 5, 3, 3);
  for (const [C, classWeight] of [
    [1, null],
    [10, 'balanced'],
    [0.1, [1, 3, 0.5]],
  ] as const) {
    const weight = Float64Array.from(classWeight === null ? [1, 1, 1] : classWeight === 'balanced' ? balancedClassWeights(data.y, data.n, 3) : classWeight);
    const fit = fitLogistic(data, null, { C, classWeight: classWeight ?? undefined, maxIter: 500, tolerance: 1e-8 });
    const f0 = objective(data, fit.w, fit.b, C, weight);
    const h = 1e-5;
    for (const [part, index] of [
      ['w', 0],
      ['w', 7],
      ['w', 14],
      ['b', 0],
      ['b', 2],
    ] as const) {
      const at = (delta: number) => {
        const w = Float64Array.from(fit.w);
        const b = Float64Array.from(fit.b);
        (part === 'w' ? w : b)[index]! += delta;
        return objective(data, w, b, C, weight);
      };
      const derivative = (at(h) - at(-h)) / (2 * h);
      assert.ok(Math.abs(derivative) < 1e-4 * Math.max(1, f0), `C=${C} ${part}[${index}]: ∂f = ${derivative}`);
    }
    assert.ok(fit.iterations < 500, `converged in ${fit.iterations} iterations`);
  }
});

test("class weights: 'balanced' is n / (classes present × count), as scikit-learn's; labels map to class indexes", () => {
  const y = Int32Array.from([0, 0, 0, 1, 2, 2]);
  assert.deepEqual(balancedClassWeights(y, 6, 4), [6 / 9, 6 / 3, 6 / 6, 1]);
  assert.deepEqual(balancedClassWeights(Int32Array.from([0, 1]), 2, 3), [1, 1, 1]);
  assert.deepEqual(classWeightsByIndex({ a: 2, c: 0.5 }, ['a', 'b', 'c']), [2, 1, 0.5]);
  assert.equal(classWeightsByIndex('balanced', ['a']), 'balanced');
  assert.equal(classWeightsByIndex(null, ['a']), undefined);
});

test('the stored head predicts softmax probabilities from plain JSON weights, loaded through the registry', () => {
  const artifact = { format: 'softmax-linear', classes: 3, dim: 2, weights: [1, 0, 0, 1, -1, -1], bias: [0, 0.5, 0] };
  const predictor = loadPredictor(JSON.parse(JSON.stringify(artifact)));
  assert.ok(predictor instanceof LogisticPredictor);
  const p = predictor.predictProba(Float32Array.from([2, 0, 0, 0]), 2);
  const z = [2, 0.5, -2];
  const e = z.map((v) => Math.exp(v));
  const sum = e.reduce((a, b) => a + b, 0);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(p[c]! - e[c]! / sum) < 1e-6);
  assert.ok(Math.abs(p[3]! - p[5]!) < 1e-7 && p[4]! > p[3]!, 'at the origin only the bias decides');
  assert.throws(() => loadPredictor({ ...artifact, weights: [1] }), /weights do not match/);
});

test('through the pipeline: a search over C, cross-validated, and a head that predicts what cross-validation scored', async () => {
  const data = blobs(150, 6, 3, 11);
  const request = normalizeRequest(
    trainingRequestSchema.parse({ head: { type: 'logistic_regression', search: true }, evaluation: { method: 'cv', folds: 3 } }),
  );
  const r = await runPipeline(
    {
      request,
      labels: ['a', 'b', 'c'],
      y: data.y,
      n: data.n,
      candidates: [{ spec: { model: 'm', layers: [1], layerCombine: 'concat', pooling: 'mean', normalize: true }, dim: data.dim, x: data.x }],
      threads: 2,
      cancel: new Int32Array(new SharedArrayBuffer(4)),
    },
    () => undefined,
  );
  const search = r.report.search as { results: Array<{ params: { C: number } }> };
  assert.deepEqual(
    search.results.map((s) => s.params.C),
    [0.01, 0.1, 1, 10, 100],
  );
  assert.equal(r.headType, 'logistic_regression');
  assert.ok((r.metrics as { accuracy: number }).accuracy > 0.6, `CV accuracy ${(r.metrics as { accuracy: number }).accuracy}`);
  const head = logisticHead.load(r.artifact, {});
  const p = head.predictProba(data.x, data.n);
  for (let i = 0; i < data.n; i++) {
    const row = p.subarray(i * 3, i * 3 + 3);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  }
});

test('parameters: defaults as scikit-learn, out-of-range values refused, class_weight labels checked against the task', () => {
  assert.deepEqual(logisticParamsSchema.parse({}), { C: 1, class_weight: null, max_iter: 200, tolerance: 1e-4 });
  assert.equal(logisticParamsSchema.safeParse({ C: 0 }).success, false);
  assert.equal(logisticParamsSchema.safeParse({ penalty: 'l1' }).success, false, 'unknown fields are refused');
  const labels = new Map([['a', 3]]);
  assert.throws(
    () => logisticHead.check(logisticParamsSchema.parse({ class_weight: { b: 2 } }), { kind: 'single_label', labels, dim: 4 }),
    (e: unknown) => (e as { code?: string }).code === 'unknown_label',
  );
  logisticHead.check(logisticParamsSchema.parse({ class_weight: { a: 2 } }), { kind: 'single_label', labels, dim: 4 });
});
