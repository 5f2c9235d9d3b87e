/**
 * Each head type's ONNX export, run by onnxruntime on feature rows, gives
 * what the head's own predictor gives for the same rows: the SVM in every
 * shape its predictor handles (Platt-coupled, two classes, voted, classes the
 * model never saw), the forest (thresholds that float32 cannot hold, two
 * classes), logistic regression and the MLP (softmax, and sigmoids for
 * multi-label fits). The encoder, the features and multi-label versions'
 * wrappers are test/api/export.test.ts's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Dataset } from '../../src/heads/dataset.js';
import { rng } from '../../src/heads/evaluation.js';
import { ceilFloat32 } from '../../src/heads/forest/onnx.js';
import { fitLogistic } from '../../src/heads/logistic/train.js';
import { headOf, loadPredictor } from '../../src/heads/registry.js';
import { svmArtifact } from '../../src/heads/svm/artifact.js';
import type { SvmParams } from '../../src/heads/svm/params.js';
import { DT, GraphBuilder } from '../../src/onnx/graph.js';
import { trainForestHere } from '../helpers/forest.js';
import { trainSvmHere } from '../helpers/svm.js';

const DIM = 12;

/** Gaussian blobs, one per class in `present`, around centres spread over [-1, 1]^DIM. */
function blobs(n: number, present: number[], classes: number, seed: number): Dataset {
  const rand = rng(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: DIM }, () => rand() * 2 - 1));
  const x = new Float32Array(n * DIM);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = present[i % present.length]!;
    y[i] = c;
    for (let d = 0; d < DIM; d++) x[i * DIM + d] = centres[c]![d]! + (rand() + rand() + rand() - 1.5) * 0.6;
  }
  return { x, y, n, dim: DIM, classes };
}

/** Rows to score: the training rows (values the splits were cut between) and new ones, some far outside. */
function probe(train: Dataset, seed: number): { x: Float32Array; n: number } {
  const rand = rng(seed);
  const extra = 150;
  const x = new Float32Array((train.n + extra) * DIM);
  x.set(train.x);
  for (let i = train.n * DIM; i < x.length; i++) x[i] = (rand() * 2 - 1) * (i % 7 === 0 ? 6 : 1.5);
  return { x, n: train.n + extra };
}

/** The head's export alone: features in, probabilities out. */
async function headModel(headType: string, artifact: unknown, classes: number): Promise<ort.InferenceSession> {
  const g = new GraphBuilder('head', 17);
  const x = g.input('x', DT.FLOAT, ['rows', DIM]);
  const build = await headOf(headType)!.onnx!();
  const out = build(artifact, { graph: g, features: x, dim: DIM, classes, prefix: 'head/' });
  g.output('probabilities', out.probabilities, DT.FLOAT, ['rows', classes]);
  g.prune();
  return ort.InferenceSession.create(g.encode('test'), { intraOpNumThreads: 1 });
}

async function assertSameAsPredictor(headType: string, artifact: unknown, classes: number, rows: { x: Float32Array; n: number }, tolerance: number) {
  const expected = loadPredictor(artifact).predictProba(rows.x, rows.n);
  const session = await headModel(headType, artifact, classes);
  const got = (await session.run({ x: new ort.Tensor('float32', rows.x, [rows.n, DIM]) })).probabilities!;
  assert.deepEqual(got.dims, [rows.n, classes]);
  const p = got.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i]! - expected[i]!));
  assert.ok(worst <= tolerance, `${headType}: probabilities differ by up to ${worst}`);
  await session.release();
  return worst;
}

const svm = (data: Dataset, params: Partial<SvmParams>) => svmArtifact(trainSvmHere(data, { probability: true, ...params }).model, data.classes);

test('svm: Platt sigmoids coupled over four classes, as the predictor', async () => {
  const data = blobs(120, [0, 1, 2, 3], 4, 1);
  await assertSameAsPredictor('svm', svm(data, { kernel: 'rbf', C: 10, gamma: 'scale' }), 4, probe(data, 2), 1e-6);
});

test('svm: two classes take the sigmoid itself; a linear kernel', async () => {
  const data = blobs(80, [0, 1], 2, 3);
  await assertSameAsPredictor('svm', svm(data, { kernel: 'linear', C: 1 }), 2, probe(data, 4), 1e-6);
});

test('svm: without Platt sigmoids the voted class gets 1; a polynomial kernel', async () => {
  const data = blobs(90, [0, 1, 2], 3, 5);
  const artifact = svm(data, { kernel: 'poly', C: 1, degree: 2, probability: false });
  await assertSameAsPredictor('svm', artifact, 3, probe(data, 6), 0);
});

