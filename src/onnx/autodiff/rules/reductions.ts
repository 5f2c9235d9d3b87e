/**
 * Gradient rules of the operators that reduce over axes: the Reduce*
 * family, Softmax and LogSoftmax, and LayerNormalization. Reductions are
 * written with ReduceSum and its axes as an input (opset 13 onwards, so the
 * emitted nodes mean the same in every opset the builders use); the forward
 * nodes' axes are read from an attribute or an input, whichever they have.
 */
import { DT } from '../../graph.js';
import type { GradientContext, GradientRule } from '../context.js';
import { attrFloat, attrInt } from '../proto.js';
import { normalizeAxis, reduced } from '../shapes.js';

/**
 * A reduction's axes (sorted, non-negative) and its upstream gradient and
 * output with the reduced axes restored as 1s, so both broadcast against
 * the input. A reduction over every axis needs no restoring (its output
 * broadcasts as it is), so its input's dims need not be known.
 */
function restored(c: GradientContext): { axes: number[]; all: boolean; dy: string; y: string } {
  const { axes, all } = reduced(c.node, c.inputs, 1);
  if (all) return { axes: axes ?? [], all, dy: c.grad, y: c.output(0) };
  if (!axes) c.fail('its axes must be constant');
  const squeezed = attrInt(c.node, 'keepdims', 1) === 0 && axes.length > 0;
  const unsqueeze = (v: string) => (squeezed ? c.op('Unsqueeze', [v, c.g.ints(axes)]) : v);
  return { axes, all: false, dy: unsqueeze(c.grad), y: unsqueeze(c.output(0)) };
}

/** `v`, whose dims broadcast to x's, expanded to x's shape. */
function expandToInput(c: GradientContext, v: string): string {
  const dims = c.inputs[0]?.dims;
  const shape = dims?.every((d) => typeof d === 'number') ? c.g.ints(dims as number[]) : c.op('Shape', [c.input(0)]);
  return c.op('Expand', [v, shape]);
}

/** The number of elements a reduction sums, in the gradients' type. */
function reducedCount(c: GradientContext, axes: number[], all: boolean): string {
  const dims = c.inputs[0]?.dims;
  if (dims) return c.count(c.input(0), dims, all ? dims.map((_, i) => i) : axes);
  return c.op('Cast', [c.op('Size', [c.input(0)])], { to: c.type });
}

/** Σ over `axis` of `v`, keeping the axis. */
const sumOver = (c: GradientContext, v: string, axes: number[]) => c.op('ReduceSum', [v, c.g.ints(axes)], { keepdims: 1 });

function softmax(c: GradientContext): (string | undefined)[] {
  const axis = normalizeAxis(attrInt(c.node, 'axis', -1), c.dims(0).length);
  const y = c.output(0);
  return [c.op('Mul', [y, c.op('Sub', [c.grad, sumOver(c, c.op('Mul', [c.grad, y]), [axis])])])];
}

function logSoftmax(c: GradientContext): (string | undefined)[] {
  const axis = normalizeAxis(attrInt(c.node, 'axis', -1), c.dims(0).length);
  return [c.op('Sub', [c.grad, c.op('Mul', [c.op('Exp', [c.output(0)]), sumOver(c, c.grad, [axis])])])];
}

/**
 * The mean and 1/σ of a LayerNormalization's input over its normalized axes.
 * For fp32 they are the node's own optional outputs (added to the forward
 * node when it lacks them: computed by its kernel at no cost); otherwise
 * (the kernel keeps them in fp32 only) they are recomputed in the input's type.
 */
function layerNormStatistics(c: GradientContext, axes: number[]): { mean: string; inv: string } {
  const outputs = c.node.output!;
  if (c.type === DT.FLOAT && attrInt(c.node, 'stash_type', 1) === 1) {
    if (!outputs[1]) outputs[1] = `${outputs[0]}/mean`;
    if (!outputs[2]) outputs[2] = `${outputs[0]}/inv_std_dev`;
    return { mean: outputs[1], inv: outputs[2] };
  }
  const x = c.input(0);
  const n = c.count(x, c.dims(0), axes);
  const mean = c.op('Div', [sumOver(c, x, axes), n]);
  const centred = c.op('Sub', [x, mean]);
  const variance = c.op('Div', [sumOver(c, c.op('Mul', [centred, centred]), axes), n]);
  const inv = c.op('Div', [c.scalar(1), c.op('Sqrt', [c.op('Add', [variance, c.scalar(attrFloat(c.node, 'epsilon', 1e-5))])])]);
  return { mean, inv };
}

/**
 * y = x̂·scale + bias with x̂ = (x − mean)·inv: dscale = Σ dy·x̂ and dbias = Σ dy
 * over the other axes; with g = dy·scale, dx = inv·(g − mean(g) − x̂·mean(g·x̂)).
 */
function layerNorm(c: GradientContext): (string | undefined)[] {
  const xDims = c.dims(0);
  const axis = normalizeAxis(attrInt(c.node, 'axis', -1), xDims.length);
  const axes = xDims.map((_, i) => i).filter((i) => i >= axis);
  const dy = c.grad;
  const { mean, inv } = layerNormStatistics(c, axes);
  const xhat = c.op('Mul', [c.op('Sub', [c.input(0), mean]), inv]);
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (c.wants(1)) out[1] = c.sumTo(c.op('Mul', [dy, xhat]), xDims, c.dims(1));
  if (c.wants(2)) out[2] = c.sumTo(dy, xDims, c.dims(2));
  if (c.wants(0)) {
    const g = c.op('Mul', [dy, c.input(1)]);
    const n = c.count(c.input(0), xDims, axes);
    const m1 = c.op('Div', [sumOver(c, g, axes), n]);
    const m2 = c.op('Div', [sumOver(c, c.op('Mul', [g, xhat]), axes), n]);
    out[0] = c.op('Mul', [c.op('Sub', [g, c.op('Add', [m1, c.op('Mul', [xhat, m2])])]), inv]);
  }
  return out;
}

export const reductionRules: Record<string, GradientRule> = {
  ReduceSum: (c) => {
    const { axes, all, dy } = restored(c);
    return [axes.length || all ? expandToInput(c, dy) : dy];
  },
  ReduceMean: (c) => {
    const { axes, all, dy } = restored(c);
    return [axes.length || all ? expandToInput(c, c.op('Div', [dy, reducedCount(c, axes, all)])) : dy];
  },
  ReduceSumSquare: (c) => {
    const { dy } = restored(c);
    return [c.op('Mul', [c.op('Mul', [c.input(0), c.scalar(2)]), dy])];
  },
  ReduceLogSumExp: (c) => {
    const { dy, y } = restored(c);
    return [c.op('Mul', [dy, c.op('Exp', [c.op('Sub', [c.input(0), y])])])];
  },
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  LayerNormalization: layerNorm,
};
