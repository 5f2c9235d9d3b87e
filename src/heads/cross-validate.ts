/**
 * Cross-validation for heads whose folds are independent fits: every
 * configuration on every split at once (the pool runs them side by side), the
 * job told as each split of each configuration is done.
 */
import { type Dataset, sharedDataset, takeRows } from './dataset.js';
import type { CvOutcome, FoldPrediction, JobContext, Predictor } from './head.js';
import { argmaxRows } from './evaluation.js';
import type { Split } from './evaluation.js';

export function crossValidateFolds<P>(
  job: JobContext,
  data: Dataset,
  splits: Split[],
  configs: P[],
  /** Fits `params` on the split's training rows and predicts its test rows; `ms` is the workers' time. */
  foldPredict: (shared: Dataset, split: Split, params: P) => Promise<{ predicted: FoldPrediction; ms: number }>,
): Promise<CvOutcome[]> {
  const shared = sharedDataset(data);
  return Promise.all(
    configs.map(async (params) => {
      const folds = await Promise.all(
        splits.map(async (split) => {
          const fold = await foldPredict(shared, split, params);
          job.onValidated?.();
          return fold;
        }),
      );
      return { predicted: folds.map((f) => f.predicted), ms: folds.reduce((s, f) => s + f.ms, 0) };
    }),
  );
}

/** What a fold reports of its held-out rows `test`: each row's class, or (a multi-label data set) every label's probability. */
export function predictHeldOut(predictor: Predictor, data: Dataset, test: Int32Array): FoldPrediction {
  const held = takeRows(data, test);
  const proba = predictor.predictProba(held.x, held.n);
  return data.targets ? proba : argmaxRows(proba, held.n, held.classes);
}
