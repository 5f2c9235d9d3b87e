/**
 * The `svm` head type: a C-SVC that trains like libsvm 3.22 (same solver,
 * one-vs-one layout and Platt probability estimates) and stores the standard
 * libsvm model text, which libsvm itself (and libsvm-js's SVM.load) reads.
 * This module is what serving loads; the training side is ./trainer.ts.
 */
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import type { HeadDefinition } from '../head.js';
import { checkWeightedLabels, labelRecord } from '../label-record.js';
import type { SvmModel } from './model.js';
import { parseModelText, writeModelText } from './model-text.js';
import { SvmPredictor } from './predict.js';

const positive = z.number().positive().finite();

export const svmParamsSchema = z
  .object({
    kernel: z.enum(['linear', 'rbf', 'poly']).default('rbf'),
    C: positive.max(1e6).default(10).describe('Penalty on margin violations.'),
    gamma: z
      .union([positive.max(1e6), z.enum(['scale', 'auto'])])
      .default('scale')
      .describe("Kernel width (rbf, poly): a number, 'scale' = 1/(dim·var(X)) or 'auto' = 1/dim."),
    degree: z.number().int().min(1).max(10).default(3).describe('Polynomial degree (poly).'),
    coef0: z.number().finite().min(-1e6).max(1e6).default(0).describe('Polynomial offset (poly).'),
    class_weight: z
      .union([z.literal('balanced'), labelRecord(positive.max(1e6))])
      .nullable()
      .default(null)
      .describe("Multiply C per label: 'balanced' (n / (labels × count)) or {label: weight}; for imbalanced labels."),
    tolerance: positive.max(1).default(1e-3).describe('Solver stopping tolerance.'),
  })
  .strict();

export type SvmHeadParams = z.output<typeof svmParamsSchema>;

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
