/** A trained SVM head as stored and loaded back: serving, training (one-vs-rest's label heads) and the ONNX export all read it. */
import type { SvmModel } from './model.js';
import { parseModelText, writeModelText } from './model-text.js';
import { SvmPredictor } from './predict.js';

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
