/**
 * An SVM head as ONNX, computing what the predictor (./predict.ts) computes,
 * in the same precision at each step:
 *
 *   partial sums      float32, the predictor's own graph (./predict-graph.ts)
 *   decision values   float64: P_i[j−1] + P_j[i] − ρ per pair
 *   Platt sigmoids    float64, clamped into [1e−7, 1 − 1e−7]
 *   coupling          float64: libsvm's fixed-point iteration (./probability.ts)
 *                     as a Loop, each row stopping when its own error is
 *                     below 0.005/k, as the predictor's rows do
 *   model classes → the task's classes (absent ones 0), then float32.
 *
 * Not ai.onnx.ml's SVMClassifier: for two classes it couples by the
 * iteration where libsvm and the predictor take the sigmoid itself, and it
 * runs in float32 with a fixed number of sweeps, so its probabilities drift
 * from the service's (docs/export.md). One graph that computes what the
 * predictor computes, for any class count, is simpler than two.
 */
import { DT, type GraphBuilder } from '../../onnx/graph.js';
import type { OnnxHeadExport } from '../head.js';
import type { SvmArtifact } from './artifact.js';
import { pairList, type SvmModel } from './model.js';
import { parseModelText } from './model-text.js';
import { classBlocks } from './predict.js';
import { partialSumNodes } from './predict-graph.js';

/** libsvm clamps pairwise probabilities into [1e−7, 1 − 1e−7] before coupling. */
const MIN_PROB = 1e-7;

export const svmOnnx: OnnxHeadExport = (artifact, { graph: g, features, dim, classes, prefix }) => {
  const a = artifact as SvmArtifact;
  if (a.format !== 'libsvm') throw new Error(`not a libsvm artifact: ${String(a.format)}`);
  const model = parseModelText(a.model);
  if (model.dim > dim) throw new Error(`SVM model uses feature ${model.dim} of ${dim}`);
  if (model.labels.some((l) => l < 0 || l >= classes)) throw new Error(`SVM model has labels beyond 0..${classes - 1}`);
  const k = model.labels.length;
  let p: string;
  if (k < 2) p = g.node('Expand', [g.scalarDouble(1), rowsBy(g, features, 1)]);
  else {
    const dec = decisionValues(g, model, features, dim, prefix);
    p = model.probA && model.probB ? coupled(g, dec, model, prefix) : voted(g, dec, k, prefix);
  }
  return { probabilities: g.node('Cast', [toClasses(g, p, model.labels, classes, prefix)], { to: DT.FLOAT }) };
};

/** The shape [rows of x, n]. */
function rowsBy(g: GraphBuilder, x: string, n: number): string {
  return g.node('Concat', [g.node('Slice', [g.node('Shape', [x]), g.ints([0]), g.ints([1])]), g.ints([n])], { axis: 0 });
}

/** [rows, pairs] float64 decision values, pairs in libsvm's order. */
function decisionValues(g: GraphBuilder, model: SvmModel, x: string, dim: number, prefix: string): string {
  const k = model.labels.length;
  const part = g.node('Cast', [partialSumNodes(g, model.kernel, x, classBlocks(model, dim), dim, prefix)], { to: DT.DOUBLE });
  const pairs = pairList(k);
  const first = g.int64(
    `${prefix}pair_first`,
    [pairs.length],
    pairs.map(([i, j]) => i * (k - 1) + j - 1),
  );
  const second = g.int64(
    `${prefix}pair_second`,
    [pairs.length],
    pairs.map(([i, j]) => j * (k - 1) + i),
  );
  const sum = g.node('Add', [g.node('Gather', [part, first], { axis: 1 }), g.node('Gather', [part, second], { axis: 1 })]);
  return g.node('Sub', [sum, g.double(`${prefix}rho`, [pairs.length], model.rho)]);
}

