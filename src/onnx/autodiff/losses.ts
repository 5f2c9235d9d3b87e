/**
 * Losses written as graph nodes, from operators that have gradient rules,
 * so a training graph is the model, one of these, and `differentiate`.
 * Each is in the logits' float type and numerically stable for large logits
 * (log-softmax, softplus: no log of an underflowed probability).
 */
import { DT, type GraphBuilder } from '../graph.js';

/** A scalar constant of float type `type`. */
function constant(g: GraphBuilder, value: number, type: number): string {
  return type === DT.DOUBLE ? g.scalarDouble(value) : g.scalar(value);
}

/**
 * Mean over the rows of the cross-entropy of softmax(logits) against integer
 * labels: logits [n, classes], labels [n] (int64) → a scalar.
 */
export function softmaxCrossEntropy(g: GraphBuilder, logits: string, labels: string, classes: number, type: number = DT.FLOAT): string {
  const logProbabilities = g.node('LogSoftmax', [logits], { axis: -1 });
  const range = g.ints(Array.from({ length: classes }, (_, c) => c));
  const oneHot = g.node('Cast', [g.node('Equal', [g.node('Unsqueeze', [labels, g.ints([-1])]), range])], { to: type });
  const picked = g.node('ReduceSum', [g.node('Mul', [logProbabilities, oneHot]), g.ints([-1])], { keepdims: 0 });
  return g.node('Neg', [g.node('ReduceMean', [picked], { keepdims: 0 })]);
}

/**
 * Mean over the rows of the summed binary cross-entropies of sigmoid(logits)
 * against targets in [0, 1] (multi-label): logits and targets [n, labels] →
 * a scalar. Per label, softplus(z) − t·z, whose derivative is σ(z) − t.
 * (Softplus runs in fp32 only on onnxruntime's CPU.)
 */
export function sigmoidBinaryCrossEntropy(g: GraphBuilder, logits: string, targets: string): string {
  const each = g.node('Sub', [g.node('Softplus', [logits]), g.node('Mul', [targets, logits])]);
  return g.node('ReduceMean', [g.node('ReduceSum', [each, g.ints([-1])], { keepdims: 0 })], { keepdims: 0 });
}

/** coefficient/2 · Σ‖w‖² over `weights` (weight decay written into the loss). */
export function l2Penalty(g: GraphBuilder, weights: readonly string[], coefficient: number, type: number = DT.FLOAT): string {
  const squares = weights.map((w) => g.node('ReduceSumSquare', [w], { keepdims: 0 }));
  const sum = squares.length === 1 ? squares[0]! : g.node('Sum', squares);
  return g.node('Mul', [sum, constant(g, coefficient / 2, type)]);
}

/**
 * The supervised contrastive loss over a batch's embeddings [n, H] (Khosla et al., 2020, in-batch negatives as in
 * FastFit): each row's cosine similarities to the others over `temperature`, log-softmaxed over the row, summed
 * with the weights `positives` [n, n] (1 / (its positives · the rows that have any) where two rows share a label,
 * 0 elsewhere and on the diagonal), negated. `exclude` [n, n] holds a large negative number on the diagonal and 0
 * elsewhere, so a row is never its own negative.
 */
export function supervisedContrastive(
  g: GraphBuilder,
  embeddings: string,
  positives: string,
  exclude: string,
  temperature: number,
  type: number = DT.FLOAT,
): string {
  const squares = g.node('ReduceSum', [g.node('Mul', [embeddings, embeddings]), g.ints([-1])], { keepdims: 1 });
  const unit = g.node('Div', [embeddings, g.node('Sqrt', [g.node('Add', [squares, constant(g, 1e-12, type)])])]);
  const similarity = g.node('MatMul', [unit, g.node('Transpose', [unit], { perm: [1, 0] })]);
  const logits = g.node('Add', [g.node('Mul', [similarity, constant(g, 1 / temperature, type)]), exclude]);
  const logProbabilities = g.node('LogSoftmax', [logits], { axis: -1 });
  return g.node('Neg', [g.node('ReduceSum', [g.node('Mul', [positives, logProbabilities]), g.ints([0, 1])], { keepdims: 0 })]);
}
