/**
 * Training of the `svm` head on a job's worker pool: the grid a search tries,
 * cross-validation on kernel matrices shared by every fold and C of a job
 * (./kernel-cache.ts, ./cv.ts), and the final fit, whose one-vs-one pairs go
 * out in chunks, largest first, so that a slow pair never leaves the other
 * threads idle. Results do not depend on how work is spread: pairs are
 * independent and seeded by their index.
 */
import { type Dataset, sharedDataset } from '../dataset.js';
import type { CvOutcome, HeadJob, HeadTrainer, JobContext } from '../head.js';
import { opsOn } from '../head.js';
import { classWeightsByIndex } from '../class-weights.js';
import { foldPredict } from './cv.js';
import { type SvmArtifact, type SvmHeadParams, svmArtifact, svmHead, svmParamsSchema } from './index.js';
import { oneVsRest } from '../one-vs-rest.js';
import type { KernelParams } from './kernel-function.js';
import { FeatureKernel, gramRowsToKernel, MatrixKernel } from './kernel.js';
import { KernelCache, kernelKey } from './kernel-cache.js';
import { pairList } from './model.js';
import { type ResolvedSvmParams, resolveParams, type SvmParams } from './params.js';
import { assembleModel, type ClassGroups, groupClasses, trainPairs, type SvmTrainResult } from './train.js';

/** Pair chunks per worker: enough for balance, few enough that messages cost nothing. */
const CHUNKS_PER_WORKER = 8;

/** What the SVM's fits run on the pool's workers. Matrices travel as SharedArrayBuffer views, so a task copies none. */
export const svmOps = {
  /** Rows [from, to) of a Gram matrix (n × n) as kernel values, into `out`. */
  'kernel-rows'(a: { gram: Float32Array; out: Float32Array; n: number; sq: Float64Array; kernel: KernelParams; from: number; to: number }): null {
    gramRowsToKernel(a.gram, a.n, a.sq, a.kernel, a.from, a.to, a.out);
    return null;
  },
  /**
   * One cross-validation fold: train on `train`, predict `test`. `kernel` is
   * the data set's full kernel matrix for `params`, or null to compute kernel
   * values from the features (data sets too large to share a matrix).
   */
  fold(a: { data: Dataset; kernel: Float32Array | null; train: Int32Array; test: Int32Array; params: Partial<SvmParams> }): Int32Array {
    const { data } = a;
    const source = a.kernel ? new MatrixKernel(a.kernel, data.n) : new FeatureKernel(data.x, data.n, data.dim, resolveParams(data, a.params).kernel);
    return foldPredict(data, source, a.train, a.test, a.params);
  },
  /** One-vs-one pairs of a final fit on all of `data`; `kernel` as for `fold`. */
  pairs(a: { data: Dataset; kernel: Float32Array | null; groups: ClassGroups; params: ResolvedSvmParams; pairs: number[] }) {
    const { data } = a;
    const source = a.kernel ? new MatrixKernel(a.kernel, data.n) : new FeatureKernel(data.x, data.n, data.dim, a.params.kernel);
    return trainPairs({ groups: a.groups, params: a.params, kernel: source }, a.pairs);
  },
};

export type SvmPool = ReturnType<typeof opsOn<typeof svmOps>>;

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

function internalParams(p: SvmHeadParams, job: JobContext, probability: boolean): Partial<SvmParams> {
  const classWeight = classWeightsByIndex(p.class_weight, job.labels);
  return {
    kernel: p.kernel,
    C: p.C,
    gamma: p.gamma,
    degree: p.degree,
    coef0: p.coef0,
    tolerance: p.tolerance,
    probability,
    seed: job.seed,
    ...(classWeight ? { classWeight } : {}),
  };
}

/**
 * The internal parameters with gamma resolved to a number on all of `data`:
 * every fold of a configuration then shares one kernel matrix. (gamma='scale'
 * thus sees the held-out rows' feature variance, never their labels.)
 */
