/**
 * Training of the `logistic_regression` head on a job's worker pool: every
 * fit (a configuration on a split, or the final head) is one pool task;
 * a fold's task returns its held-out rows' predicted classes, scored through
 * the same softmax the stored head predicts with.
 */
import { type Dataset, sharedDataset } from '../dataset.js';
import { crossValidateFolds, predictHeldOut } from '../cross-validate.js';
import { type FoldPrediction, type HeadTrainer, opsOn } from '../head.js';
import { classWeightsByIndex } from '../class-weights.js';
import { type LogisticHeadParams, logisticParamsSchema } from './params.js';
import { type LogisticArtifact, LogisticPredictor } from './model.js';
import { fitLogistic } from './train.js';

interface FitArgs {
  data: Dataset;
  /** Rows to train on (null: all). */
  train: Int32Array | null;
  C: number;
  /** 'balanced', per-class weights (index = class), or none. */
  classWeight: 'balanced' | number[] | undefined;
  maxIter: number;
  tolerance: number;
}

function artifactOf(a: FitArgs): LogisticArtifact {
  const { w, b } = fitLogistic(a.data, a.train, { C: a.C, classWeight: a.classWeight, maxIter: a.maxIter, tolerance: a.tolerance });
  return {
    format: 'softmax-linear',
    classes: a.data.classes,
    dim: a.data.dim,
    weights: Array.from(w),
    bias: Array.from(b),
    ...(a.data.targets ? { output: 'sigmoid' as const } : {}),
  };
}

export const logisticOps = {
  fit: (a: FitArgs): LogisticArtifact => artifactOf(a),
  /** Trains on `train` and predicts each row of `test`: its class, or (multi-label) every label's probability. */
  foldPredict: (a: FitArgs & { test: Int32Array }): FoldPrediction => predictHeldOut(new LogisticPredictor(artifactOf(a)), a.data, a.test),
};

export const logisticTrainer: HeadTrainer<LogisticHeadParams> = {
  ops: logisticOps,
  start(job) {
    const pool = opsOn<typeof logisticOps>(job.pool, 'logistic_regression');
    const argsOf = (data: Dataset, train: Int32Array | null, p: LogisticHeadParams): FitArgs => ({
      data,
      train,
      C: p.C,
      classWeight: classWeightsByIndex(p.class_weight, job.labels),
      maxIter: p.max_iter,
      tolerance: p.tolerance,
    });
    return {
      grid() {
        const base = logisticParamsSchema.parse({});
        return [0.01, 0.1, 1, 10, 100].map((C) => ({ ...base, C }));
      },
      crossValidate: (data, splits, configs) =>
        crossValidateFolds(job, data, splits, configs, async (shared, split, params) => {
          const fold = await pool.run('foldPredict', { ...argsOf(shared, split.train, params), test: split.test });
          return { predicted: fold.result, ms: fold.ms };
        }),
      fit: async (data, params) => (await pool.run('fit', argsOf(sharedDataset(data), null, params))).result,
    };
  },
};
