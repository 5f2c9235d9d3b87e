/**
 * C-SVC head compatible with libsvm: trains like libsvm 3.22 (same solver,
 * one-vs-one layout and probability estimates), and its artifact is the
 * standard libsvm model text, which libsvm-js's SVM.load() reads.
 *
 * Measured against libsvm-js 0.2.1 (wasm) on the same all-MiniLM-L6-v2
 * features (last layer, mean-pooled, L2-normalised, 384 dims), RBF, C = 10,
 * gamma = 'scale' (≈ 1.0 here), on the shared 2-core dev box with another
 * process holding one core; medians of 3 within one run (.tmp/bench*.mjs):
 *
 *   TREC (5,452 train / 500 test, 6 classes)   libsvm-js   ours    ours, 2 workers
 *     fit, no probability                       11.75 s     1.44 s  2.04 s
 *     fit, probability                          66.34 s     4.90 s  4.87 s
 *     test accuracy, votes                      95.0 %      95.0 %
 *     test accuracy, argmax probability         94.8 %      94.6 %  (CV shuffles differ)
 *
 *   Banking77 (10,003 train / 3,080 test, 77 classes, probability)
 *     fit                                       101.8 s     10.0 s
 *     test accuracy, votes                      93.25 %     93.08 %
 *     predictProba rows/s (6,378 SVs)           226         3,215
 *
 * scikit-learn on the same features: 95.0 % TREC, 93.1 % Banking77. (The
 * "2 workers" figures are of the earlier per-fit worker threads, measured
 * with the second core busy.) Training jobs now run every fit on one
 * job-wide pool with shared kernel matrices (./cv.ts, ./kernel-cache.ts);
 * `npm run bench:heads` measures the whole pipeline.
 */
import type { Dataset } from '../types.js';
import type { SvmModel } from './model.js';
import { parseModelText, writeModelText } from './model-text.js';
import { SvmPredictor } from './predict.js';
import { trainSvm } from './train.js';
import type { SvmParams } from './params.js';

export type { KernelType, KernelParams } from './kernel.js';
export type { SvmModel } from './model.js';
export { defaultSvmParams, resolveParams, type SvmParams, type ResolvedSvmParams } from './params.js';
export { SvmPredictor, type SvmPredictorOptions } from './predict.js';
export { parseModelText, writeModelText } from './model-text.js';
export {
  trainSvm,
  trainPairs,
  assembleModel,
  groupClasses,
  trainingKernel,
  type PairContext,
  type PairResult,
  type ClassGroups,
  type SvmTrainResult,
  type TrainOptions,
} from './train.js';
export { trainSvmParallel, trainSvmOnPool, type ParallelOptions } from './parallel.js';

/** The stored form of a trained SVM head. */
export interface SvmArtifact {
  format: 'libsvm';
  /** libsvm model text. */
  model: string;
  /** The task's class count (columns of predictProba); classes absent from training get probability 0. */
  classes: number;
}

export function svmArtifact(model: SvmModel, classes: number): SvmArtifact {
  return { format: 'libsvm', model: writeModelText(model), classes };
}

export function loadSvmPredictor(artifact: SvmArtifact, opts: { threads?: number } = {}): SvmPredictor {
  if (artifact.format !== 'libsvm') throw new Error(`not a libsvm artifact: ${String(artifact.format)}`);
  return new SvmPredictor(parseModelText(artifact.model), { classes: artifact.classes, ...opts });
}

/** Trains in the calling thread; returns the artifact and a predictor for it. */
export function trainSvmHead(data: Dataset, params: Partial<SvmParams> = {}): { artifact: SvmArtifact; predictor: SvmPredictor; iterations: number } {
  const { model, iterations } = trainSvm(data, params);
  return {
    artifact: svmArtifact(model, data.classes),
    predictor: new SvmPredictor(model, { classes: data.classes }),
    iterations,
  };
}
