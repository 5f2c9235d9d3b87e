/**
 * Cross-validation for heads whose folds are independent fits: every
 * configuration on every split at once (the pool runs them side by side), the
 * job told as each split of each configuration is done.
 */
import { type Dataset, sharedDataset } from './dataset.js';
import type { CvOutcome, FoldPrediction, JobContext } from './head.js';
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
