/**
 * The MLP's computation as ONNX graphs, so its matrix products run in
 * onnxruntime's MLAS kernels rather than JavaScript loops (the products are
 * nearly all of an MLP's work):
 *
 * - forward: features → probabilities, through the hidden layers (ReLU) and
 *   a softmax output. The predictor builds it with the weights as
 *   initializers; training builds it with the weights as inputs, to score
 *   the early-stopping rows with the weights of the moment.
 * - step: one mini-batch's forward pass and the gradients of its loss by
 *   every weight and bias, the forward graph differentiated.
 *
 * Layer l maps `in` to `out` units: W_l is out × in (row-major), b_l has out
 * values, and z_l = a_{l−1}·W_lᵀ + b_l is one Gemm.
 */
import { differentiate } from '../../onnx/autodiff/index.js';
import { DT, GraphBuilder } from '../../onnx/graph.js';

export interface LayerShape {
  in: number;
  out: number;
}

export interface LayerWeights extends LayerShape {
  w: Float32Array;
  b: Float32Array;
}

export const weightName = (l: number) => `w${l}`;
export const biasName = (l: number) => `b${l}`;
export const weightGradName = (l: number) => `grad_w${l}`;
export const biasGradName = (l: number) => `grad_b${l}`;

/** The layer sizes [dim, ...hidden, classes] as layer shapes. */
export function layerShapes(sizes: readonly number[]): LayerShape[] {
  return sizes.slice(1).map((out, l) => ({ in: sizes[l]!, out }));
}

/** Declares each layer's weights: as graph inputs (training) or initializers holding `weights` (prediction). */
function declareWeights(g: GraphBuilder, layers: readonly LayerShape[] | readonly LayerWeights[]): void {
  layers.forEach((shape: LayerShape | LayerWeights, l) => {
    const layer = shape as Partial<LayerWeights> & LayerShape;
    if (layer.w && layer.b) {
      g.float(weightName(l), [layer.out, layer.in], layer.w);
      g.float(biasName(l), [layer.out], layer.b);
    } else {
      g.input(weightName(l), DT.FLOAT, [layer.out, layer.in]);
      g.input(biasName(l), DT.FLOAT, [layer.out]);
    }
  });
}

/** softmax: one label per row; sigmoid: every label its own probability (multi-label). */
export type MlpOutput = 'softmax' | 'sigmoid';

/** Adds the forward pass from `x`; returns every layer's pre-activation z_l (the last: the logits) and the probabilities. */
function forward(g: GraphBuilder, x: string, layers: number, output: MlpOutput) {
  const z: string[] = [];
  const a: string[] = [x];
  for (let l = 0; l < layers; l++) {
    z.push(g.node('Gemm', [a[l]!, weightName(l), biasName(l)], { transB: 1 }));
    if (l < layers - 1) a.push(g.node('Relu', [z[l]!]));
  }
  const p = output === 'softmax' ? g.node('Softmax', [z[layers - 1]!], { axis: 1 }) : g.node('Sigmoid', [z[layers - 1]!]);
  return { z, p };
}

/** features x [n, dim] → probabilities [n, classes]. */
export function forwardGraph(layers: readonly LayerShape[] | readonly LayerWeights[], output: MlpOutput): Uint8Array {
  const g = new GraphBuilder('mlp_forward', 13);
  const first = layers[0]!;
  const last = layers[layers.length - 1]!;
  const x = g.input('x', DT.FLOAT, ['n', first.in]);
  declareWeights(g, layers);
  g.output('probabilities', forward(g, x, layers.length, output).p, DT.FLOAT, ['n', last.out]);
  return g.encode('transferd');
}

/**
 * One mini-batch: inputs x [m, dim], t [m, classes] (each row's one-hot
 * label, or multi-hot labels, times its share of the batch's loss) and
 * s [m, 1] (that share), and the weights; outputs the probabilities and, for
 * every layer, the gradient of Σᵢ sᵢ · lossᵢ by its weights and bias, the
 * loss being softmax cross-entropy, or the sum of the labels' binary
 * cross-entropies for sigmoid outputs. The gradients are the forward graph's
 * and this loss's, differentiated (../../onnx/autodiff).
 */
export function stepGraph(layers: readonly LayerShape[], output: MlpOutput): Uint8Array {
  const g = new GraphBuilder('mlp_step', 13);
  const L = layers.length;
  const x = g.input('x', DT.FLOAT, ['m', layers[0]!.in]);
  const t = g.input('t', DT.FLOAT, ['m', layers[L - 1]!.out]);
  const s = g.input('s', DT.FLOAT, ['m', 1]);
  declareWeights(g, layers);
  const { z, p } = forward(g, x, L, output);
  g.output('probabilities', p, DT.FLOAT, ['m', layers[L - 1]!.out]);
  // Σᵢ sᵢ·normalizer(zᵢ) − Σᵢc tᵢc·zᵢc, the normalizer log Σ exp z (softmax) or each label's softplus (sigmoid):
  // with t = s × labels this is the weighted cross-entropy, and its derivative by the logits is s·p − t.
  const logits = z[L - 1]!;
  const normalizer = output === 'softmax' ? g.node('ReduceLogSumExp', [logits], { axes: [1], keepdims: 1 }) : g.node('Softplus', [logits]);
  const weighted = g.node('ReduceSum', [g.node('Mul', [s, normalizer])], { keepdims: 0 });
  const loss = g.node('Sub', [weighted, g.node('ReduceSum', [g.node('Mul', [t, logits])], { keepdims: 0 })]);
  const gradNames = new Map(layers.flatMap((_, l) => [[weightName(l), weightGradName(l)] as const, [biasName(l), biasGradName(l)] as const]));
  differentiate(g, { loss, wrt: [...gradNames.keys()], outputs: (w) => gradNames.get(w)! });
  return g.encode('transferd');
}