/** One-vs-one voting: the model class with the most votes (ties: the lower) gets 1, as the predictor without Platt sigmoids. */
function voted(g: GraphBuilder, dec: string, k: number, prefix: string): string {
  const pairs = pairList(k);
  const range = g.int64(
    `${prefix}model_classes`,
    [k],
    Array.from({ length: k }, (_, c) => c),
  );
  const winners = g.node('Where', [
    g.node('Greater', [dec, g.scalarDouble(0)]),
    g.int64(
      `${prefix}pair_i`,
      [pairs.length],
      pairs.map(([i]) => i),
    ),
    g.int64(
      `${prefix}pair_j`,
      [pairs.length],
      pairs.map(([, j]) => j),
    ),
  ]);
  const ballots = g.node('Cast', [g.node('Equal', [g.node('Unsqueeze', [winners, g.ints([2])]), range])], { to: DT.DOUBLE });
  const votes = g.node('ReduceSum', [ballots, g.ints([1])], { keepdims: 0 });
  const best = g.node('ArgMax', [votes], { axis: 1, keepdims: 1 });
  return g.node('Cast', [g.node('Equal', [best, range])], { to: DT.DOUBLE });
}

/** [rows, k] float64 class probabilities: Platt sigmoids of the decision values, coupled. */
function coupled(g: GraphBuilder, dec: string, model: SvmModel, prefix: string): string {
  const k = model.labels.length;
  const pairs = pairList(k).length;
  const one = g.scalarDouble(1);
  // sigmoidPredict: both branches avoid cancellation, as the predictor's; Where keeps the one it would take.
  const fApB = g.node('Add', [g.node('Mul', [dec, g.double(`${prefix}prob_a`, [pairs], model.probA!)]), g.double(`${prefix}prob_b`, [pairs], model.probB!)]);
  const e = g.node('Exp', [g.node('Neg', [fApB])]);
  const sigmoid = g.node('Where', [
    g.node('GreaterOrEqual', [fApB, g.scalarDouble(0)]),
    g.node('Div', [e, g.node('Add', [one, e])]),
    g.node('Div', [one, g.node('Add', [one, g.node('Exp', [fApB])])]),
  ]);
  const pr = g.node('Min', [g.node('Max', [sigmoid, g.scalarDouble(MIN_PROB)]), g.scalarDouble(1 - MIN_PROB)]);
  const complement = g.node('Sub', [one, pr]);
  if (k === 2) return g.node('Concat', [pr, complement], { axis: 1 });

  // r (k × k per row): r[i][j] = P(i | i or j) from pair (i, j)'s sigmoid, r[j][i] its complement, 0 on the diagonal.
  const zero = g.node('Mul', [g.node('Slice', [pr, g.ints([0]), g.ints([1]), g.ints([1])]), g.scalarDouble(0)]);
  const pairOf = new Map(pairList(k).map(([i, j], q) => [i * k + j, q]));
  const cells = Array.from({ length: k * k }, (_, c) => {
    const [i, j] = [Math.floor(c / k), c % k];
    return i === j ? 2 * pairs : i < j ? pairOf.get(c)! : pairs + pairOf.get(j * k + i)!;
  });
  const rFlat = g.node('Gather', [g.node('Concat', [pr, complement, zero], { axis: 1 }), g.int64(`${prefix}coupling_cells`, [k * k], cells)], {
    axis: 1,
  });
  const R = g.node('Reshape', [rFlat, g.ints([0, k, k])]);
  const RT = g.node('Transpose', [R], { perm: [0, 2, 1] });
  // Q[t][j] = −r[j][t]·r[t][j] off the diagonal, Q[t][t] = Σ_j r[j][t]².
  const diag = g.node('ReduceSum', [g.node('Mul', [RT, RT]), g.ints([2])], { keepdims: 0 });
  const eye = g.node('Cast', [g.int64(`${prefix}coupling_eye`, [k, k], identity(k))], { to: DT.BOOL });
  const Q = g.node('Where', [eye, g.node('Unsqueeze', [diag, g.ints([2])]), g.node('Neg', [g.node('Mul', [RT, R])])]);

  const start = g.node('Expand', [g.scalarDouble(1 / k), g.node('Shape', [diag])]);
  const body = sweep(g.subgraph('coupling_sweep'), Q, diag, k, prefix);
  return g.node('Loop', [g.int(Math.max(100, k)), '', start], { body: { graph: body } });
}

