/**
 * Linear probing before fine-tuning: the classifier starts at logistic
 * regression (C = 1) on what the untouched stack feeds it, the model's last
 * hidden state mean-pooled over each text's real tokens, not normalised. A
 * classifier started at random spends the first epochs catching up with the
 * features, and moves the layers under it meanwhile (Kumar et al., 2022,
 * "Fine-Tuning can Distort Pretrained Features").
 */
import { fitLogistic } from '../../heads/logistic/train.js';

/** The regularisation of the probe: logistic regression's default. */
const PROBE_C = 1;

/** The probe's weights (classes × hidden) and biases on pooled features `x` of the training texts (labels as fineTune takes them). */
export function probeClassifier(
  x: Float32Array,
  hidden: number,
  labels: { classes: number; y: Int32Array } | { classes: number; targets: Uint8Array },
): { weights: Float32Array; bias: Float32Array } {
  const n = x.length / hidden;
  const data = {
    x,
    n,
    dim: hidden,
    classes: labels.classes,
    y: 'y' in labels ? labels.y : new Int32Array(n),
    ...('targets' in labels ? { targets: labels.targets } : {}),
  };
  const { w, b } = fitLogistic(data as never, null, { C: PROBE_C, classWeight: undefined, maxIter: 200, tolerance: 1e-4 });
  return { weights: Float32Array.from(w), bias: Float32Array.from(b) };
}
