/**
 * The `prototype` head type: a unit vector per label, probabilities by
 * softmax over scaled cosines (./model.ts). It is what zero-shot prediction
 * serves (prototypes from the labels' descriptions, src/serving/zero-shot.ts),
 * and, trained on examples, a nearest-centroid classifier: nothing to fit but
 * a mean per label, so it works from one example a label. This module is what
 * serving loads; the training side is ./trainer.ts.
 */
import type { HeadDefinition } from '../head.js';
import { type PrototypeArtifact, PrototypePredictor } from './model.js';
import { type PrototypeHeadParams, prototypeParamsSchema } from './params.js';

export const prototypeHead: HeadDefinition<PrototypeHeadParams> = {
  type: 'prototype',
  description: "A unit vector per label (the mean of its examples' features), probabilities by softmax over scaled cosines: works from one example a label.",
  format: 'prototype',
  artifactDescription:
    'classes, dim, prototypes (classes × dim, row-major, each row of unit length), scale (multiplies the cosines before the softmax), optionally bias (one per label, added after scaling: the log of a label prior).',
  params: prototypeParamsSchema,
  searchDescription: 'scale ∈ {10, 20, 50} (the same labels; only how sure the probabilities are)',
  auto: false,
  multiLabel: false,
  check() {},
  load: (artifact) => new PrototypePredictor(artifact as PrototypeArtifact),
  trainer: async () => (await import('./trainer.js')).prototypeTrainer,
  onnx: async () => (await import('./onnx.js')).prototypeOnnx,
};
