/**
 * A model-specific ONNX graph that computes an SVM's per-class partial sums
 * in one native call per batch:
 *
 *   K   = kernel(X, SV)                       rows × totalSV
 *   P_a = K[:, SVs of class a] · C_aᵀ          rows × (k−1), per class a
 *   out = concat(P_0 … P_{k−1})                rows × k(k−1)
 *
 * RBF is computed as exp(min(0, 2γ x·s − γ‖x‖² − γ‖s‖²)), the clamp
 * absorbing rounding for (near-)duplicate rows. Kernel evaluation, the
 * exponentials and the coefficient products all run multi-threaded in
 * onnxruntime (see ./predict.ts for how P becomes decision values).
 */
import type { Binding } from 'onnxruntime-node/dist/binding.js';
import { GraphBuilder, DT } from '../../onnx/graph.js';
import { syncOrt, unshared, type SyncOrt } from '../../onnx/session.js';
import type { KernelParams } from './kernel-function.js';
import type { ClassBlock } from './model.js';

export class PartialSumGraph {
  private constructor(
    private readonly ort: SyncOrt,
    private readonly session: Binding.InferenceSession,
    private readonly width: number,
  ) {}

  /** null when onnxruntime is unavailable or the model has no SVs. */
  static create(kernel: KernelParams, blocks: ClassBlock[], dim: number, threads: number): PartialSumGraph | null {
    const ort = syncOrt();
    if (!ort || blocks.every((b) => b.n === 0)) return null;
    const bytes = buildGraph(kernel, blocks, dim);
    return new PartialSumGraph(ort, ort.createSession(bytes, threads), blocks.length * (blocks.length - 1));
  }

  /** rows × k(k−1) partial sums; block a occupies columns a(k−1) … (a+1)(k−1)−1. */
  run(x: Float32Array, rows: number, dim: number): Float32Array {
    const { Tensor } = this.ort;
    const out = new Float32Array(rows * this.width);
    this.session.run({ x: new Tensor('float32', unshared(x), [rows, dim]) }, { p: new Tensor('float32', out, [rows, this.width]) }, {});
    return out;
  }
}

function buildGraph(kp: KernelParams, blocks: ClassBlock[], dim: number): Uint8Array {
  const k = blocks.length;
  const g = new GraphBuilder('svm_partial_sums', 13);
  const x = g.input('x', DT.FLOAT, ['rows', dim]);
  g.output('p', partialSumNodes(g, kp, x, blocks, dim), DT.FLOAT, ['rows', k * (k - 1)]);
  return g.encode('transferd');
}

/**
 * Adds the partial sums of the rows of `x` ([rows, dim] float32) to `g` and
 * returns their [rows, k(k−1)] tensor; the initializers' names start with
 * `prefix`. The predictor runs them alone; a version's ONNX export runs them
 * on the features its encoder computes.
 */
export function partialSumNodes(g: GraphBuilder, kp: KernelParams, x: string, blocks: ClassBlock[], dim: number, prefix = ''): string {
  const k = blocks.length;
  const total = blocks.reduce((s, b) => s + b.n, 0);
  const sv = g.float(
    `${prefix}sv`,
    [total, dim],
    concat(
      blocks.map((b) => b.sv),
      total * dim,
    ),
  );
  const K = kernelNodes(g, kp, x, sv, blocks, total, prefix);

  const parts: string[] = [];
  let start = 0;
  blocks.forEach((b, a) => {
    // An SV-less class contributes zeros: any one kernel column times zero coefficients.
    const [s0, s1, coefT] = b.n > 0 ? [start, start + b.n, transpose(b.coef, k - 1, b.n)] : [0, 1, new Float32Array(k - 1)];
    const Ka = g.node('Slice', [K, g.ints([s0]), g.ints([s1]), g.ints([1])]);
    parts.push(g.node('MatMul', [Ka, g.float(`${prefix}coef_${a}`, [s1 - s0, k - 1], coefT)]));
    start += b.n;
  });
  return parts.length === 1 ? parts[0]! : g.node('Concat', parts, { axis: 1 });
}

function kernelNodes(g: GraphBuilder, kp: KernelParams, x: string, sv: string, blocks: ClassBlock[], total: number, prefix: string): string {
  switch (kp.kernel) {
    case 'linear':
      return g.node('Gemm', [x, sv], { transB: 1 });
    case 'poly': {
      const c0 = g.float(`${prefix}coef0`, [1, 1], [kp.coef0]);
      const base = g.node('Gemm', [x, sv, c0], { transB: 1, alpha: { float: kp.gamma }, beta: { float: 1 } });
      return g.node('Pow', [base, g.scalar(kp.degree)]);
    }
    case 'rbf': {
      const svsq = concat64(
        blocks.map((b) => b.sq),
        total,
      );
      const negGsq = g.float(
        `${prefix}neg_gamma_svsq`,
        [1, total],
        Float32Array.from(svsq, (v) => -kp.gamma * v),
      );
      const t = g.node('Gemm', [x, sv, negGsq], { transB: 1, alpha: { float: 2 * kp.gamma }, beta: { float: 1 } });
      const xsq = g.node('ReduceSumSquare', [x], { axes: [1], keepdims: 1 });
      const e = g.node('Sub', [t, g.node('Mul', [xsq, g.scalar(kp.gamma)])]);
      return g.node('Exp', [g.node('Min', [e, g.scalar(0)])]);
    }
  }
}

function concat(parts: Float32Array[], length: number): Float32Array {
  const out = new Float32Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function concat64(parts: Float64Array[], length: number): Float64Array {
  const out = new Float64Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** rows × cols → cols × rows. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}
