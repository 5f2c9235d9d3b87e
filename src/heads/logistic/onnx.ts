/**
 * A softmax-linear head as ONNX: softmax(x·Wᵀ + b), or each label's sigmoid
 * for a multi-label fit, the predictor's own computation (./model.ts) with
 * the same float32 weights.
 */
import type { OnnxHeadExport } from '../head.js';
import type { LogisticArtifact } from './model.js';

export const logisticOnnx: OnnxHeadExport = (artifact, { graph: g, features, dim, classes, prefix }) => {
  const a = artifact as LogisticArtifact;
  if (a.format !== 'softmax-linear') throw new Error(`not a softmax-linear artifact: ${String(a.format)}`);
  if (a.dim !== dim || a.classes !== classes || a.weights.length !== classes * dim || a.bias.length !== classes) {
    throw new Error(`softmax-linear artifact of ${a.classes} × ${a.dim} weights for ${classes} labels of ${dim} features`);
  }
  // Stored classes × dim (a row per class); MatMul wants dim × classes.
  const wT = new Float32Array(dim * classes);
  for (let c = 0; c < classes; c++) for (let j = 0; j < dim; j++) wT[j * classes + c] = a.weights[c * dim + j]!;
  const logits = g.node('Add', [g.node('MatMul', [features, g.float(`${prefix}weights`, [dim, classes], wT)]), g.float(`${prefix}bias`, [classes], a.bias)]);
  return { probabilities: a.output === 'sigmoid' ? g.node('Sigmoid', [logits]) : g.node('Softmax', [logits], { axis: 1 }) };
};
