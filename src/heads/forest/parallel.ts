/**
 * Forests grown on a head pool: each worker grows a contiguous range of
 * trees (tree i is seeded from (seed, i)), so the merged forest is
 * byte-identical to one grown on a single thread. Cross-validation folds
 * get per-tree leaf labels of their held-out rows back instead of trees.
 */
import type { Dataset } from '../types.js';
import { evenRanges, sharedDataset, type HeadPool } from '../pool/pool.js';
import type { FlatTree } from './cart.js';
import { voteLeafLabels } from './cv.js';
import type { ForestArtifact } from './model.js';
import { resolveForestParams, type ForestParams } from './params.js';
import { assembleForest } from './train.js';

export async function growForestOnPool(pool: HeadPool, data: Dataset, params: ForestParams): Promise<ForestArtifact> {
  const resolved = resolveForestParams(params, data.dim);
  const shared = sharedDataset(data);
  const parts = await Promise.all(
    evenRanges(resolved.nEstimators, pool.size).map(([from, to]) =>
      pool.run({ kind: 'forest-trees', data: shared, train: null, params: resolved, from, to, test: null }),
    ),
  );
  return assembleForest(
    parts.flatMap((p) => p.result as FlatTree[]),
    data,
    resolved,
  );
}

/**
 * Grows a forest on the rows `train` of `data` and predicts the rows `test`
 * (class indexes, as the stored forest would); `ms` is the workers' time.
 */
export async function forestFoldPredict(
  pool: HeadPool,
  data: Dataset,
  train: Int32Array,
  test: Int32Array,
  params: ForestParams,
): Promise<{ predicted: Int32Array; ms: number }> {
  const resolved = resolveForestParams(params, data.dim);
  const parts = await Promise.all(
    evenRanges(resolved.nEstimators, pool.size).map(([from, to]) => pool.run({ kind: 'forest-trees', data, train, params: resolved, from, to, test })),
  );
  // Ranges come back in tree order, each trees × test.length: together, the whole forest's leaf labels.
  const leaves = new Int32Array(resolved.nEstimators * test.length);
  let offset = 0;
  for (const p of parts) {
    const part = p.result as Int32Array;
    leaves.set(part, offset);
    offset += part.length;
  }
  return { predicted: voteLeafLabels(leaves, resolved.nEstimators, test.length, data.classes), ms: parts.reduce((s, p) => s + p.ms, 0) };
}
