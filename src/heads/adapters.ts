/**
 * One adapter per head type behind one interface: the grid a search tries,
 * a quick fit for cross-validation (no probability calibration), the final
 * fit that produces the stored artifact, and a predictor for an artifact.
 *
 * Artifacts are portable JSON: the libsvm model text, or ml-random-forest's
 * toJSON() — never code.
 */
import { loadForestPredictor, type ForestArtifact } from './forest/index.js';
import { trainForestParallel } from './forest/parallel.js';
import { loadSvmPredictor, SvmPredictor, svmArtifact, trainSvm, trainSvmParallel, type SvmArtifact, type SvmParams } from './svm/index.js';
import type { Dataset, Predictor } from './types.js';
import type { ForestHeadParams, HeadType, SvmHeadParams } from '../training/request.js';
import { forestParamsSchema, svmParamsSchema } from '../training/request.js';

export interface FitContext {
  /** Threads a single fit may spread over. */
  threads: number;
  seed: number;
  labels: string[];
}

export interface HeadAdapter<P> {
  readonly type: HeadType;
  /** Parameters tried by a search, in the API's form; `scale` is the data's default gamma, for grids that scale it. */
  grid(data: Dataset): P[];
  /** Trains without probability calibration and predicts the classes of `test` rows. */
  fitPredict(train: Dataset, test: Float32Array, nTest: number, params: P, ctx: FitContext): Promise<Int32Array>;
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

async function fitSvm(data: Dataset, p: SvmHeadParams, ctx: FitContext, probability: boolean) {
  const params = svmInternalParams(p, ctx, probability);
  return ctx.threads > 1 ? (await trainSvmParallel(data, params, { threads: ctx.threads })).model : trainSvm(data, params).model;
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
  async fitPredict(train, test, nTest, params, ctx) {
    const model = await fitSvm(train, params, ctx, false);
    return new SvmPredictor(model, { classes: train.classes }).predictLabels(test, nTest);
  },
  async fit(data, params, ctx) {
    return svmArtifact(await fitSvm(data, params, ctx, true), data.classes);
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
  async fitPredict(train, test, nTest, params, ctx) {
    return loadForestPredictor(await trainForestParallel(train, forestInternal(params), ctx.threads)).predictLabels(test, nTest);
  },
  async fit(data, params, ctx) {
    return trainForestParallel(data, forestInternal(params), ctx.threads);
  },
};

export const ADAPTERS: Record<HeadType, HeadAdapter<SvmHeadParams> | HeadAdapter<ForestHeadParams>> = {
  svm: svmAdapter,
  random_forest: forestAdapter,
};

/** A predictor for a stored artifact, whatever its head type. */
export function loadPredictor(artifact: unknown): Predictor {
  const a = artifact as { format?: string };
  if (a.format === 'libsvm') return loadSvmPredictor(artifact as SvmArtifact);
  if (a.format === 'ml-random-forest') return loadForestPredictor(artifact as ForestArtifact);
  throw new Error(`unknown artifact format ${String(a.format)}`);
}
