/**
 * Gradient rules of the operators that move, select or copy values: the
 * gradient goes back to where each value came from (reshaped, transposed
 * back, summed over copies, padded with zeros around a slice, split along a
 * concatenation, scattered to gathered rows).
 */
import { DT, type Dim } from '../../graph.js';
import type { GradientContext, GradientRule } from '../context.js';
import { attrInt, attrInts, zeroTensor } from '../proto.js';
import { normalizeAxis, TO_THE_END } from '../shapes.js';

/** The rule of an operator that only changes the dims: the gradient reshaped back. */
const reshapeBack: GradientRule = (c) => [c.reshape(c.grad, c.outDims(), c.dims(0), c.input(0))];

/** Several 1-element int64 tensors and numbers as one int64 vector (constant when all are numbers). */
function int64Vector(c: GradientContext, parts: (number | string)[]): string {
  if (parts.every((p) => typeof p === 'number')) return c.g.ints(parts as number[]);
  const pieces: string[] = [];
  let run: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') run.push(p);
    else {
      if (run.length) pieces.push(c.g.ints(run));
      run = [];
      pieces.push(p);
    }
  }
  if (run.length) pieces.push(c.g.ints(run));
  return c.op('Concat', pieces, { axis: 0 });
}

/** The gradient of a Slice (steps of 1): the upstream gradient padded with zeros to the input's dims. */
function slice(c: GradientContext): (string | undefined)[] {
  const dims = c.dims(0);
  const starts = c.constant(1);
  const ends = c.constant(2);
  const axes = c.input(3) ? c.constant(3) : starts.map((_, i) => i);
  const steps = c.input(4) ? c.constant(4) : starts.map(() => 1);
  if (steps.some((s) => s !== 1)) c.fail('only steps of 1 are differentiated');
  const before: (number | string)[] = dims.map(() => 0);
  const after: (number | string)[] = dims.map(() => 0);
  for (const [i, a] of axes.entries()) {
    const axis = normalizeAxis(a, dims.length);
    const d = dims[axis]!;
    const s = starts[i]!;
    const e = ends[i]!;
    if (typeof d === 'number') {
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      before[axis] = clamp(s);
      after[axis] = d - Math.max(clamp(e), clamp(s));
      continue;
    }
    // A symbolic dim: the pads are read from the run-time shape where they depend on it.
    const size = c.dimSize(c.input(0), dims, axis);
    before[axis] = s >= 0 ? s : c.op('Add', [size, c.g.ints([s])]);
    after[axis] = e >= TO_THE_END ? 0 : e < 0 ? -e : c.op('Sub', [size, c.g.ints([e])]);
  }
  return [c.op('Pad', [c.grad, int64Vector(c, [...before, ...after])])];
}

/** The gradient of a Concat: the upstream gradient split at the inputs' sizes along the axis. */
function concat(c: GradientContext): (string | undefined)[] {
  const inputs = c.node.input ?? [];
  const rank = c.outDims().length;
  const axis = normalizeAxis(attrInt(c.node, 'axis', 0), rank);
  const sizes = inputs.map((name, i) => {
    const d = c.dims(i)[axis]!;
    return typeof d === 'number' ? d : c.dimSize(name, c.dims(i), axis);
  });
  return c.g.nodeWithOutputs('Split', [c.grad, int64Vector(c, sizes)], inputs.length, { axis });
}

/**
 * The gradient of a Gather by its data. Along axis 0 (a table's rows) the
 * gradient rows are scattered with ScatterND's add reduction (opset 16
 * onwards), repeated indices summing; along another axis (picking tokens of
 * a sequence: pooling) it is a product with the indices' one-hot matrix.
 */
function gather(c: GradientContext): (string | undefined)[] {
  if (!c.wants(0)) return [undefined, undefined];
  const data = c.input(0);
  const dataDims = c.dims(0);
  const idxDims = c.dims(1);
  const axis = normalizeAxis(attrInt(c.node, 'axis', 0), dataDims.length);
  const size = c.dimSize(data, dataDims, axis);
  // Indices as int64 with negative ones wrapped, as Gather reads them.
  const raw = c.inputs[1]?.type === DT.INT64 ? c.input(1) : c.op('Cast', [c.input(1)], { to: DT.INT64 });
  const idx = c.op('Where', [c.op('Less', [raw, c.g.int(0)]), c.op('Add', [raw, c.op('Squeeze', [size, c.g.ints([0])])]), raw]);
  if (axis === 0) {
    const zeros = c.op('ConstantOfShape', [c.op('Shape', [data])], { value: { tensor: zeroTensor(c.type) } });
    return [c.op('ScatterND', [zeros, c.op('Unsqueeze', [idx, c.g.ints([-1])]), c.grad], { reduction: 'add' }), undefined];
  }
  const pre = dataDims.slice(0, axis);
  const post = dataDims.slice(axis + 1);
  const n = idxDims.reduce<Dim>((p, d) => (typeof p === 'number' && typeof d === 'number' ? p * d : '?'), 1);
  const q = post.reduce<Dim>((p, d) => (typeof p === 'number' && typeof d === 'number' ? p * d : '?'), 1);
  if (typeof n !== 'number' && typeof q !== 'number') c.fail('the gradient of a Gather needs the indices or the trailing dims to be known');
  // The upstream gradient as [pre…, N, Q]: the leading dims kept in place, the indices' and the trailing ones each flattened.
  const rows = c.op('Reshape', [c.grad, c.g.ints([...pre.map(() => 0), typeof q === 'number' ? -1 : (n as number), typeof q === 'number' ? q : -1])]);
  const positions = c.op('Range', [c.g.int(0), c.op('Squeeze', [size, c.g.ints([0])]), c.g.int(1)]);
  const flat = c.op('Reshape', [idx, c.g.ints([1, -1])]);
  const oneHot = c.op('Cast', [c.op('Equal', [c.op('Unsqueeze', [positions, c.g.ints([1])]), flat])], { to: c.type });
  const summed = c.op('MatMul', [oneHot, rows]);
  return [c.reshape(summed, [...pre, dataDims[axis]!, q], dataDims, data), undefined];
}

export const layoutRules: Record<string, GradientRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: (c) => {
    const rank = c.dims(0).length;
    const perm = attrInts(c.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [c.op('Transpose', [c.grad], { perm: inverse })];
  },
  Expand: (c) => [c.sumTo(c.grad, c.outDims(), c.dims(0)), undefined],
  Slice: slice,
  Concat: concat,
  Gather: gather,
};
