/**
 * The `mlp` head type: a small neural network on the frozen encoder's
 * features (one or two ReLU hidden layers and a softmax output), the
 * "task-specific architecture on top of a pretrained model" of transfer
 * learning, trained by Adam with weight decay and early stopping. Seeded
 * and deterministic. Stored as plain JSON weights. This module is what
 * serving loads; the training side is ./trainer.ts.
 */
import type { HeadDefinition } from '../head.js';
import { type MlpArtifact, MlpPredictor } from './model.js';
import { type MlpHeadParams, mlpParamsSchema } from './params.js';

export const mlpHead: HeadDefinition<MlpHeadParams> = {
  type: 'mlp',
  description: 'A small neural network (one or two ReLU hidden layers) trained by Adam with weight decay and early stopping.',
  format: 'mlp',
  artifactDescription:
    'classes, dim, activation, output (softmax, or sigmoid on multi-label tasks), layers from input to output: {in, out, weights (out × in, row-major), bias}.',
  params: mlpParamsSchema,
  searchDescription: 'alpha ∈ {0.0001, 0.001, 0.01, 0.1}, every other parameter at its default (given params are not used)',
  // Not tried by `auto` unless named in its candidates, until bench:heads has measured it beside the others.
  auto: false,
  check() {},
  load: (artifact, options) => new MlpPredictor(artifact as MlpArtifact, options.threads ?? 1),
  multiLabel: 'native',
  trainer: async () => (await import('./trainer.js')).mlpTrainer,
  onnx: async () => (await import('./onnx.js')).mlpOnnx,
};
