/**
 * The `svm` head type: a C-SVC that trains like libsvm 3.22 (same solver,
 * one-vs-one layout and Platt probability estimates) and stores the standard
 * libsvm model text, which libsvm itself (and libsvm-js's SVM.load) reads.
 * This module is what serving loads; the training side is ./trainer.ts.
 */
import { DomainError } from '../../errors.js';
import type { HeadDefinition } from '../head.js';
import { checkWeightedLabels } from '../label-record.js';
import { loadSvmPredictor, type SvmArtifact } from './artifact.js';
import { type SvmHeadParams, svmParamsSchema } from './params.js';

export const svmHead: HeadDefinition<SvmHeadParams> = {
  type: 'svm',
  description: 'A support vector machine (linear, RBF or polynomial kernel) as libsvm trains it, with Platt-calibrated probabilities.',
  format: 'libsvm',
  artifactDescription: 'model (the libsvm model text, which libsvm and libsvm-js load), classes.',
  params: svmParamsSchema,
  searchDescription:
    'linear with C ∈ {0.1, 1, 10, 100}, and RBF with C ∈ {0.1, 1, 10, 100} × gamma ∈ {scale/4, scale, 4·scale} (poly is not tried), every other parameter at its default (given params are not used)',
  auto: true,
  check(params, task) {
    if (task.kind === 'multi_label' && params.class_weight !== null && params.class_weight !== 'balanced')
      throw new DomainError(
        'invalid_params',
        "on a multi-label task each label is a yes/no problem of its own: class_weight may only be 'balanced'",
        'class_weight',
      );
    checkWeightedLabels(params.class_weight, task.labels);
  },
  load: (artifact, options) => loadSvmPredictor(artifact as SvmArtifact, options),
  multiLabel: 'one-vs-rest',
  trainer: async () => (await import('./trainer.js')).svmTrainer,
  onnx: async () => (await import('./onnx.js')).svmOnnx,
};
