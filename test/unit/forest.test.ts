import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomForestClassifier } from 'ml-random-forest';
import { isDomainError } from '../../src/errors.js';
import type { Dataset } from '../../src/heads/dataset.js';
import type { ForestArtifact, RandomForestClassifierJSON } from '../../src/heads/forest/model.js';
import { type ForestParams, resolveForestParams } from '../../src/heads/forest/params.js';
import { ForestPredictor, loadForestPredictor } from '../../src/heads/forest/predict.js';
import { assembleForest, trainTrees } from '../../src/heads/forest/train.js';
import { trainForestHere } from '../helpers/forest.js';

/** Deterministic test data source, independent of the forest's own generator. */
function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Gaussian-ish blobs around random class centres, plus awkward columns: one
 * constant, one with few distinct values (ties), one negative-only.
 */
function blobs(n: number, dim: number, classes: number, spread: number, seed: number): Dataset {
  const rand = mulberry32(seed);
  const centres = Array.from({ length: classes * dim }, () => rand() * 2 - 1);
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rand() * classes);
    y[i] = c;
    for (let f = 0; f < dim; f++) x[i * dim + f] = centres[c * dim + f]! + spread * (rand() + rand() + rand() - 1.5);
    x[i * dim] = 0.5;
    x[i * dim + 1] = Math.round(x[i * dim + 1]! * 2) / 2;
    x[i * dim + 2] = -Math.abs(x[i * dim + 2]!) - 1;
  }
  return { x, n, dim, y, classes };
}

function split(data: Dataset, trainRows: number): { train: Dataset; test: Dataset } {
  const part = (from: number, to: number): Dataset => ({
    x: data.x.slice(from * data.dim, to * data.dim),
    n: to - from,
    dim: data.dim,
    y: data.y.slice(from, to),
    classes: data.classes,
  });
  return { train: part(0, trainRows), test: part(trainRows, data.n) };
}

function rowsOf(data: Dataset): number[][] {
  return Array.from({ length: data.n }, (_, i) => Array.from(data.x.subarray(i * data.dim, (i + 1) * data.dim)));
}

/** The artifact as it comes back from storage. */
function roundTrip(artifact: ForestArtifact): ForestArtifact {
  return JSON.parse(JSON.stringify(artifact)) as ForestArtifact;
}

function libraryPredict(model: RandomForestClassifierJSON, data: Dataset): number[] {
  return RandomForestClassifier.load(model as never).predict(rowsOf(data));
}

/** Rows whose top vote share is shared by two or more classes. */
function tiedRows(proba: Float32Array, classes: number): Set<number> {
  const tied = new Set<number>();
  for (let i = 0; i < proba.length / classes; i++) {
    const row = Array.from(proba.subarray(i * classes, (i + 1) * classes));
    const top = Math.max(...row);
    if (row.filter((p) => p === top).length > 1) tied.add(i);
  }
  return tied;
}

function argmax(proba: Float32Array, classes: number, row: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (proba[row * classes + c]! > proba[row * classes + best]!) best = c;
  return best;
}

function accuracy(labels: ArrayLike<number>, y: Int32Array): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) if (labels[i] === y[i]) right++;
  return right / y.length;
}

function depth(node: object): number {
  const split = node as { left?: object; right?: object };
  return split.left && split.right ? 1 + Math.max(depth(split.left), depth(split.right)) : 0;
}

const noisy = split(blobs(500, 12, 5, 1.6, 7), 350);

test('ml-random-forest loads our model and predicts exactly our labels, vote ties included', () => {
  const configs: ForestParams[] = [
    { nEstimators: 15, seed: 3 },
    { nEstimators: 8, maxDepth: 3, minSamplesLeaf: 4, maxFeatures: 'log2', seed: 4 },
    // Few shallow trees over five classes: many rows get tied votes.
    { nEstimators: 4, maxDepth: 1, maxFeatures: 0.5, seed: 5 },
  ];
  let ties = 0;
  for (const params of configs) {
    const artifact = roundTrip(trainForestHere(noisy.train, params));
    const ours = loadForestPredictor(artifact);
    const labels = ours.predictLabels(noisy.test.x, noisy.test.n);
    assert.deepEqual(libraryPredict(artifact.model, noisy.test), Array.from(labels), JSON.stringify(params));

    const proba = ours.predictProba(noisy.test.x, noisy.test.n);
    const tied = tiedRows(proba, ours.classes);
    ties += tied.size;
    for (let i = 0; i < noisy.test.n; i++) {
      if (!tied.has(i)) assert.equal(argmax(proba, ours.classes, i), labels[i]);
    }
  }
  assert.ok(ties > 0, 'the configurations should exercise tied votes');
});

test('a model trained by ml-random-forest (per-tree feature subsets) predicts the same through our predictor', () => {
  const small = split(blobs(120, 6, 3, 1.2, 11), 80);
  const rf = new RandomForestClassifier({ nEstimators: 5, maxFeatures: 3, seed: 9, noOOB: true });
  rf.train(rowsOf(small.train), Array.from(small.train.y));
  const model = JSON.parse(JSON.stringify(rf.toJSON())) as RandomForestClassifierJSON;
  const ours = new ForestPredictor(model, small.train.classes);
  assert.deepEqual(Array.from(ours.predictLabels(small.test.x, small.test.n)), libraryPredict(model, small.test));
});