function fixedGamma(data: Dataset, p: SvmHeadParams, job: JobContext, probability: boolean): Partial<SvmParams> {
  const internal = internalParams(p, job, probability);
  return { ...internal, gamma: resolveParams(data, internal).kernel.gamma };
}

/** A final fit spread over the pool, the kernel matrix from `kernels`; identical to trainSvm's model. */
export async function trainSvmOnPool(pool: SvmPool, kernels: KernelCache, data: Dataset, given: Partial<SvmParams> = {}): Promise<SvmTrainResult> {
  const params = resolveParams(data, given);
  const groups = groupClasses(data.y, data.n, data.classes);
  const shared = sharedDataset(data);
  const kernel = await kernels.kernel(shared, params.kernel);
  // Largest pairs first (solver work grows about quadratically with size).
  const cost = pairList(groups.labels.length).map(([i, j]) => (groups.count[i]! + groups.count[j]!) ** 2);
  const order = cost.map((_, p) => p).sort((a, b) => cost[b]! - cost[a]!);
  const size = Math.max(1, Math.ceil(order.length / (pool.size * CHUNKS_PER_WORKER)));
  const chunks = Array.from({ length: Math.ceil(order.length / size) }, (_, c) => order.slice(c * size, (c + 1) * size));
  const results = await Promise.all(chunks.map((pairs) => pool.run('pairs', { data: shared, kernel, groups, params, pairs })));
  return assembleModel(
    data,
    groups,
    params,
    results.flatMap((r) => r.result),
  );
}

/** The SVM's work in one job; `kernels` defaults to a cache that shares matrices up to its row bound. */
export function startSvmJob(job: JobContext, kernels?: KernelCache): HeadJob<SvmHeadParams> {
  const pool = opsOn<typeof svmOps>(job.pool, 'svm');
  kernels ??= new KernelCache(pool);
  return {
    grid(data) {
      const base = svmParamsSchema.parse({});
      const scale = scaleGamma(data);
      const Cs = [0.1, 1, 10, 100];
      return [
        ...Cs.map((C) => ({ ...base, kernel: 'linear' as const, C })),
        ...Cs.flatMap((C) => [scale / 4, scale, 4 * scale].map((gamma) => ({ ...base, kernel: 'rbf' as const, C, gamma: Number(gamma.toPrecision(6)) }))),
      ];
    },
    async crossValidate(data, splits, configs) {
      const shared = sharedDataset(data);
      const internal = configs.map((p) => fixedGamma(shared, p, job, false));
      const outcomes: CvOutcome[] = configs.map(() => ({ predicted: splits.map(() => new Int32Array(0)), ms: 0 }));
      // One kernel matrix at a time; the configurations that share it run together, smallest C (fastest) first.
      const kernelOf = internal.map((p) => resolveParams(shared, p).kernel);
      const byKernel = new Map<string, number[]>();
      kernelOf.forEach((k, c) => {
        byKernel.set(kernelKey(k), [...(byKernel.get(kernelKey(k)) ?? []), c]);
      });
      for (const members of byKernel.values()) {
        const kernel = await kernels.kernel(shared, kernelOf[members[0]!]!);
        members.sort((a, b) => internal[a]!.C! - internal[b]!.C!);
        const units = members.flatMap((c) => splits.map((split, s) => ({ c, s, split })));
        await Promise.all(
          units.map(async ({ c, s, split }) => {
            const { result, ms } = await pool.run('fold', { data: shared, kernel, train: split.train, test: split.test, params: internal[c]! });
            outcomes[c]!.predicted[s] = result;
            outcomes[c]!.ms += ms;
            job.onValidated?.();
          }),
        );
      }
      return outcomes;
    },
    async fit(data, params): Promise<SvmArtifact> {
      const { model } = await trainSvmOnPool(pool, kernels, data, fixedGamma(data, params, job, true));
      return svmArtifact(model, data.classes);
    },
  };
}

export const svmTrainer: HeadTrainer<SvmHeadParams> = {
  ops: svmOps,
  start: (job) => oneVsRest(startSvmJob(job), job, (artifact) => svmHead.load(artifact, { threads: 1 })),
};
