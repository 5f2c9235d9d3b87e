/**
 * One adapter per head type behind one interface: the grid a search tries,
 * a quick fit for cross-validation (no probability calibration), the final
 * fit that produces the stored artifact, and a predictor for an artifact.
 *
 * Artifacts are portable JSON: the libsvm model text, or ml-random-forest's
 * toJSON() — never code.
 */
import type { Split } from './evaluation.js';
import { loadForestPredictor, type ForestArtifact } from './forest/index.js';
import { forestFoldPredict, growForestOnPool } from './forest/parallel.js';
import { sharedDataset, type HeadPool } from './pool/pool.js';
import { type KernelCache, kernelKey } from './svm/kernel-cache.js';
import { loadSvmPredictor, resolveParams, svmArtifact, trainSvmOnPool, type SvmArtifact, type SvmParams } from './svm/index.js';
import type { Dataset, Predictor } from './types.js';
import type { ForestHeadParams, HeadType, SvmHeadParams } from '../training/request.js';
import { forestParamsSchema, svmParamsSchema } from '../training/request.js';

export interface FitContext {
  /** The job's worker threads: every fit runs there. */
  pool: HeadPool;
  /** Kernel matrices shared by the SVM fits on one data set. */
  kernels: KernelCache;
  seed: number;
  labels: string[];
  /** Called as each configuration finishes a split; may throw to stop (cancellation). */
  onValidated?: () => void;
}

/** A configuration's cross-validation: predictions of each split's test rows, in the split's order. */
export interface CvOutcome {
  predicted: Int32Array[];
  /** Worker time spent on the configuration's fits (they run concurrently, so not wall time). */
  ms: number;
}

export interface HeadAdapter<P> {
  readonly type: HeadType;
  /** Parameters tried by a search, in the API's form; `scale` is the data's default gamma, for grids that scale it. */
  grid(data: Dataset): P[];
  /**
   * Trains each configuration on each split's training rows, without
   * probability calibration, and predicts its test rows. Configurations and
   * splits run concurrently on the pool; results do not depend on the order.
   */
  crossValidate(data: Dataset, splits: Split[], configs: P[], ctx: FitContext): Promise<CvOutcome[]>;
  /** Trains the head that is stored and served. */
  fit(data: Dataset, params: P, ctx: FitContext): Promise<unknown>;
}

/** scikit-learn's gamma='scale': 1 / (dim · variance of all feature values). */
export function scaleGamma(data: Dataset): number {
  const m = data.n * data.dim;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < m; i++) {
    const v = data.x[i]!;
    sum += v;
    sq += v * v;
  }
  const variance = sq / m - (sum / m) ** 2;
  return variance > 0 ? 1 / (data.dim * variance) : 1;
}

function svmInternalParams(p: SvmHeadParams, ctx: FitContext, probability: boolean): Partial<SvmParams> {
  const weights = p.class_weight;
  return {
    kernel: p.kernel,
    C: p.C,
    gamma: p.gamma,
    degree: p.degree,
    coef0: p.coef0,
    tolerance: p.tolerance,
    probability,
    seed: ctx.seed,
    ...(weights === 'balanced' ? { classWeight: 'balanced' as const } : weights ? { classWeight: ctx.labels.map((l) => weights[l] ?? 1) } : {}),
  };
}

/**
 * The internal parameters with gamma resolved to a number on all of `data`:
 * every fold of a configuration then shares one kernel matrix. (gamma='scale'
 * thus sees the held-out rows' feature variance, never their labels.)
 */
function svmFixedGamma(data: Dataset, p: SvmHeadParams, ctx: FitContext, probability: boolean): Partial<SvmParams> {
  const internal = svmInternalParams(p, ctx, probability);
  return { ...internal, gamma: resolveParams(data, internal).kernel.gamma };
}

