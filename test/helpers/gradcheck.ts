/**
 * Checks a graph's gradients, as `differentiate` writes them, against
 * central finite differences of the same graph run by onnxruntime.
 *
 * The checked value y (any shape) is reduced to a loss ⟨y, R⟩ with R a seeded
 * random tensor, so every element of y and every direction of its Jacobian
 * counts (a plain sum would hide, say, any error a softmax's gradient sums to
 * zero over). The loss is accumulated in fp64 even when the graph is fp32.
 * In fp64 every element of a small input is checked, plus random directions;
 * in fp32, whose rounding makes per-element differences noisy, random
 * directions v only: ⟨∇L, v⟩ against (L(x + εv) − L(x − εv)) / 2ε.
 */
import assert from 'node:assert/strict';
import { type Dim, DT, GraphBuilder } from '../../src/onnx/graph.js';
import { differentiate, dropUnusedInputs, type GradientRule } from '../../src/onnx/autodiff/index.js';
import { syncOrt } from '../../src/onnx/session.js';
import { rng } from '../../src/heads/evaluation.js';

export type Precision = 'float64' | 'float32';

export interface InputSpec {
  dims: number[];
  /** The dims the graph declares (symbolic ones: 'batch'); default `dims`. */
  declared?: Dim[];
  /** Values fed; default seeded uniform in [low, high). */
  data?: ArrayLike<number>;
  /** An int64 (ids, labels) or bool input: never differentiated. */
  kind?: 'int64' | 'bool';
  low?: number;
  high?: number;
}

export interface GradCase {
  inputs: Record<string, InputSpec>;
  /** Builds the forward graph from the inputs' names; returns the value whose gradients are checked. */
  build(g: GraphBuilder, inputs: Record<string, string>): string;
  /** The builder to start from (a model to extend, whose own inputs are then not declared again); default an empty one. */
  builder?: () => GraphBuilder;
  /** Default: every float input. */
  wrt?: string[];
  precision?: Precision;
  opset?: number;
  rules?: Record<string, GradientRule>;
  /** Finite-difference step and relative tolerance (defaults by precision). */
  eps?: number;
  rtol?: number;
  /** Random directions checked per input (besides single elements in fp64). */
  directions?: number;
  seed?: number;
}

export interface GradReport {
  checked: number;
  /** The largest relative error seen beyond the rounding noise allowed (see `compare`). */
  worst: number;
  gradients: Record<string, Float64Array>;
  loss: number;
}

const DEFAULTS: Record<Precision, { eps: number; rtol: number }> = {
  float64: { eps: 1e-6, rtol: 1e-6 },
  float32: { eps: 1e-2, rtol: 3e-3 },
};

type Feeds = Record<string, unknown>;

function uniform(n: number, low: number, high: number, rand: () => number): number[] {
  return Array.from({ length: n }, () => low + (high - low) * rand());
}

function tensor(spec: InputSpec, data: ArrayLike<number>, precision: Precision) {
  const ort = syncOrt()!;
  if (spec.kind === 'int64') return new ort.Tensor('int64', BigInt64Array.from(Array.from(data, (v) => BigInt(v))), spec.dims);
  if (spec.kind === 'bool') return new ort.Tensor('bool', Uint8Array.from(data), spec.dims);
  return precision === 'float64'
    ? new ort.Tensor('float64', Float64Array.from(data), spec.dims)
    : new ort.Tensor('float32', Float32Array.from(data), spec.dims);
}

function declare(g: GraphBuilder, c: GradCase, precision: Precision): Record<string, string> {
  const floatType = precision === 'float64' ? DT.DOUBLE : DT.FLOAT;
  const declared = new Set(g.inputNames);
  return Object.fromEntries(
    Object.entries(c.inputs).map(([name, spec]) => {
      const type = spec.kind === 'int64' ? DT.INT64 : spec.kind === 'bool' ? DT.BOOL : floatType;
      return [name, declared.has(name) ? name : g.input(name, type, spec.declared ?? spec.dims)];
    }),
  );
}

function encode(g: GraphBuilder): Uint8Array {
  g.prune();
  dropUnusedInputs(g);
  return g.encode('gradcheck');
}

/** The graph of the loss ⟨y, R⟩ (fp64), and optionally its gradients by `wrt` as outputs grad_<name>. */
function lossGraph(c: GradCase, precision: Precision, r: Float64Array | null, yDims: number[], withGradients: boolean): Uint8Array {
  const g = c.builder ? c.builder() : new GraphBuilder('gradcheck', c.opset ?? 17);
  const y = c.build(g, declare(g, c, precision));
  if (!r) {
    g.output('checked', y, precision === 'float64' ? DT.DOUBLE : DT.FLOAT);
    return encode(g);
  }
  const y64 = precision === 'float64' ? y : g.node('Cast', [y], { to: DT.DOUBLE });
  const loss = g.node('ReduceSum', [g.node('Mul', [y64, g.double('R', yDims, r)])], { keepdims: 0 });
  g.output('loss', loss, DT.DOUBLE, []);
  if (withGradients) differentiate(g, { loss, wrt: wrtOf(c), outputs: true, ...(c.rules ? { rules: c.rules } : {}) });
  return encode(g);
}

const wrtOf = (c: GradCase) => c.wrt ?? Object.keys(c.inputs).filter((k) => !c.inputs[k]!.kind);

