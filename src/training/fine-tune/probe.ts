/**
 * Linear probing before fine-tuning: the classifier starts at logistic
 * regression (C = 1) on what the untouched stack feeds it, the model's last
 * hidden state mean-pooled over each text's real tokens, not normalised. A
 * classifier started at random spends the first epochs catching up with the
 * features, and moves the layers under it meanwhile (Kumar et al., 2022,
 * "Fine-Tuning can Distort Pretrained Features").
 */
import { decodeFloat16 } from '../../encoder/import/fp16.js';
import type { Binding } from 'onnxruntime-node/dist/binding.js';
import { fitLogistic } from '../../heads/logistic/train.js';
import { computeFrozenStates } from './frozen-states.js';

/** The regularisation of the probe: logistic regression's default. */
const PROBE_C = 1;

/** Each text's mean over its real tokens of `session`'s states (one row of `hidden` a text). */
export async function meanPooled(
  session: Binding.InferenceSession,
  ids: readonly (readonly number[])[],
  hidden: number,
  checkCancel?: () => void,
): Promise<Float32Array> {
  const states = await computeFrozenStates(session, ids, hidden, checkCancel ? { checkCancel } : {});
  try {
    const out = new Float32Array(ids.length * hidden);
    const longest = Math.max(1, ...states.lengths);
    const buf = new Uint16Array(longest * hidden);
    for (let i = 0; i < ids.length; i++) {
      const len = states.lengths[i]!;
      states.read(i, buf, 0);
      const values = decodeFloat16(new Uint8Array(buf.buffer, 0, len * hidden * 2));
      const row = out.subarray(i * hidden, (i + 1) * hidden);
      for (let t = 0; t < len; t++) for (let h = 0; h < hidden; h++) row[h]! += values[t * hidden + h]! / len;
    }
    return out;
  } finally {
    states.close();
  }
}

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
