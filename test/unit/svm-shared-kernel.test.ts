/**
 * Cross-validation on a shared kernel matrix: a fit on a row view of the full
 * data set's matrix is the fit on the subset, the held-out rows are scored
 * as the predictor scores them, and folds run on a head pool give the same
 * results as folds fitted from scratch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Dataset, takeRows } from '../../src/heads/dataset.js';
import { foldSplit, stratifiedFolds } from '../../src/heads/evaluation.js';
import type { JobContext } from '../../src/heads/head.js';
import { gramMatrix } from '../../src/heads/linalg/gram.js';
import { foldPredict, predictFromKernel } from '../../src/heads/svm/cv.js';
import { svmParamsSchema } from '../../src/heads/svm/params.js';
import { FeatureKernel, gramToKernelMatrix, MatrixKernel, MatrixView } from '../../src/heads/svm/kernel.js';
import type { KernelParams } from '../../src/heads/svm/kernel-function.js';
import { KernelCache } from '../../src/heads/svm/kernel-cache.js';
import { writeModelText } from '../../src/heads/svm/model-text.js';
import type { SvmParams } from '../../src/heads/svm/params.js';
import { SvmPredictor } from '../../src/heads/svm/predict.js';
import { trainSvm } from '../../src/heads/svm/train.js';
import { startSvmJob } from '../../src/heads/svm/trainer.js';
import { TrainingPool } from '../../src/training/pool/pool.js';
import { svmPool, trainSvmHere, trainSvmOnOwnPool } from '../helpers/svm.js';

function blobs(seed: number, n: number, dim: number, classes: number): Dataset {
  let s = seed;
  const uniform = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const centres = Array.from({ length: classes * dim }, () => gauss() * 1.2);
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = (i * 7) % classes;
    for (let d = 0; d < dim; d++) x[i * dim + d] = centres[y[i]! * dim + d]! + gauss();
  }
  return { x, n, dim, y, classes };
}

const data = blobs(3, 360, 10, 5);
const rbf: KernelParams = { kernel: 'rbf', gamma: 0.08, degree: 3, coef0: 0 };
const splits = [0, 1, 2, 3].map((f) => foldSplit(stratifiedFolds(data.y, data.classes, 4, 9), f));

/** The same Gram entries for the subset, gathered from the full Gram. */
function subGram(gram: Float32Array, n: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * rows.length);
  for (const [i, r] of rows.entries()) for (const [j, c] of rows.entries()) out[i * rows.length + j] = gram[r * n + c]!;
  return out;
}

for (const kernel of [rbf, { kernel: 'linear', gamma: 1, degree: 3, coef0: 0 } as KernelParams]) {
  test(`${kernel.kernel}: a fit on a row view of the full kernel matrix is the fit on the subset`, () => {
    const gram = gramMatrix(data.x, data.n, data.dim, { backend: 'js' });
    const full = gramToKernelMatrix(gram.slice(), data.n, kernel);
    const { train } = splits[1]!;
    const params: Partial<SvmParams> = { kernel: kernel.kernel, gamma: kernel.gamma, C: 3, probability: false };
    const viewed = trainSvm(takeRows(data, train), params, new MatrixView(full, data.n, train));
    const fresh = trainSvm(
      takeRows(data, train),
      params,
      new MatrixKernel(gramToKernelMatrix(subGram(gram, data.n, train), train.length, kernel), train.length),
    );
    assert.equal(writeModelText(viewed.model), writeModelText(fresh.model));
  });
}

test("held-out rows scored from the kernel matrix, or from the features, get the predictor's labels", () => {
  const full = new MatrixKernel(gramToKernelMatrix(gramMatrix(data.x, data.n, data.dim), data.n, rbf), data.n);
  const features = new FeatureKernel(data.x, data.n, data.dim, rbf);
  for (const { train, test: held } of splits) {
    const fit = trainSvm(takeRows(data, train), { kernel: 'rbf', gamma: rbf.gamma, C: 10, probability: false }, new MatrixView(full.k, data.n, train));
    const heldOut = takeRows(data, held);
    const expected = new SvmPredictor(fit.model, { backend: 'js' }).predictLabels(heldOut.x, heldOut.n);
    assert.deepEqual([...predictFromKernel(fit, full, train, held)], [...expected]);
    assert.deepEqual([...predictFromKernel(fit, features, train, held)], [...expected]);
  }
});

test('a kernel view refuses rows outside the matrix, and trainSvm a source of the wrong size', () => {
  const full = new Float32Array(16);
  assert.throws(() => new MatrixView(full, 4, Int32Array.of(0, 4)), /outside/);
  assert.throws(() => trainSvm(takeRows(data, Int32Array.of(0, 1, 2)), { probability: false }, new MatrixView(full, 4, Int32Array.of(0, 1))), /2 rows, data 3/);
});

test('pooled cross-validation of a grid: one Gram, shared kernels, the same predictions as fresh fits', async () => {
  const pool = new TrainingPool(2);
  try {
    const ctx: JobContext = { pool, seed: 1, labels: ['a', 'b', 'c', 'd', 'e'] };
    const base = svmParamsSchema.parse({});
    const configs = [
      { ...base, kernel: 'rbf' as const, C: 1, gamma: rbf.gamma },
      { ...base, kernel: 'linear' as const, C: 0.5 },
      { ...base, kernel: 'rbf' as const, C: 10, gamma: rbf.gamma },
    ];
    const outcomes = await startSvmJob(ctx).crossValidate(data, splits, configs);
    const full = gramToKernelMatrix(gramMatrix(data.x, data.n, data.dim), data.n, rbf);
    const linear = gramMatrix(data.x, data.n, data.dim);
    configs.forEach((p, c) => {
      splits.forEach((split, s) => {
        const kernel = new MatrixKernel(p.kernel === 'linear' ? linear : full, data.n);
        const expected = foldPredict(data, kernel, split.train, split.test, { kernel: p.kernel, C: p.C, gamma: p.gamma });
        assert.deepEqual([...outcomes[c]!.predicted[s]!], [...expected], `config ${c}, split ${s}`);
      });
    });
  } finally {
    await pool.close();
  }
});

test('data sets above the shared-matrix bound fit each fold on its own, with the same labels here', async () => {
  const pool = new TrainingPool(2);
  try {
    const config = { ...svmParamsSchema.parse({}), C: 10, gamma: rbf.gamma };
    const ctx: JobContext = { pool, seed: 1, labels: [] };
    const shared = await startSvmJob(ctx).crossValidate(data, splits, [config]);
    const own = await startSvmJob(ctx, new KernelCache(svmPool(pool), 100)).crossValidate(data, splits, [config]);
    const agree = splits.reduce((sum, _, s) => sum + own[0]!.predicted[s]!.filter((v, i) => v === shared[0]!.predicted[s]![i]).length, 0);
    assert.ok(agree >= data.n - 2, `${agree} of ${data.n} held-out labels agree`);
  } finally {
    await pool.close();
  }
});

test('the final fit on a pool, with probabilities, is the single-thread fit', async () => {
  const params: Partial<SvmParams> = { kernel: 'rbf', gamma: rbf.gamma, C: 5, probability: true, seed: 4 };
  const pooled = await trainSvmOnOwnPool(data, params, 2);
  assert.equal(writeModelText(pooled.model), writeModelText(trainSvmHere(data, params).model));
});
