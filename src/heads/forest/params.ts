/** The forest head's parameters: the API's form, and the training code's (scikit-learn's meanings). */
import { z } from 'zod';
import { DomainError } from '../../errors.js';

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

export type MaxFeatures = 'sqrt' | 'log2' | number;

export interface ForestParams {
  /** Number of trees. Default 100. */
  nEstimators?: number;
  /**
   * Candidate features drawn per split: 'sqrt' | 'log2' of the dimension, a
   * fraction in (0, 1], or an integer count ≥ 2. Like ml-random-forest, 1 is
   * read as the fraction 1.0 (every feature). Default 'sqrt'.
   */
  maxFeatures?: MaxFeatures;
  /** Deepest node depth (root = 0). Default unlimited. */
  maxDepth?: number | null;
  /** Nodes with fewer distinct rows are leaves. Default 2. */
  minSamplesSplit?: number;
  /** A split must leave at least this many distinct rows on each side. Default 1. */
  minSamplesLeaf?: number;
  /** Fit each tree on a bootstrap sample of the rows. Default true. */
  bootstrap?: boolean;
  /** 32-bit integer seed; the forest is a pure function of data, params and seed. Default 42. */
  seed?: number;
}

/** Parameters with defaults applied and maxFeatures turned into a count. */
export interface ResolvedForestParams {
  nEstimators: number;
  /** Candidate features per split, 1..dim. */
  maxFeatures: number;
  /** Infinity when unlimited. */
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  bootstrap: boolean;
  seed: number;
}

export function resolveForestParams(params: ForestParams, dim: number): ResolvedForestParams {
  const resolved: ResolvedForestParams = {
    nEstimators: params.nEstimators ?? 100,
    maxFeatures: featureCount(params.maxFeatures ?? 'sqrt', dim),
    maxDepth: params.maxDepth ?? Infinity,
    minSamplesSplit: params.minSamplesSplit ?? 2,
    minSamplesLeaf: params.minSamplesLeaf ?? 1,
    bootstrap: params.bootstrap ?? true,
    seed: params.seed ?? 42,
  };
  requireInteger('n_estimators', resolved.nEstimators, 1);
  if (resolved.maxDepth !== Infinity) requireInteger('max_depth', resolved.maxDepth, 0);
  requireInteger('min_samples_split', resolved.minSamplesSplit, 2);
  requireInteger('min_samples_leaf', resolved.minSamplesLeaf, 1);
  if (!Number.isInteger(resolved.seed)) throw new DomainError('invalid_params', `seed must be an integer, got ${resolved.seed}`, 'seed');
  resolved.seed |= 0;
  return resolved;
}

/** scikit-learn's rounding: floor, at least one feature. */
function featureCount(maxFeatures: MaxFeatures, dim: number): number {
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(dim)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(dim)));
  if (maxFeatures > 0 && maxFeatures <= 1) return Math.max(1, Math.floor(maxFeatures * dim));
  if (Number.isInteger(maxFeatures) && maxFeatures > 1 && maxFeatures <= dim) return maxFeatures;
  throw new DomainError(
    'invalid_params',
    `max_features must be 'sqrt', 'log2', a fraction in (0, 1] or an integer in 2..${dim} (the feature dimension); got ${maxFeatures}`,
    'max_features',
  );
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new DomainError('invalid_params', `${name} must be an integer ≥ ${min}, got ${value}`, name);
}