export const svmAdapter: HeadAdapter<SvmHeadParams> = {
  type: 'svm',
  grid(data) {
    const base = svmParamsSchema.parse({});
    const scale = scaleGamma(data);
    const Cs = [0.1, 1, 10, 100];
    return [
      ...Cs.map((C) => ({ ...base, kernel: 'linear' as const, C })),
      ...Cs.flatMap((C) => [scale / 4, scale, 4 * scale].map((gamma) => ({ ...base, kernel: 'rbf' as const, C, gamma: Number(gamma.toPrecision(6)) }))),
    ];
  },
  async crossValidate(data, splits, configs, ctx) {
    const shared = sharedDataset(data);
    const internal = configs.map((p) => svmFixedGamma(shared, p, ctx, false));
    const outcomes: CvOutcome[] = configs.map(() => ({ predicted: splits.map(() => new Int32Array(0)), ms: 0 }));
    // One kernel matrix at a time; the configurations that share it run together, smallest C (fastest) first.
    const kernelOf = internal.map((p) => resolveParams(shared, p).kernel);
    const byKernel = new Map<string, number[]>();
    kernelOf.forEach((k, c) => byKernel.set(kernelKey(k), [...(byKernel.get(kernelKey(k)) ?? []), c]));
    for (const members of byKernel.values()) {
      const kernel = await ctx.kernels.kernel(shared, kernelOf[members[0]!]!);
      members.sort((a, b) => internal[a]!.C! - internal[b]!.C!);
      const units = members.flatMap((c) => splits.map((split, s) => ({ c, s, split })));
      await Promise.all(
        units.map(async ({ c, s, split }) => {
          const { result, ms } = await ctx.pool.run({ kind: 'svm-fold', data: shared, kernel, train: split.train, test: split.test, params: internal[c]! });
          outcomes[c]!.predicted[s] = result;
          outcomes[c]!.ms += ms;
          ctx.onValidated?.();
        }),
      );
    }
    return outcomes;
  },
  async fit(data, params, ctx) {
    const { model } = await trainSvmOnPool(ctx.pool, ctx.kernels, data, svmFixedGamma(data, params, ctx, true));
    return svmArtifact(model, data.classes);
  },
};
function forestInternal(p: ForestHeadParams) {
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

export const forestAdapter: HeadAdapter<ForestHeadParams> = {
  type: 'random_forest',
  grid() {
    const base = forestParamsSchema.parse({});
    return (['sqrt', 'log2', 0.1] as const).map((max_features) => ({ ...base, max_features }));
  },
  async crossValidate(data, splits, configs, ctx) {
    const shared = sharedDataset(data);
    return Promise.all(
      configs.map(async (params) => {
        const folds = await Promise.all(
          splits.map(async (split) => {
            const fold = await forestFoldPredict(ctx.pool, shared, split.train, split.test, forestInternal(params));
            ctx.onValidated?.();
            return fold;
          }),
        );
        return { predicted: folds.map((f) => f.predicted), ms: folds.reduce((s, f) => s + f.ms, 0) };
      }),
    );
  },
  async fit(data, params, ctx) {
    return growForestOnPool(ctx.pool, data, forestInternal(params));
  },
};

export const ADAPTERS: Record<HeadType, HeadAdapter<SvmHeadParams> | HeadAdapter<ForestHeadParams>> = {
  svm: svmAdapter,
  random_forest: forestAdapter,
};

/**
 * A predictor for a stored artifact, whatever its head type. `threads`:
 * onnxruntime threads of an SVM's kernel products (default one per core).
 */
export function loadPredictor(artifact: unknown, opts: { threads?: number } = {}): Predictor {
  const a = artifact as { format?: string };
  if (a.format === 'libsvm') return loadSvmPredictor(artifact as SvmArtifact, opts);
  if (a.format === 'ml-random-forest') return loadForestPredictor(artifact as ForestArtifact);
  throw new Error(`unknown artifact format ${String(a.format)}`);
}
