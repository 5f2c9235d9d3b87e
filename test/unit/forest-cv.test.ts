/** Forest folds on a head pool: leaf labels tallied in tree order are the stored forest's labels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Dataset, takeRows } from '../../src/heads/dataset.js';
import { foldSplit, stratifiedFolds } from '../../src/heads/evaluation.js';
import { leafLabels, voteLeafLabels } from '../../src/heads/forest/cv.js';
import { forestParamsSchema } from '../../src/heads/forest/params.js';
import { resolveForestParams } from '../../src/heads/forest/params.js';
import { loadForestPredictor } from '../../src/heads/forest/predict.js';
import { trainTrees } from '../../src/heads/forest/train.js';
import { type forestOps, forestTrainer, growForestOnPool } from '../../src/heads/forest/trainer.js';
import { opsOn } from '../../src/heads/head.js';
import { TrainingPool } from '../../src/training/pool/pool.js';
import { trainForestHere } from '../helpers/forest.js';

function noisy(n: number, dim: number, classes: number): Dataset {
  let s = 17;
  const rand = () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let f = 0; f < dim; f++) x[i * dim + f] = (f % classes === y[i] ? 0.6 : 0) + rand();
    x[i * dim] = Math.round(x[i * dim]! * 2) / 2; // ties
  }
  return { x, n, dim, y, classes };
}

const data = noisy(300, 9, 4);
const splits = [0, 1, 2].map((f) => foldSplit(stratifiedFolds(data.y, data.classes, 3, 5), f));

test("leaf labels voted in tree order give the stored forest's labels, ties included", () => {
  const params = resolveForestParams({ nEstimators: 16, maxFeatures: 2, seed: 3 }, data.dim);
  const { train, test: held } = splits[0]!;
  const trees = trainTrees(takeRows(data, train), params, 0, params.nEstimators);
  const voted = voteLeafLabels(leafLabels(trees, data.x, data.dim, held), trees.length, held.length, data.classes);
  const heldOut = takeRows(data, held);
  const stored = loadForestPredictor(trainForestHere(takeRows(data, train), { nEstimators: 16, maxFeatures: 2, seed: 3 })).predictLabels(heldOut.x, heldOut.n);
  assert.deepEqual([...voted], [...stored]);
});

test('pooled forest folds and final fit equal single-thread forests', async () => {
  const pool = new TrainingPool(2);
  try {
    const params = { ...forestParamsSchema.parse({}), n_estimators: 12, max_features: 'log2' as const };
    const [outcome] = await forestTrainer.start({ pool, seed: 0, labels: [] }).crossValidate(data, splits, [params]);
    splits.forEach((split, s) => {
      const heldOut = takeRows(data, split.test);
      const expected = loadForestPredictor(trainForestHere(takeRows(data, split.train), { nEstimators: 12, maxFeatures: 'log2', seed: 42 })).predictLabels(
        heldOut.x,
        heldOut.n,
      );
      assert.deepEqual([...outcome!.predicted[s]!], [...expected], `split ${s}`);
    });
    const pooled = await growForestOnPool(opsOn<typeof forestOps>(pool, 'random_forest'), data, { nEstimators: 7, seed: 9 });
    assert.equal(JSON.stringify(pooled), JSON.stringify(trainForestHere(data, { nEstimators: 7, seed: 9 })));
  } finally {
    await pool.close();
  }
});

/** The best root split by brute force: feature and threshold maximising the Gini proxy Σ counts²/weight per side. */
function bestRootSplit(data: Dataset): { feature: number; threshold: number } {
  let best = { proxy: -Infinity, feature: -1, threshold: 0 };
  for (let f = 0; f < data.dim; f++) {
    const rows = Array.from({ length: data.n }, (_, i) => i).sort((a, b) => data.x[a * data.dim + f]! - data.x[b * data.dim + f]!);
    const left = new Array<number>(data.classes).fill(0);
    const right = new Array<number>(data.classes).fill(0);
    for (const r of rows) right[data.y[r]!]!++;
    for (let p = 0; p < rows.length - 1; p++) {
      left[data.y[rows[p]!]!]!++;
      right[data.y[rows[p]!]!]!--;
      const v = data.x[rows[p]! * data.dim + f]!;
      const next = data.x[rows[p + 1]! * data.dim + f]!;
      if (!(next > v)) continue;
      const sq = (c: number[]) => c.reduce((a, b) => a + b * b, 0);
      const proxy = sq(left) / (p + 1) + sq(right) / (rows.length - p - 1);
      if (proxy > best.proxy) best = { proxy, feature: f, threshold: (v + next) / 2 };
    }
  }
  return { feature: best.feature, threshold: best.threshold };
}

test('large nodes (radix-sorted) find the best split: values of both signs, ties, −0 and +0', () => {
  let s = 99;
  const rand = () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
  const n = 1500;
  const dim = 4;
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    x[i * dim] = (rand() - 0.5) * 1e-3 + (y[i] === 1 ? 1e-4 : 0); // tiny values of both signs
    x[i * dim + 1] = i % 7 === 0 ? -0 : Math.round((rand() - 0.5) * 8 + y[i]!) / 4; // ties, −0 and +0
    x[i * dim + 2] = -rand() * 1e6 - (y[i] === 2 ? 3e5 : 0); // large negatives
    x[i * dim + 3] = rand();
  }
  const big: Dataset = { x, y, n, dim, classes: 3 };
  const [tree] = trainTrees(big, resolveForestParams({ nEstimators: 1, maxFeatures: 1, bootstrap: false, seed: 1 }, dim), 0, 1);
  const root = { feature: tree!.feature[0]!, threshold: tree!.threshold[0]! };
  // maxFeatures 1 draws one feature: the root's split must be the best on that feature.
  const only: Dataset = { x: Float32Array.from({ length: n }, (_, i) => x[i * dim + root.feature]!), y, n, dim: 1, classes: 3 };
  assert.deepEqual(root, { ...bestRootSplit(only), feature: root.feature });
  const full = resolveForestParams({ nEstimators: 1, maxFeatures: dim, bootstrap: false, seed: 1 }, dim);
  const [allFeatures] = trainTrees(big, full, 0, 1);
  assert.deepEqual({ feature: allFeatures!.feature[0]!, threshold: allFeatures!.threshold[0]! }, bestRootSplit(big));
});
