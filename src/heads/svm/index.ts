/**
 * C-SVC head compatible with libsvm: trains like libsvm 3.22 (same solver,
 * one-vs-one layout and probability estimates), and its artifact is the
 * standard libsvm model text, which libsvm-js's SVM.load() reads.
 *
 * Measured: see the figures at the end of this comment.
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
export { trainSvmParallel, type ParallelOptions } from './parallel.js';

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

export function loadSvmPredictor(artifact: SvmArtifact): SvmPredictor {
  if (artifact.format !== 'libsvm') throw new Error(`not a libsvm artifact: ${String(artifact.format)}`);
  return new SvmPredictor(parseModelText(artifact.model), { classes: artifact.classes });
}

/** Trains in the calling thread; returns the artifact and a predictor for it. */
export function trainSvmHead(
  data: Dataset,
  params: Partial<SvmParams> = {},
): { artifact: SvmArtifact; predictor: SvmPredictor; iterations: number } {
  const { model, iterations } = trainSvm(data, params);
  return {
    artifact: svmArtifact(model, data.classes),
    predictor: new SvmPredictor(model, { classes: data.classes }),
    iterations,
  };
}
