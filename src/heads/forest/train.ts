/**
 * Forest training. Tree i is a pure function of the data, the parameters and
 * (seed, i), so callers may grow disjoint ranges of trees in worker threads
 * and concatenate them in index order: the forest is the same either way.
 */
import type { Dataset } from '../dataset.js';
import { TreeBuilder, toColumns, type FlatTree } from './cart.js';
import { toTreeJSON, treeOptions, type ForestArtifact } from './model.js';
import type { ResolvedForestParams } from './params.js';
import { Rng, treeSeed } from '../rng.js';

/** Grows trees from .. to − 1 of the forest described by `params`. */
export function trainTrees(data: Dataset, params: ResolvedForestParams, from: number, to: number): FlatTree[] {
  checkLabels(data);
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= params.nEstimators)) {
    throw new RangeError(`tree range ${from}..${to} is outside 0..${params.nEstimators}`);
  }
  const builder = new TreeBuilder(toColumns(data), params);
  const trees: FlatTree[] = [];
  for (let i = from; i < to; i++) trees.push(builder.grow(new Rng(treeSeed(params.seed, i))));
  return trees;
}

/** Wraps all of a forest's trees, in index order, as an ml-random-forest model. */
export function assembleForest(trees: FlatTree[], shape: { dim: number; classes: number }, params: ResolvedForestParams): ForestArtifact {
  if (trees.length !== params.nEstimators) {
    throw new RangeError(`expected ${params.nEstimators} trees, got ${trees.length}`);
  }
  const options = treeOptions(params);
  return {
    format: 'ml-random-forest',
    classes: shape.classes,
    params: { ...params, maxDepth: params.maxDepth === Infinity ? null : params.maxDepth },
    model: {
      baseModel: {
        // Every tree sees every column; feature sampling happens per node.
        indexes: trees.map(() => Array.from({ length: shape.dim }, (_, f) => f)),
        n: shape.dim,
        replacement: false,
        maxFeatures: 1,
        nEstimators: trees.length,
        treeOptions: options,
        isClassifier: true,
        seed: params.seed,
        estimators: trees.map((tree) => toTreeJSON(tree, options)),
        useSampleBagging: params.bootstrap,
      },
      name: 'RFClassifier',
    },
  };
}

function checkLabels(data: Dataset): void {
  if (data.n < 1 || data.x.length !== data.n * data.dim || data.y.length !== data.n) {
    throw new RangeError('dataset shape does not match n × dim features and n labels');
  }
  for (let i = 0; i < data.n; i++) {
    const label = data.y[i]!;
    if (!(label >= 0 && label < data.classes)) throw new RangeError(`label ${label} of row ${i} is outside 0..${data.classes - 1}`);
  }
}
