/**
 * Training of the `random_forest` head on a job's worker pool: each worker
 * grows a contiguous range of trees (tree i is seeded from (seed, i)), so the
 * merged forest is byte-identical to one grown on a single thread.
 * Cross-validation folds get per-tree leaf labels of their held-out rows back
 * instead of trees, and vote them as the stored forest would.
 */
import { evenRanges } from '../../lib/ranges.js';
import { type Dataset, sharedDataset, takeRows } from '../dataset.js';
import { crossValidateFolds } from '../cross-validate.js';
import { type HeadJob, type HeadTrainer, type JobContext, opsOn } from '../head.js';
import type { FlatTree } from './cart.js';
import { leafLabels, voteLeafLabels } from './cv.js';
import { oneVsRest } from '../one-vs-rest.js';
import type { ForestArtifact } from './model.js';
import { type ForestHeadParams, type ForestParams, forestParams, forestParamsSchema, type ResolvedForestParams, resolveForestParams } from './params.js';
import { loadForestPredictor } from './predict.js';
import { assembleForest, trainTrees } from './train.js';

export const forestOps = {
  /**
   * Trees [from, to) of a forest grown on the rows `train` (null = all).
   * With `test`, the trees' leaf labels for those rows (trees × test.length) instead of the trees.
   */
  trees(a: {
    data: Dataset;
    train: Int32Array | null;
    params: ResolvedForestParams;
    from: number;
    to: number;
    test: Int32Array | null;
  }): FlatTree[] | Int32Array {
    const trees = trainTrees(a.train ? takeRows(a.data, a.train) : a.data, a.params, a.from, a.to);
    return a.test ? leafLabels(trees, a.data.x, a.data.dim, a.test) : trees;
  },
};

export type ForestPool = ReturnType<typeof opsOn<typeof forestOps>>;

/** A whole forest grown over the pool. */
export async function growForestOnPool(pool: ForestPool, data: Dataset, params: ForestParams): Promise<ForestArtifact> {
  const resolved = resolveForestParams(params, data.dim);
  const shared = sharedDataset(data);
  const parts = await Promise.all(
    evenRanges(resolved.nEstimators, pool.size).map(([from, to]) => pool.run('trees', { data: shared, train: null, params: resolved, from, to, test: null })),
  );
  return assembleForest(
    parts.flatMap((p) => p.result as FlatTree[]),
    data,
    resolved,
  );
}

/** Grows a forest on the rows `train` of `data` and predicts the rows `test` (as the stored forest would); `ms` is the workers' time. */
export async function forestFoldPredict(
  pool: ForestPool,
  data: Dataset,
  train: Int32Array,
  test: Int32Array,
  params: ForestParams,
): Promise<{ predicted: Int32Array; ms: number }> {
  const resolved = resolveForestParams(params, data.dim);
  const parts = await Promise.all(
    evenRanges(resolved.nEstimators, pool.size).map(([from, to]) => pool.run('trees', { data, train, params: resolved, from, to, test })),
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

export const forestTrainer: HeadTrainer<ForestHeadParams> = {
  ops: forestOps,
  start(job) {
    const pool = opsOn<typeof forestOps>(job.pool, 'random_forest');
    return oneVsRest<ForestHeadParams>(startForest(job, pool), job, (artifact) => loadForestPredictor(artifact as ForestArtifact));
  },
};

function startForest(job: JobContext, pool: ReturnType<typeof opsOn<typeof forestOps>>): HeadJob<ForestHeadParams> {
  return {
    grid() {
      const base = forestParamsSchema.parse({});
      return (['sqrt', 'log2', 0.1] as const).map((max_features) => ({ ...base, max_features }));
    },
    crossValidate: (data, splits, configs) =>
      crossValidateFolds(job, data, splits, configs, (shared, split, params) => forestFoldPredict(pool, shared, split.train, split.test, forestParams(params))),
    fit: (data, params) => growForestOnPool(pool, data, forestParams(params)),
  };
}
