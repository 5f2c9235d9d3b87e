/**
 * The `logistic_regression` head type: multinomial (softmax) logistic
 * regression with L2 regularisation, scikit-learn's objective and meaning of
 * C. Its prediction is one matrix product and a softmax, so it is the cheapest
 * head to serve, and its probabilities are the model's own (no calibration
 * step, unlike an SVM's Platt estimates). Stored as plain JSON weights. This
 * module is what serving loads; the training side is ./trainer.ts.
 */
import { DomainError } from '../../errors.js';
import type { HeadDefinition } from '../head.js';
import { checkWeightedLabels } from '../label-record.js';
import { type LogisticArtifact, LogisticPredictor } from './model.js';
import { type LogisticHeadParams, logisticParamsSchema } from './params.js';

export const logisticHead: HeadDefinition<LogisticHeadParams> = {
  type: 'logistic_regression',
  description: 'Multinomial logistic regression with an L2 penalty: one matrix product to predict, the cheapest head to serve.',
  format: 'softmax-linear',
  artifactDescription: 'classes, dim, weights (classes × dim, row-major), bias, output (softmax, or sigmoid on multi-label tasks).',
  params: logisticParamsSchema,
  searchDescription: 'C ∈ {0.01, 0.1, 1, 10, 100}, every other parameter at its default (given params are not used)',
  // Cheap to search (a fit is two matrix products per iteration), and the fastest predictor when it wins.
  auto: true,
  check(params, task) {
    if (task.kind === 'multi_label' && params.class_weight !== null)
      throw new DomainError(
        'invalid_params',
        'class_weight is for single-label tasks: every label of a multi-label task is fitted as its own yes/no',
        'class_weight',
      );
    checkWeightedLabels(params.class_weight, task.labels);
  },
  load: (artifact) => new LogisticPredictor(artifact as LogisticArtifact),
  multiLabel: 'native',
  trainer: async () => (await import('./trainer.js')).logisticTrainer,
  onnx: async () => (await import('./onnx.js')).logisticOnnx,
};
