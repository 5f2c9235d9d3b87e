/**
 * The `random_forest` head type: CART trees grown as scikit-learn grows a
 * random forest's (Gini, a fresh random subset of features at every node,
 * bootstrap samples), stored as ml-random-forest 2.1's
 * `RandomForestClassifier#toJSON()`, which that library loads and predicts
 * from. This module is what serving loads; the training side is ./trainer.ts.
 */
import { z } from 'zod';
import type { HeadDefinition } from '../head.js';
import type { ForestArtifact } from './model.js';
import { resolveForestParams } from './params.js';
import { loadForestPredictor } from './predict.js';

export const forestParamsSchema = z
  .object({
    n_estimators: z.number().int().min(1).max(2000).default(100).describe('Number of trees.'),
    max_features: z
      .union([z.enum(['sqrt', 'log2']), z.number().gt(0).lt(1), z.number().int().min(1)])
      .default('sqrt')
      .describe("Candidate features per split: 'sqrt', 'log2', a fraction in (0, 1) or a count (at most the feature dimension)."),
    max_depth: z.number().int().min(1).max(1000).nullable().default(null).describe('Deepest split level; null: unlimited.'),
    min_samples_split: z.number().int().min(2).default(2),
    min_samples_leaf: z.number().int().min(1).default(1),
    bootstrap: z.boolean().default(true).describe('Grow each tree on a bootstrap sample of the examples.'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
  })
  .strict();

export type ForestHeadParams = z.output<typeof forestParamsSchema>;

/** The API's parameters in the forest code's terms. */
export function forestParams(p: ForestHeadParams) {
  return {
    nEstimators: p.n_estimators,
    maxFeatures: p.max_features,
    maxDepth: p.max_depth,
    minSamplesSplit: p.min_samples_split,
    minSamplesLeaf: p.min_samples_leaf,
    bootstrap: p.bootstrap,
    seed: p.seed,
  };
}

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