/** Runs the check; fails (assert) on the first gradient element or direction out of tolerance. */
export function checkGradients(c: GradCase): GradReport {
  const ort = syncOrt();
  assert.ok(ort, 'onnxruntime-node must load');
  const precision = c.precision ?? 'float64';
  const { eps, rtol } = { ...DEFAULTS[precision], ...(c.eps ? { eps: c.eps } : {}), ...(c.rtol ? { rtol: c.rtol } : {}) };
  const rand = rng(c.seed ?? 7);
  const values: Record<string, number[]> = {};
  for (const [name, spec] of Object.entries(c.inputs)) {
    const n = spec.dims.reduce((a, b) => a * b, 1);
    const v = spec.data ? Array.from(spec.data) : uniform(n, spec.low ?? -1, spec.high ?? 1, rand);
    // fp32 inputs as fed, so the gradient and the differences are taken at the same point.
    values[name] = precision === 'float32' && !spec.kind ? v.map(Math.fround) : v;
  }
  const feeds = (over: Record<string, number[]> = {}): Feeds =>
    Object.fromEntries(Object.entries(c.inputs).map(([name, spec]) => [name, tensor(spec, over[name] ?? values[name]!, precision)]));

  const probe = ort.createSession(lossGraph(c, precision, null, [], false), 1);
  const yDims = (probe.run(feeds() as never, { checked: null }, {}).checked!.dims as readonly number[]).map(Number);
  const r = Float64Array.from(
    uniform(
      yDims.reduce((a, b) => a * b, 1),
      -1,
      1,
      rand,
    ),
  );

  const forward = ort.createSession(lossGraph(c, precision, r, yDims, false), 1);
  const lossAt = (over: Record<string, number[]>) => (forward.run(feeds(over) as never, { loss: null }, {}).loss!.data as Float64Array)[0]!;
  const step = ort.createSession(lossGraph(c, precision, r, yDims, true), 1);
  const wrt = wrtOf(c);
  const fetched = step.run(feeds() as never, Object.fromEntries(['loss', ...wrt.map((w) => `grad_${w}`)].map((k) => [k, null])), {});
  const loss = (fetched.loss!.data as Float64Array)[0]!;
  // The same loss from both graphs (to rounding: onnxruntime may fuse the forward nodes differently where the backward reads them).
  const same = precision === 'float64' ? 1e-12 : 1e-5;
  assert.ok(Math.abs(loss - lossAt({})) <= same * Math.max(1, Math.abs(loss)), `the training graph's loss ${loss} is the forward graph's ${lossAt({})}`);

  let checked = 0;
  let worst = 0;
  let worstRaw = 0;
  const gradients: Record<string, Float64Array> = {};
  // What rounding alone can make a difference quotient: the loss's terms each off by a few ulps (fp32: 1e-6 of |yᵢRᵢ|), over 2ε.
  const y = probe.run(feeds() as never, { checked: null }, {}).checked!.data as ArrayLike<number>;
  const terms = Array.from(y).reduce((s, v, i) => s + Math.abs(v * r[i]!), 0);
  const noise = ((precision === 'float64' ? 1e-14 : 1e-6) * Math.max(1, terms)) / (2 * eps);
  /** The difference beyond rounding noise, relative to the larger of the two or to `floor` (a share of the gradient's size) where both are smaller. */
  const compare = (what: string, analytic: number, numeric: number, floor: number) => {
    const err = Math.max(0, Math.abs(analytic - numeric) - noise) / Math.max(Math.abs(analytic), Math.abs(numeric), floor, 1e-12);
    worst = Math.max(worst, err);
    worstRaw = Math.max(worstRaw, Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), floor, 1e-12));
    checked++;
    assert.ok(err <= rtol, `${what}: analytic ${analytic}, numeric ${numeric} (relative error ${err.toExponential(2)} > ${rtol})`);
  };
  for (const w of wrt) {
    const grad = Float64Array.from(fetched[`grad_${w}`]!.data as ArrayLike<number>);
    gradients[w] = grad;
    const x = values[w]!;
    assert.equal(grad.length, x.length, `grad_${w} has one value per element of ${w}`);
    const largest = grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const gradNorm = Math.sqrt(grad.reduce((s, v) => s + v * v, 0));
    const central = (v: number[], h: number) => {
      const plus = x.map((xi, i) => xi + h * v[i]!);
      const minus = x.map((xi, i) => xi - h * v[i]!);
      return (lossAt({ [w]: plus }) - lossAt({ [w]: minus })) / (2 * h);
    };
    if (precision === 'float64' && x.length <= 48) {
      for (let i = 0; i < x.length; i++) {
        const unit = x.map((_, j) => (j === i ? 1 : 0));
        compare(`d loss / d ${w}[${i}]`, grad[i]!, central(unit, eps * Math.max(1, Math.abs(x[i]!))), largest * 1e-3);
      }
    }
    for (let d = 0; d < (c.directions ?? 3); d++) {
      const v = uniform(x.length, -1, 1, rand);
      const norm = Math.sqrt(v.reduce((s, vi) => s + vi * vi, 0));
      const unit = v.map((vi) => vi / norm);
      const analytic = grad.reduce((s, gi, i) => s + gi * unit[i]!, 0);
      compare(`d loss / d ${w} along direction ${d}`, analytic, central(unit, eps), gradNorm * 1e-2);
    }
  }
  if (process.env.GRADCHECK_VERBOSE) {
    console.error(
      `gradcheck: ${checked} checks, worst error ${worst.toExponential(1)} (${worstRaw.toExponential(1)} before the noise allowance ${noise.toExponential(1)})`,
    );
  }
  return { checked, worst, gradients, loss };
}
