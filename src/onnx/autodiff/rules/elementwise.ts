/**
 * Gradient rules of element-wise operators. Binary ones broadcast: each
 * input's gradient is formed at the output's shape, then summed back to the
 * input's (GradientContext.sumTo). Rules reuse the forward output where the
 * derivative is a function of it (exp, sqrt, tanh, sigmoid), so nothing is
 * computed twice.
 */
import { DT } from '../../graph.js';
import type { GradientContext, GradientRule } from '../context.js';
import { isFloatType } from '../proto.js';

/** For each wanted input i, `local(i)` at the output's shape, summed back to input i's shape. */
function broadcasting(c: GradientContext, local: (i: number) => string): (string | undefined)[] {
  return (c.node.input ?? []).map((_, i) => (c.wants(i) ? c.sumTo(local(i), c.outDims(), c.dims(i)) : undefined));
}

/** A unary rule: the gradient is dy times f′, f′ written from the input x and output y. */
const unary =
  (derivative: (c: GradientContext, x: string, y: string) => string): GradientRule =>
  (c) => [c.wants(0) ? c.op('Mul', [c.grad, derivative(c, c.input(0), c.output(0))]) : undefined];

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

export const elementwiseRules: Record<string, GradientRule> = {
  Identity: (c) => [c.grad],
  Neg: (c) => [c.op('Neg', [c.grad])],
  Add: (c) => broadcasting(c, () => c.grad),
  Sum: (c) => broadcasting(c, () => c.grad),
  Sub: (c) => broadcasting(c, (i) => (i === 0 ? c.grad : c.op('Neg', [c.grad]))),
  Mul: (c) => broadcasting(c, (i) => c.op('Mul', [c.grad, c.input(1 - i)])),
  // d(a/b)/db = −(a/b)/b: reuses the output.
  Div: (c) =>
    broadcasting(c, (i) => (i === 0 ? c.op('Div', [c.grad, c.input(1)]) : c.op('Neg', [c.op('Div', [c.op('Mul', [c.grad, c.output(0)]), c.input(1)])]))),
  Pow: (c) => {
    const x = c.input(0);
    const exponent = c.constantOrUndefined(1);
    return broadcasting(c, (i) => {
      if (i === 1) return c.op('Mul', [c.grad, c.op('Mul', [c.output(0), c.op('Log', [x])])]);
      if (exponent?.length === 1) {
        const p = exponent[0]!;
        if (p === 1) return c.grad;
        if (p === 2) return c.op('Mul', [c.grad, c.op('Mul', [x, c.scalar(2)])]);
        return c.op('Mul', [c.grad, c.op('Mul', [c.op('Pow', [x, c.scalar(p - 1)]), c.scalar(p)])]);
      }
      const e = c.input(1);
      return c.op('Mul', [c.grad, c.op('Mul', [c.op('Pow', [x, c.op('Sub', [e, c.scalar(1)])]), e])]);
    });
  },
  Abs: unary((c, x) => c.op('Sign', [x])),
  Sqrt: (c) => [c.op('Div', [c.op('Mul', [c.grad, c.scalar(0.5)]), c.output(0)])],
  Exp: unary((_, __, y) => y),
  Log: (c) => [c.op('Div', [c.grad, c.input(0)])],
  Erf: unary((c, x) => c.op('Mul', [c.op('Exp', [c.op('Neg', [c.op('Mul', [x, x])])]), c.scalar(TWO_OVER_SQRT_PI)])),
  Tanh: unary((c, _, y) => c.op('Sub', [c.scalar(1), c.op('Mul', [y, y])])),
  Sigmoid: unary((c, _, y) => c.op('Mul', [y, c.op('Sub', [c.scalar(1), y])])),
  Softplus: unary((c, x) => c.op('Sigmoid', [x])),
  // The subgradient 0 at 0, as the frameworks take it.
  Relu: (c) => [c.op('Where', [c.op('Greater', [c.input(0), c.scalar(0)]), c.grad, c.scalar(0)])],
  // The condition (input 0) is not differentiable.
  Where: (c) => {
    const zero = c.scalar(0);
    return broadcasting(c, (i) => (i === 1 ? c.op('Where', [c.input(0), c.grad, zero]) : c.op('Where', [c.input(0), zero, c.grad])));
  },
  // Between float types a Cast is the identity (the gradient cast back); from or to anything else it stops the gradient.
  Cast: (c) => {
    const from = c.inputs[0]?.type;
    if (!c.wants(0) || !isFloatType(from) || !isFloatType(c.type)) return [undefined];
    return [from === c.type ? c.grad : c.op('Cast', [c.grad], { to: from ?? DT.FLOAT })];
  },
  // Dropout is differentiated as the identity it is at inference only. Training dropout is a Mul by a
  // mask fed as an input (drawn from a seeded generator), which keeps a step deterministic.
  Dropout: (c) => {
    const training = c.input(2) ? c.constant(2)[0] : 0;
    if (training) c.fail('training-mode Dropout draws its own random mask; multiply by a mask input instead');
    return [c.grad];
  },
};