/**
 * One sweep of the predictor's multiclassProbability over every row at
 * once, as a Loop body (iteration, condition, p → condition, p). A row whose
 * error is already below 0.005/k keeps its p, as the predictor's row stops
 * there; the loop goes on while any row has not stopped.
 */
function sweep(b: GraphBuilder, Q: string, diag: string, k: number, prefix: string) {
  b.input(`${prefix}sweep_iteration`, DT.INT64, []);
  b.input(`${prefix}sweep_condition`, DT.BOOL, []);
  const pIn = b.input(`${prefix}sweep_p`, DT.DOUBLE);
  const one = b.scalarDouble(1);
  const column = (x: string, t: number) => b.node('Slice', [x, b.ints([t]), b.ints([t + 1]), b.ints([1])]);

  // Recomputed each sweep (not only updated) for numerical accuracy, as libsvm.
  const QpIn = b.node('Squeeze', [b.node('MatMul', [Q, b.node('Unsqueeze', [pIn, b.ints([2])])]), b.ints([2])]);
  const pQpIn = b.node('ReduceSum', [b.node('Mul', [pIn, QpIn]), b.ints([1])], { keepdims: 1 });
  const maxError = b.node('ReduceMax', [b.node('Abs', [b.node('Sub', [QpIn, pQpIn])])], { axes: [1], keepdims: 1 });
  const done = b.node('Less', [maxError, b.scalarDouble(0.005 / k)]);

  let p = pIn;
  let Qp = QpIn;
  let pQp = pQpIn;
  let scale = one;
  for (let t = 0; t < k; t++) {
    const qtt = column(diag, t);
    const qpt = b.node('Mul', [scale, column(Qp, t)]);
    const diff = b.node('Div', [b.node('Sub', [pQp, qpt]), qtt]);
    const step = b.node('Div', [diff, scale]);
    p = b.node('Add', [p, b.node('Mul', [b.double(`${prefix}sweep_unit_${t}`, [k], unit(k, t)), step])]);
    const grow = b.node('Add', [one, diff]);
    const spread = b.node('Mul', [diff, b.node('Add', [b.node('Mul', [diff, qtt]), b.node('Mul', [b.scalarDouble(2), qpt])])]);
    pQp = b.node('Div', [b.node('Div', [b.node('Add', [pQp, spread]), grow]), grow]);
    Qp = b.node('Add', [Qp, b.node('Mul', [step, b.node('Gather', [Q, b.int(t)], { axis: 1 })])]);
    scale = b.node('Div', [scale, grow]);
  }
  const pOut = b.node('Where', [done, pIn, b.node('Mul', [p, scale])]);
  const running = b.node('ReduceSum', [b.node('Cast', [b.node('Not', [done])], { to: DT.DOUBLE })], { keepdims: 0 });
  b.output(`${prefix}sweep_condition_out`, b.node('Greater', [running, b.scalarDouble(0)]), DT.BOOL, []);
  b.output(`${prefix}sweep_p_out`, pOut, DT.DOUBLE);
  return b.toGraph();
}

/** [rows, classes]: column labels[c] holds model class c; classes the model never saw get 0. */
function toClasses(g: GraphBuilder, p: string, labels: Int32Array, classes: number, prefix: string): string {
  const k = labels.length;
  if (k === classes && labels.every((l, c) => l === c)) return p;
  const zero = g.node('Mul', [g.node('Slice', [p, g.ints([0]), g.ints([1]), g.ints([1])]), g.scalarDouble(0)]);
  const source = Array.from({ length: classes }, (_, c) => {
    const at = labels.indexOf(c);
    return at >= 0 ? at : k;
  });
  return g.node('Gather', [g.node('Concat', [p, zero], { axis: 1 }), g.int64(`${prefix}class_of_column`, [classes], source)], { axis: 1 });
}

function identity(k: number): number[] {
  return Array.from({ length: k * k }, (_, c) => (Math.floor(c / k) === c % k ? 1 : 0));
}

function unit(k: number, t: number): Float64Array {
  const u = new Float64Array(k);
  u[t] = 1;
  return u;
}
