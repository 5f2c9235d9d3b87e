/**
 * Gradient rules of the matrix products. For C = A·B: dA = dC·Bᵀ and
 * dB = Aᵀ·dC, batched and summed over broadcast batch axes. Transposes are
 * written as a Transpose of the last two axes straight into a MatMul, which
 * onnxruntime's optimizer fuses into one FusedMatMul (no copy); the common
 * linear layer, a batch of rows times a 2-D weight, gets its weight's gradient
 * as one Gemm over the rows flattened (transA, no transpose, no reduction).
 */
import type { Dim } from '../../graph.js';
import type { GradientContext, GradientRule } from '../context.js';
import { attrFloat, attrInt } from '../proto.js';

/** `x` (of rank `rank`) with its last two axes swapped. */
function swapLast(c: GradientContext, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return c.op('Transpose', [x], { perm });
}

function matMul(c: GradientContext): (string | undefined)[] {
  const aDims = c.dims(0);
  const bDims = c.dims(1);
  const yDims = c.outDims();
  const [a, b] = [c.input(0), c.input(1)];
  // Vectors are matrices of one row (A) or one column (B) whose unit axis the output lacks.
  const a2: Dim[] = aDims.length === 1 ? [1, aDims[0]!] : aDims;
  const b2: Dim[] = bDims.length === 1 ? [bDims[0]!, 1] : bDims;
  const aM = aDims.length === 1 ? c.op('Unsqueeze', [a, c.g.ints([0])]) : a;
  const bM = bDims.length === 1 ? c.op('Unsqueeze', [b, c.g.ints([1])]) : b;
  const unitAxes = [...(aDims.length === 1 ? [-2] : []), ...(bDims.length === 1 ? [-1] : [])];
  const dy = unitAxes.length ? c.op('Unsqueeze', [c.grad, c.g.ints(unitAxes)]) : c.grad;
  const y2: Dim[] = [...yDims];
  if (aDims.length === 1) y2.splice(y2.length - (bDims.length === 1 ? 0 : 1), 0, 1);
  if (bDims.length === 1) y2.push(1);
  const rank = y2.length;
  const k = a2[a2.length - 1]!;
  const n = b2[b2.length - 1]!;
  const out: (string | undefined)[] = [undefined, undefined];
  if (c.wants(0)) {
    const full = rank === 2 ? c.op('Gemm', [dy, bM], { transB: 1 }) : c.op('MatMul', [dy, swapLast(c, bM, b2.length)]);
    const summed = c.sumTo(full, [...y2.slice(0, -1), k], a2);
    out[0] = aDims.length === 1 ? c.op('Squeeze', [summed, c.g.ints([0])]) : summed;
  }
  if (c.wants(1)) {
    let full: string;
    if (b2.length === 2 && (a2.length === 2 || (typeof k === 'number' && typeof n === 'number'))) {
      // Σ over every row of the batch of aᵀ·dy: one Gemm of the rows flattened.
      const rows = a2.length === 2 ? aM : c.op('Reshape', [aM, c.g.ints([-1, k as number])]);
      const grads = a2.length === 2 ? dy : c.op('Reshape', [dy, c.g.ints([-1, n as number])]);
      full = c.op('Gemm', [rows, grads], { transA: 1 });
    } else {
      full = c.sumTo(c.op('MatMul', [swapLast(c, aM, a2.length), dy]), [...y2.slice(0, rank - 2), k, n], b2);
    }
    out[1] = bDims.length === 1 ? c.op('Squeeze', [full, c.g.ints([1])]) : full;
  }
  return out;
}

/**
 * Y = α·op(A)·op(B) + β·C with op a transpose where transA/transB say: each
 * gradient is one Gemm whose own trans flags absorb the transposes.
 */
function gemm(c: GradientContext): (string | undefined)[] {
  const transA = attrInt(c.node, 'transA', 0) !== 0;
  const transB = attrInt(c.node, 'transB', 0) !== 0;
  const alpha = attrFloat(c.node, 'alpha', 1);
  const beta = attrFloat(c.node, 'beta', 1);
  const [a, b, dy] = [c.input(0), c.input(1), c.grad];
  const g = (x: string, y: string, tA: boolean, tB: boolean) =>
    c.op('Gemm', [x, y], { ...(tA ? { transA: 1 } : {}), ...(tB ? { transB: 1 } : {}), ...(alpha !== 1 ? { alpha: { float: alpha } } : {}) });
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  // op(A) = Aᵀ when transA: dA = (dY·op(B)ᵀ)ᵀ = op(B)·dYᵀ.
  if (c.wants(0)) out[0] = transA ? (transB ? g(b, dy, true, true) : g(b, dy, false, true)) : transB ? g(dy, b, false, false) : g(dy, b, false, true);
  if (c.wants(1)) out[1] = transB ? (transA ? g(dy, a, true, true) : g(dy, a, true, false)) : transA ? g(a, dy, false, false) : g(a, dy, true, false);
  if (c.wants(2)) {
    const summed = c.sumTo(dy, c.outDims(), c.dims(2));
    out[2] = beta === 1 ? summed : c.op('Mul', [summed, c.scalar(beta)]);
  }
  return out;
}

export const linearRules: Record<string, GradientRule> = { MatMul: matMul, Gemm: gemm };
