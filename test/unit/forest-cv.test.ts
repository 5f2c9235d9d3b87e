/** Forest folds on a head pool: leaf labels tallied in tree order are the stored forest's labels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forestAdapter } from '../../src/heads/adapters.js';
import { foldSplit, stratifiedFolds } from '../../src/heads/evaluation.js';
import { leafLabels, voteLeafLabels } from '../../src/heads/forest/cv.js';
import { loadForestPredictor, resolveForestParams, trainForest, trainTrees } from '../../src/heads/forest/index.js';
import { growForestOnPool } from '../../src/heads/forest/parallel.js';
import { HeadPool } from '../../src/heads/pool/pool.js';
import { KernelCache } from '../../src/heads/svm/kernel-cache.js';
import { takeRows } from '../../src/heads/svm/cv.js';
import type { Dataset } from '../../src/heads/types.js';
import { forestParamsSchema } from '../../src/training/request.js';

function noisy(n: number, dim: number, classes: number): Dataset {
  let s = 17;
  const rand = () => ((s = (s * 48271) % 2147483647) / 2147483647);
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

test('leaf labels voted in tree order give the stored forest\'s labels, ties included', () => {
  const params = resolveForestParams({ nEstimators: 16, maxFeatures: 2, seed: 3 }, data.dim);
  const { train, test: held } = splits[0]!;
  const trees = trainTrees(takeRows(data, train), params, 0, params.nEstimators);
  const voted = voteLeafLabels(leafLabels(trees, data.x, data.dim, held), trees.length, held.length, data.classes);
  const heldOut = takeRows(data, held);
  const stored = loadForestPredictor(trainForest(takeRows(data, train), { nEstimators: 16, maxFeatures: 2, seed: 3 })).predictLabels(heldOut.x, heldOut.n);
  assert.deepEqual([...voted], [...stored]);
});

test('pooled forest folds and final fit equal single-thread forests', async () => {
  const pool = new HeadPool(2);
  try {
    const params = { ...forestParamsSchema.parse({}), n_estimators: 12, max_features: 'log2' as const };
    const [outcome] = await forestAdapter.crossValidate(data, splits, [params], { pool, kernels: new KernelCache(pool), seed: 0, labels: [] });
    splits.forEach((split, s) => {
      const heldOut = takeRows(data, split.test);
      const expected = loadForestPredictor(trainForest(takeRows(data, split.train), { nEstimators: 12, maxFeatures: 'log2', seed: 42 })).predictLabels(heldOut.x, heldOut.n);
      assert.deepEqual([...outcome!.predicted[s]!], [...expected], `split ${s}`);
    });
    const pooled = await growForestOnPool(pool, data, { nEstimators: 7, seed: 9 });
    assert.equal(JSON.stringify(pooled), JSON.stringify(trainForest(data, { nEstimators: 7, seed: 9 })));
  } finally {
    await pool.close();
  }
});