test('the same seed gives byte-identical JSON; another seed gives other trees', () => {
  const a = JSON.stringify(trainForestHere(noisy.train, { nEstimators: 6, seed: 1 }));
  const b = JSON.stringify(trainForestHere(noisy.train, { nEstimators: 6, seed: 1 }));
  const c = JSON.stringify(trainForestHere(noisy.train, { nEstimators: 6, seed: 2 }));
  // assert.ok rather than equal: a failure would otherwise print both JSON documents.
  assert.ok(a === b, 'same seed, different JSON');
  assert.ok(a !== c, 'different seeds, same JSON');
});

test('trees grown in separate ranges (as workers would) assemble into the same forest', () => {
  const params = resolveForestParams({ nEstimators: 7, seed: 5 }, noisy.train.dim);
  const whole = trainForestHere(noisy.train, { nEstimators: 7, seed: 5 });
  const parts = [...trainTrees(noisy.train, params, 0, 3), ...trainTrees(noisy.train, params, 3, 7)];
  const merged = assembleForest(parts, noisy.train, params);
  assert.ok(JSON.stringify(merged) === JSON.stringify(whole), 'merged ranges differ from one run');
});

test('a separable problem is learnt almost perfectly', () => {
  const { train, test: held } = split(blobs(400, 10, 4, 0.3, 21), 300);
  const predictor = loadForestPredictor(trainForestHere(train, { nEstimators: 20 }));
  assert.ok(accuracy(predictor.predictLabels(held.x, held.n), held.y) >= 0.97);
});

test('without bootstrap, every feature and no limits, a tree fits its training rows exactly', () => {
  const { train } = split(blobs(200, 8, 3, 1.5, 2), 200);
  const predictor = loadForestPredictor(trainForestHere(train, { nEstimators: 1, bootstrap: false, maxFeatures: 1 }));
  assert.equal(accuracy(predictor.predictLabels(train.x, train.n), train.y), 1);
});

test('maxDepth bounds every tree and is reached', () => {
  const artifact = trainForestHere(noisy.train, { nEstimators: 10, maxDepth: 4 });
  const depths = artifact.model.baseModel.estimators.map((tree) => depth(tree.root));
  assert.ok(depths.every((d) => d <= 4));
  assert.ok(depths.includes(4));
  assert.equal(artifact.model.baseModel.treeOptions.maxDepth, 4);
});

test('minSamplesLeaf bounds the rows in every leaf', () => {
  const params = resolveForestParams({ nEstimators: 3, minSamplesLeaf: 7, bootstrap: false }, noisy.train.dim);
  for (const tree of trainTrees(noisy.train, params, 0, 3)) {
    tree.feature.forEach((feature, node) => {
      if (feature < 0) assert.ok(tree.weight[node]! >= 7);
    });
  }
});

test('vote shares are multiples of 1/trees and sum to 1 per row', () => {
  const predictor = loadForestPredictor(trainForestHere(noisy.train, { nEstimators: 9 }));
  const proba = predictor.predictProba(noisy.test.x, noisy.test.n);
  assert.equal(proba.length, noisy.test.n * noisy.test.classes);
  for (let i = 0; i < noisy.test.n; i++) {
    const row = Array.from(proba.subarray(i * predictor.classes, (i + 1) * predictor.classes));
    assert.ok(Math.abs(row.reduce((s, p) => s + p, 0) - 1) < 1e-6);
    for (const p of row) assert.ok(Math.abs(p * 9 - Math.round(p * 9)) < 1e-5);
  }
});

test('maxFeatures resolves like scikit-learn and bad parameters are refused', () => {
  assert.equal(resolveForestParams({}, 384).maxFeatures, 19);
  assert.equal(resolveForestParams({ maxFeatures: 'log2' }, 384).maxFeatures, 8);
  assert.equal(resolveForestParams({ maxFeatures: 0.25 }, 384).maxFeatures, 96);
  assert.equal(resolveForestParams({ maxFeatures: 1 }, 384).maxFeatures, 384);
  assert.equal(resolveForestParams({ maxFeatures: 40 }, 384).maxFeatures, 40);
  const invalid = (param: string) => (e: unknown) => isDomainError(e, 'invalid_params') && e.param === param;
  assert.throws(() => resolveForestParams({ maxFeatures: 500 }, 384), invalid('max_features'));
  assert.throws(() => resolveForestParams({ maxFeatures: 2.5 }, 384), invalid('max_features'));
  assert.throws(() => resolveForestParams({ minSamplesSplit: 1 }, 384), invalid('min_samples_split'));
  assert.throws(() => resolveForestParams({ seed: 0.5 }, 384), invalid('seed'));
});

test('labels outside 0..classes-1 and non-finite features are refused', () => {
  const bad = { ...noisy.train, y: noisy.train.y.map((c) => (c === 0 ? 9 : c)) };
  assert.throws(() => trainForestHere(bad, { nEstimators: 1 }), RangeError);
  const x = noisy.train.x.slice();
  x[5] = NaN;
  assert.throws(() => trainForestHere({ ...noisy.train, x }, { nEstimators: 1 }), RangeError);
});
