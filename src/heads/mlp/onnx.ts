/**
 * An MLP head as ONNX: its forward pass (./graph.ts) with the stored float32
 * weights: Gemm and ReLU per hidden layer, then softmax, or each label's
 * sigmoid for a multi-label fit.
 */
import type { OnnxHeadExport } from '../head.js';
import { type MlpArtifact, layerWeightsOf } from './model.js';

export const mlpOnnx: OnnxHeadExport = (artifact, { graph: g, features, dim, classes, prefix }) => {
  const a = artifact as MlpArtifact;
  const layers = layerWeightsOf(a);
  if (a.dim !== dim || a.classes !== classes) throw new Error(`mlp artifact of ${a.dim} features and ${a.classes} classes for ${dim} and ${classes}`);
  let x = features;
  layers.forEach((layer, l) => {
    const w = g.float(`${prefix}w${l}`, [layer.out, layer.in], layer.w);
    const z = g.node('Gemm', [x, w, g.float(`${prefix}b${l}`, [layer.out], layer.b)], { transB: 1 });
    x = l < layers.length - 1 ? g.node('Relu', [z]) : z;
  });
  return { probabilities: (a.output ?? 'softmax') === 'softmax' ? g.node('Softmax', [x], { axis: 1 }) : g.node('Sigmoid', [x]) };
};