test('svm: classes the model never saw get probability 0, and the others their own column', async () => {
  const data = blobs(120, [3, 0, 4], 6, 7);
  await assertSameAsPredictor('svm', svm(data, { kernel: 'rbf', C: 10, gamma: 'scale' }), 6, probe(data, 8), 1e-6);
});

test('random_forest: vote shares, splits compared as the predictor compares them', async () => {
  const data = blobs(150, [0, 1, 2, 3, 4], 5, 9);
  const artifact = trainForestHere(data, { nEstimators: 30, seed: 3 });
  await assertSameAsPredictor('random_forest', artifact, 5, probe(data, 10), 0);
});

test('random_forest: two classes, and a class no tree votes for', async () => {
  const two = blobs(80, [0, 1], 2, 11);
  await assertSameAsPredictor('random_forest', trainForestHere(two, { nEstimators: 15 }), 2, probe(two, 12), 0);
  const absent = blobs(80, [0, 2], 3, 13);
  await assertSameAsPredictor('random_forest', trainForestHere(absent, { nEstimators: 15 }), 3, probe(absent, 14), 0);
});

test('random_forest: a split between two adjacent float32 values sends each to its own side', async () => {
  // The threshold is their float64 mean, halfway between: float32 rounding would put it on one of them.
  const low = 1;
  const high = Math.fround(1 + 2 ** -23);
  const n = 40;
  const x = new Float32Array(n * DIM);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    x[i * DIM] = y[i] ? high : low;
  }
  const data = { x, y, n, dim: DIM, classes: 2 };
  const artifact = trainForestHere(data, { nEstimators: 5, maxFeatures: 1, bootstrap: false });
  await assertSameAsPredictor('random_forest', artifact, 2, { x, n }, 0);
  assert.deepEqual(Array.from(loadPredictor(artifact).predictProba(x.subarray(0, 2 * DIM), 2)), [1, 0, 0, 1]);
});

test('logistic_regression: softmax of the linear scores', async () => {
  const data = blobs(120, [0, 1, 2, 3], 4, 15);
  const { w, b } = fitLogistic(data, null, { C: 1, classWeight: undefined, maxIter: 200, tolerance: 1e-4 });
  const artifact = { format: 'softmax-linear', classes: 4, dim: DIM, weights: Array.from(w), bias: Array.from(b) };
  await assertSameAsPredictor('logistic_regression', artifact, 4, probe(data, 16), 1e-6);
});

/** Weights drawn at random: the export must compute what the predictor computes with any. */
const randomWeights = (n: number, seed: number) => {
  const rand = rng(seed);
  return Array.from({ length: n }, () => (rand() * 2 - 1) * 0.5);
};

test('logistic_regression: a multi-label fit, each label its own sigmoid', async () => {
  const data = blobs(60, [0, 1, 2], 3, 17);
  const artifact = { format: 'softmax-linear', classes: 3, dim: DIM, weights: randomWeights(3 * DIM, 1), bias: randomWeights(3, 2), output: 'sigmoid' };
  await assertSameAsPredictor('logistic_regression', artifact, 3, probe(data, 18), 1e-6);
});

test('mlp: ReLU hidden layers and a softmax, or sigmoids for a multi-label fit', async () => {
  const data = blobs(60, [0, 1, 2, 3], 4, 19);
  const layers = [
    { in: DIM, out: 8, weights: randomWeights(DIM * 8, 3), bias: randomWeights(8, 4) },
    { in: 8, out: 6, weights: randomWeights(8 * 6, 5), bias: randomWeights(6, 6) },
    { in: 6, out: 4, weights: randomWeights(6 * 4, 7), bias: randomWeights(4, 8) },
  ];
  for (const output of ['softmax', 'sigmoid']) {
    const artifact = { format: 'mlp', classes: 4, dim: DIM, activation: 'relu', output, layers };
    await assertSameAsPredictor('mlp', artifact, 4, probe(data, 20), 1e-6);
  }
});

test('ceilFloat32: the smallest float32 at or above a float64', () => {
  const f32 = (x: number) => Math.fround(x);
  for (const x of [0.1, -0.1, 1 / 3, -1 / 3, 1e-45, -1e-45, 2.5, 0, 1e-300, -1e-300]) {
    const c = ceilFloat32(x);
    assert.equal(c, f32(c), `${x}: ${c} is a float32`);
    assert.ok(c >= x, `${x}: ${c} is at or above it`);
    // Nothing float32 lies in [x, c): the one below c is below x.
    const below = new Float32Array([c]);
    const bits = new Int32Array(below.buffer);
    if (c > 0) bits[0]! -= 1;
    else if (c < 0) bits[0]! += 1;
    else below[0] = -1e-45;
    assert.ok(below[0]! < x, `${x}: ${below[0]} is below it`);
  }
});
