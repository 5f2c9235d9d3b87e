/** A prototype head as ONNX: softmax(scale · normalize(x) · Pᵀ + bias), the predictor's computation (./model.ts). */
import type { OnnxHeadExport } from '../head.js';
import type { PrototypeArtifact } from './model.js';

export const prototypeOnnx: OnnxHeadExport = (artifact, { graph: g, features, dim, classes, prefix }) => {
  const a = artifact as PrototypeArtifact;
  if (a.format !== 'prototype' || a.dim !== dim || a.classes !== classes)
    throw new Error(`prototype artifact of ${a.classes} × ${a.dim} for ${classes} × ${dim}`);
  const pT = new Float32Array(dim * classes);
  for (let c = 0; c < classes; c++) for (let j = 0; j < dim; j++) pT[j * classes + c] = a.scale * a.prototypes[c * dim + j]!;
  const unit = g.node('LpNormalization', [features], { axis: 1, p: 2 });
  const scaled = g.node('MatMul', [unit, g.float(`${prefix}prototypes`, [dim, classes], pT)]);
  const logits = a.bias ? g.node('Add', [scaled, g.float(`${prefix}bias`, [classes], Float32Array.from(a.bias))]) : scaled;
  return { probabilities: g.node('Softmax', [logits], { axis: 1 }) };
};
