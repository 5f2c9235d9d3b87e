/**
 * The `random_forest` head type: CART trees grown as scikit-learn grows a
 * random forest's (Gini, a fresh random subset of features at every node,
 * bootstrap samples), stored as ml-random-forest 2.1's
 * `RandomForestClassifier#toJSON()`, which that library loads and predicts
 * from. This module is what serving loads; the training side is ./trainer.ts.
 */
import type { HeadDefinition } from '../head.js';
import type { ForestArtifact } from './model.js';
import { type ForestHeadParams, forestParams, forestParamsSchema, resolveForestParams } from './params.js';
import { loadForestPredictor } from './predict.js';

export const forestHead: HeadDefinition<ForestHeadParams> = {
  type: 'random_forest',
  description: 'A random forest of CART trees grown as scikit-learn grows them (Gini, random features at every split, bootstrap samples).',
  format: 'ml-random-forest',
  artifactDescription:
    "model (ml-random-forest 2.1's RandomForestClassifier JSON, which that library loads), classes, params (the resolved training parameters).",
  params: forestParamsSchema,
  searchDescription: "max_features ∈ {'sqrt', 'log2', 0.1}, every other parameter at its default (given params are not used)",
  auto: true,
  check(params, task) {
    // Resolving against the smallest feature dimension the job may use throws what cannot work there.
    resolveForestParams(forestParams(params), task.dim);
  },
  load: (artifact) => loadForestPredictor(artifact as ForestArtifact),
  multiLabel: 'one-vs-rest',
  trainer: async () => (await import('./trainer.js')).forestTrainer,
  onnx: async () => (await import('./onnx.js')).forestOnnx,
};
