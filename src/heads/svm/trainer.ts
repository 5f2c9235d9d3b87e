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
import { loadSvmPredictor, type SvmArtifact, svmArtifact } from './artifact.js';
import { oneVsRest } from '../one-vs-rest.js';
import { KernelCache, kernelKey } from './kernel-cache.js';
import { pairList } from './model.js';
import { type SvmPool, svmOps } from './ops.js';
import { resolveParams, type SvmHeadParams, type SvmParams, svmParamsSchema } from './params.js';
import { assembleModel, groupClasses, type SvmTrainResult } from './train.js';

/** Pair chunks per worker: enough for balance, few enough that messages cost nothing. */
const CHUNKS_PER_WORKER = 8;

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
  start: (job) => oneVsRest(startSvmJob(job), job, (artifact) => loadSvmPredictor(artifact as SvmArtifact, { threads: 1 })),
};
