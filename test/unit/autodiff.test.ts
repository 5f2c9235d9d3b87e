/**
 * The differentiator's gradient rules, each against central finite
 * differences of the same graph run by onnxruntime (test/helpers/gradcheck.ts):
 * in fp64 wherever onnxruntime's CPU kernels take fp64 (every element of a
 * small input to a relative 1e-6), in fp32 for Erf and Softplus (random
 * directions, 3e-3). Broadcasting, symbolic dims, values read twice and the
 * walk's refusals are checked too, and that the checker fails on a wrong rule.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkGradients, type GradCase } from '../helpers/gradcheck.js';
import {
  differentiate,
  gradientRules,
  inferShapes,
  l2Penalty,
  sigmoidBinaryCrossEntropy,
  softmaxCrossEntropy,
  supervisedContrastive,
} from '../../src/onnx/autodiff/index.js';
import { maskBias, sequenceMask } from '../../src/encoder/import/attention.js';
import { DT, GraphBuilder } from '../../src/onnx/graph.js';
import { syncOrt } from '../../src/onnx/session.js';

/** Checks `c` and asserts that something was checked. */
function check(name: string, c: GradCase): void {
  const report = checkGradients(c);
  assert.ok(report.checked > 0, `${name}: nothing checked`);
}

const unary =
  (op: string, attrs: Record<string, number> = {}) =>
  (g: GraphBuilder, x: Record<string, string>) =>
    g.node(op, [x.x!], attrs);

test('unary rules: Neg, Abs, Sqrt, Exp, Log, Tanh, Relu, Sigmoid, Identity (fp64); Erf, Softplus (fp32)', () => {
  for (const op of ['Neg', 'Abs', 'Exp', 'Tanh', 'Relu', 'Sigmoid', 'Identity'])
    check(op, { inputs: { x: { dims: [3, 4], low: -2, high: 2 } }, build: unary(op) });
  for (const op of ['Sqrt', 'Log']) check(op, { inputs: { x: { dims: [3, 4], low: 0.3, high: 2 } }, build: unary(op) });
  for (const op of ['Erf', 'Softplus']) check(op, { precision: 'float32', inputs: { x: { dims: [4, 5], low: -2, high: 2 } }, build: unary(op) });
});

test('binary rules with broadcasting: Add, Sub, Mul, Div, Sum, each input summed back to its shape', () => {
  const shapes: [number[], number[]][] = [
    [
      [2, 3, 4],
      [2, 3, 4],
    ],
    [[2, 3, 4], [4]],
    [
      [3, 1],
      [2, 3, 4],
    ],
    [[2, 1, 4], []],
    [
      [1, 3, 1],
      [2, 1, 4],
    ],
  ];
  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    for (const [a, b] of shapes) {
      check(`${op} [${a}] [${b}]`, {
        inputs: { a: { dims: a }, b: { dims: b, ...(op === 'Div' ? { low: 0.5, high: 2 } : {}) } },
        build: (g, x) => g.node(op, [x.a!, x.b!]),
      });
    }
  }
  check('Sum', { inputs: { a: { dims: [2, 3] }, b: { dims: [3] }, c: { dims: [2, 1] } }, build: (g, x) => g.node('Sum', [x.a!, x.b!, x.c!]) });
});

test('Pow: constant exponents (2, 3, 0.5, 1) and an exponent that is itself differentiated', () => {
  for (const p of [2, 3, 0.5, 1]) {
    check(`Pow ${p}`, { inputs: { x: { dims: [2, 3], low: 0.5, high: 2 } }, build: (g, x) => g.node('Pow', [x.x!, g.scalarDouble(p)]) });
  }
  check('Pow x^e', { inputs: { x: { dims: [2, 3], low: 0.5, high: 2 }, e: { dims: [3], low: -1, high: 2 } }, build: (g, x) => g.node('Pow', [x.x!, x.e!]) });
});

test('MatMul: batched, broadcast batches, vectors, a 2-D weight under a symbolic batch (one Gemm)', () => {
  const cases: [number[], number[]][] = [
    [
      [3, 4],
      [4, 5],
    ],
    [
      [2, 3, 4, 5],
      [2, 3, 5, 2],
    ],
    [
      [2, 1, 4, 5],
      [3, 5, 2],
    ],
    [
      [2, 3, 4],
      [4, 5],
    ],
    [
      [4, 5],
      [2, 5, 3],
    ],
    [[4], [4, 3]],
    [[3, 4], [4]],
    [[2, 3, 4], [4]],
    [[4], [4]],
  ];
  for (const [a, b] of cases) check(`MatMul [${a}] [${b}]`, { inputs: { a: { dims: a }, b: { dims: b } }, build: (g, x) => g.node('MatMul', [x.a!, x.b!]) });
  check('MatMul with symbolic batch', {
    inputs: { a: { dims: [2, 3, 4], declared: ['batch', 'tokens', 4] }, b: { dims: [4, 5] } },
    build: (g, x) => g.node('MatMul', [x.a!, x.b!]),
  });
});

test('Gemm: every transA/transB, alpha and beta, C broadcast from [N] and [M, 1]', () => {
  for (const transA of [0, 1]) {
    for (const transB of [0, 1]) {
      for (const c of [[5], [3, 1], [3, 5]]) {
        check(`Gemm transA=${transA} transB=${transB} C [${c}]`, {
          inputs: { a: { dims: transA ? [4, 3] : [3, 4] }, b: { dims: transB ? [5, 4] : [4, 5] }, c: { dims: c } },
          build: (g, x) => g.node('Gemm', [x.a!, x.b!, x.c!], { transA, transB, alpha: { float: 0.75 }, beta: { float: 1.5 } }),
        });
      }
    }
  }
});

test('Softmax and LogSoftmax over any axis', () => {
  for (const axis of [-1, 0, 1]) {
    check(`Softmax axis ${axis}`, { inputs: { x: { dims: [2, 3, 4], low: -3, high: 3 } }, build: unary('Softmax', { axis }) });
    check(`LogSoftmax axis ${axis}`, { inputs: { x: { dims: [2, 3, 4], low: -3, high: 3 } }, build: unary('LogSoftmax', { axis }) });
  }
});

test('LayerNormalization: fp32 (its kernel’s mean and 1/σ) and fp64 (recomputed), over the last axis or the last two, with and without bias', () => {
  for (const precision of ['float64', 'float32'] as const) {
    const param = (g: GraphBuilder, name: string, dims: number[], values: number[]) =>
      precision === 'float64' ? g.double(name, dims, values) : g.float(name, dims, values);
    check(`LayerNormalization ${precision} axis -1`, {
      precision,
      inputs: { x: { dims: [2, 3, 5], low: -2, high: 2 }, scale: { dims: [5] }, bias: { dims: [5] } },
      build: (g, x) => g.node('LayerNormalization', [x.x!, x.scale!, x.bias!], { axis: -1, epsilon: { float: 1e-5 } }),
    });
    check(`LayerNormalization ${precision} axis 1, no bias`, {
      precision,
      inputs: { x: { dims: [2, 3, 4], low: -2, high: 2 } },
      build: (g, x) =>
        g.node(
          'LayerNormalization',
          [
            x.x!,
            param(
              g,
              'scale',
              [3, 4],
              Array.from({ length: 12 }, (_, i) => 0.5 + i / 10),
            ),
          ],
          { axis: 1, epsilon: { float: 1e-5 } },
        ),
    });
  }
});

test('LayerNormalization in its decomposed form (ReduceMean, Sub, Pow, Sqrt, Div), as older exporters write it', () => {
  check('decomposed LayerNorm', {
    inputs: { x: { dims: [2, 3, 5], low: -2, high: 2 }, scale: { dims: [5] }, bias: { dims: [5] } },
    build: (g, v) => {
      const centred = g.node('Sub', [v.x!, g.node('ReduceMean', [v.x!], { axes: [-1] })]);
      const variance = g.node('ReduceMean', [g.node('Pow', [centred, g.scalarDouble(2)])], { axes: [-1] });
      const normalized = g.node('Div', [centred, g.node('Sqrt', [g.node('Add', [variance, g.scalarDouble(1e-5)])])]);
      return g.node('Add', [g.node('Mul', [normalized, v.scale!]), v.bias!]);
    },
  });
});

test('reductions: ReduceSum (axes input, keepdims 0/1, all axes), ReduceMean (axes attribute), ReduceSumSquare, ReduceLogSumExp', () => {
  const x = { x: { dims: [2, 3, 4] } };
  for (const keepdims of [0, 1]) {
    check(`ReduceSum keepdims ${keepdims}`, { inputs: x, build: (g, v) => g.node('ReduceSum', [v.x!, g.ints([0, -1])], { keepdims }) });
    check(`ReduceMean keepdims ${keepdims}`, { inputs: x, build: (g, v) => g.node('ReduceMean', [v.x!], { axes: [1], keepdims }) });
    check(`ReduceSumSquare keepdims ${keepdims}`, { inputs: x, build: (g, v) => g.node('ReduceSumSquare', [v.x!], { axes: [2], keepdims }) });
    check(`ReduceLogSumExp keepdims ${keepdims}`, { inputs: x, build: (g, v) => g.node('ReduceLogSumExp', [v.x!], { axes: [0, 2], keepdims }) });
  }
  check('ReduceSum over everything', { inputs: x, build: (g, v) => g.node('ReduceSum', [v.x!], { keepdims: 0 }) });
  check('ReduceMean over a symbolic axis', {
    inputs: { x: { dims: [2, 3, 4], declared: ['batch', 'tokens', 4] } },
    build: (g, v) => g.node('ReduceMean', [v.x!], { axes: [1], keepdims: 0 }),
  });
  check('ReduceMean in opset 18 (axes as an input)', { opset: 18, inputs: x, build: (g, v) => g.node('ReduceMean', [v.x!, g.ints([1])], { keepdims: 0 }) });
});

test('layout: Reshape, Transpose, Unsqueeze, Squeeze, Flatten, Expand, with constant and symbolic dims', () => {
  const x = { x: { dims: [2, 3, 4] } };
  check('Reshape 0/-1', { inputs: x, build: (g, v) => g.node('Reshape', [v.x!, g.ints([0, -1, 2])]) });
  check('Reshape symbolic', {
    inputs: { x: { dims: [2, 3, 4], declared: ['batch', 'tokens', 4] } },
    build: (g, v) => g.node('Transpose', [g.node('Reshape', [v.x!, g.ints([0, 0, 2, 2])])], { perm: [0, 2, 1, 3] }),
  });
  check('Transpose', { inputs: x, build: (g, v) => g.node('Transpose', [v.x!], { perm: [2, 0, 1] }) });
  check('Transpose default', { inputs: x, build: (g, v) => g.node('Transpose', [v.x!]) });
  check('Unsqueeze', { inputs: x, build: (g, v) => g.node('Unsqueeze', [v.x!, g.ints([0, -1])]) });
  check('Squeeze', { inputs: { x: { dims: [2, 1, 4] } }, build: (g, v) => g.node('Squeeze', [v.x!, g.ints([1])]) });
  check('Flatten', { inputs: x, build: (g, v) => g.node('Flatten', [v.x!], { axis: 2 }) });
  check('Expand', { inputs: { x: { dims: [3, 1] } }, build: (g, v) => g.node('Expand', [v.x!, g.ints([2, 3, 4])]) });
});

test('Slice (positive, negative and open bounds, constant and symbolic dims) and Concat', () => {
  const x = { x: { dims: [3, 5, 4] } };
  check('Slice', { inputs: x, build: (g, v) => g.node('Slice', [v.x!, g.ints([1, -3]), g.ints([3, 2 ** 62]), g.ints([1, 2])]) });
  check('Slice negative end', { inputs: x, build: (g, v) => g.node('Slice', [v.x!, g.ints([0]), g.ints([-1]), g.ints([0])]) });
  check('Slice symbolic', {
    inputs: { x: { dims: [3, 5, 4], declared: ['batch', 'tokens', 4] } },
    build: (g, v) => g.node('Slice', [v.x!, g.ints([0, -2, 1]), g.ints([1, 2 ** 62, 3]), g.ints([1, 0, 2])]),
  });
  check('Concat', {
    inputs: { a: { dims: [2, 1, 3] }, b: { dims: [2, 2, 3] }, c: { dims: [2, 3, 3], declared: [2, 'n', 3] } },
    build: (g, v) => g.node('Concat', [v.a!, v.b!, v.c!], { axis: 1 }),
  });
});

test('Gather: a table’s rows (repeated and negative indices, ScatterND) and tokens of a sequence (the first token, picked rows)', () => {
  check('Gather axis 0', {
    inputs: { table: { dims: [5, 3] }, ids: { dims: [2, 3], kind: 'int64', data: [0, 4, 2, 4, -1, 0] } },
    build: (g, v) => g.node('Gather', [v.table!, v.ids!]),
  });
  check('Gather axis 1 scalar (first token)', {
    inputs: { h: { dims: [2, 4, 3], declared: ['batch', 'tokens', 3] } },
    build: (g, v) => g.node('Gather', [v.h!, g.int(0)], { axis: 1 }),
  });
  check('Gather axis 1 rows', {
    inputs: { h: { dims: [2, 4, 3] }, at: { dims: [2, 2], kind: 'int64', data: [1, 1, 3, -1] } },
    build: (g, v) => g.node('Gather', [v.h!, v.at!], { axis: 1 }),
  });
  check('Gather last axis', {
    inputs: { h: { dims: [2, 4] } },
    build: (g, v) => g.node('Gather', [v.h!, g.ints([3, 0, 3])], { axis: 1 }),
  });
});

test('Where (the condition not differentiated), Cast between float types, Dropout at inference', () => {
  check('Where', {
    inputs: { c: { dims: [3, 1], kind: 'bool', data: [1, 0, 1] }, a: { dims: [1, 4] }, b: { dims: [] } },
    build: (g, v) => g.node('Where', [v.c!, v.a!, v.b!]),
  });
  // Through fp32 and back: a step well above fp32's spacing, on a linear function.
  check('Cast', {
    eps: 1e-2,
    rtol: 1e-4,
    inputs: { x: { dims: [2, 3] } },
    build: (g, v) => g.node('Cast', [g.node('Mul', [g.node('Cast', [v.x!], { to: DT.FLOAT }), g.scalar(3)])], { to: DT.DOUBLE }),
  });
  check('Dropout', { inputs: { x: { dims: [2, 3] } }, build: (g, v) => g.node('Dropout', [v.x!]) });
  check('Dropout as a mask input', {
    inputs: { x: { dims: [2, 3] }, mask: { dims: [2, 3], data: [2, 0, 2, 2, 0, 0] } },
    wrt: ['x'],
    build: (g, v) => g.node('Mul', [v.x!, v.mask!]),
  });
});

test('a value read by several nodes sums their gradients; an integer detour carries none', () => {
  const report = checkGradients({
    inputs: { x: { dims: [2, 3] }, w: { dims: [3] } },
    build: (g, v) => {
      const square = g.node('Mul', [v.x!, v.x!]);
      const scaled = g.node('Mul', [v.x!, v.w!]);
      return g.node('Add', [g.node('Add', [square, scaled]), g.node('Exp', [v.x!])]);
    },
  });
  assert.ok(report.checked >= 12);
  // x·floor-by-cast(x): the Cast to int64 stops the gradient, so d/dx = round-toward-zero(x), not 2x.
  const r = checkGradients({
    inputs: { x: { dims: [4], data: [1.25, -2.5, 3.75, 0.5] } },
    build: (g, v) => g.node('Mul', [v.x!, g.node('Cast', [g.node('Cast', [v.x!], { to: DT.INT64 })], { to: DT.DOUBLE })]),
    directions: 0,
  });
  assert.equal(r.checked, 4);
});

test('losses: softmax cross-entropy of integer labels, sigmoid binary cross-entropy (stable for large logits), the L2 term', () => {
  const logits = [0.5, -1, 2, 0.25, 0, 1, -3, 0.5, 1.5];
  const labels = [2, 0, 1];
  const report = checkGradients({
    inputs: { z: { dims: [3, 3], data: logits }, y: { dims: [3], kind: 'int64', data: labels } },
    build: (g, v) => softmaxCrossEntropy(g, v.z!, v.y!, 3, DT.DOUBLE),
  });
  // Its value: the mean of log Σ exp z − z_label.
  let expected = 0;
  for (let i = 0; i < 3; i++) {
    const row = logits.slice(i * 3, i * 3 + 3);
    expected += Math.log(row.reduce((s, z) => s + Math.exp(z), 0)) - row[labels[i]!]!;
  }
  expected /= 3;
  assert.ok(report.checked > 0);
  const g = new GraphBuilder('ce', 17);
  const z = g.input('z', DT.DOUBLE, [3, 3]);
  const y = g.input('y', DT.INT64, [3]);
  g.output('loss', softmaxCrossEntropy(g, z, y, 3, DT.DOUBLE), DT.DOUBLE, []);
  const ort = syncOrt()!;
  const out = ort
    .createSession(g.encode('t'), 1)
    .run(
      { z: new ort.Tensor('float64', Float64Array.from(logits), [3, 3]), y: new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [3]) } as never,
      { loss: null },
      {},
    );
  assert.ok(Math.abs((out.loss!.data as Float64Array)[0]! - expected) < 1e-12);

  check('sigmoid binary cross-entropy', {
    precision: 'float32',
    inputs: { z: { dims: [3, 4], low: -4, high: 4 }, t: { dims: [3, 4], data: [1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0] } },
    wrt: ['z'],
    build: (g, v) => sigmoidBinaryCrossEntropy(g, v.z!, v.t!),
  });
  check('L2', { inputs: { a: { dims: [2, 3] }, b: { dims: [4] } }, build: (g, v) => l2Penalty(g, [v.a!, v.b!], 0.1, DT.DOUBLE) });
  // Logits of ±200: finite loss and gradient σ(z) − t (rows averaged).
  const b = new GraphBuilder('bce', 17);
  const zz = b.input('z', DT.FLOAT, [1, 2]);
  const tt = b.input('t', DT.FLOAT, [1, 2]);
  const loss = sigmoidBinaryCrossEntropy(b, zz, tt);
  b.output('loss', loss, DT.FLOAT, []);
  differentiate(b, { loss, wrt: [zz], outputs: true });
  const r = ort
    .createSession(b.encode('t'), 1)
    .run(
      { z: new ort.Tensor('float32', Float32Array.from([200, -200]), [1, 2]), t: new ort.Tensor('float32', Float32Array.from([0, 0]), [1, 2]) } as never,
      { loss: null, grad_z: null },
      {},
    );
  assert.ok(Math.abs((r.loss!.data as Float32Array)[0]! - 200) < 1e-3, 'softplus(200) + softplus(−200) ≈ 200');
  assert.deepEqual(Array.from(r.grad_z!.data as Float32Array), [1, 0]);
});

test('the checker fails on a wrong rule (Erf’s derivative off by 1 %), and the walk refuses what it cannot do', () => {
  const wrongErf = {
    Erf: (c: Parameters<(typeof gradientRules)['Erf'] & {}>[0]) => {
      const [right] = gradientRules.Erf!(c);
      return [c.op('Mul', [right!, c.scalar(1.01)])];
    },
  };
  assert.throws(
    () => checkGradients({ precision: 'float32', rules: wrongErf, inputs: { x: { dims: [4, 5], low: -2, high: 2 } }, build: unary('Erf') }),
    /relative error/,
  );
  const g = new GraphBuilder('refuse', 17);
  const x = g.input('x', DT.FLOAT, [3]);
  const ids = g.input('ids', DT.INT64, [3]);
  const loss = g.node('ReduceSum', [g.node('Cos', [x])], { keepdims: 0 });
  assert.throws(() => differentiate(g, { loss, wrt: [x] }), /no gradient rule for Cos/);
  assert.throws(() => differentiate(g, { loss, wrt: [ids] }), /not a float value/);
  assert.throws(() => differentiate(g, { loss: g.node('Cos', [x]), wrt: [x] }), /must be a scalar/);
  const unused = g.input('unused', DT.FLOAT, [2]);
  const h = new GraphBuilder('zero', 17);
  const a = h.input('a', DT.FLOAT, [3]);
  h.input('unused', DT.FLOAT, [2]);
  const l = h.node('ReduceSum', [h.node('Exp', [a])], { keepdims: 0 });
  h.output('l', l, DT.FLOAT, []);
  differentiate(h, { loss: l, wrt: [a, unused], outputs: true });
  const ort = syncOrt()!;
  const out = ort
    .createSession(h.encode('t'), 1)
    .run(
      { a: new ort.Tensor('float32', Float32Array.from([0, 1, 2]), [3]), unused: new ort.Tensor('float32', Float32Array.from([5, 6]), [2]) } as never,
      { grad_unused: null },
      {},
    );
  assert.deepEqual(Array.from(out.grad_unused!.data as Float32Array), [0, 0], 'a value the loss does not read has a zero gradient');
});

test('shape inference: broadcast, symbolic reshape, reductions, the mask of the BERT graph', () => {
  const g = new GraphBuilder('shapes', 17);
  const x = g.input('x', DT.FLOAT, ['batch', 'tokens', 8]);
  const heads = g.node('Transpose', [g.node('Reshape', [x, g.ints([0, 0, 2, 4])])], { perm: [0, 2, 1, 3] });
  const merged = g.node('Reshape', [x, g.ints([-1, 8])]);
  const mean = g.node('ReduceMean', [x], { axes: [1], keepdims: 0 });
  const sum = g.node('Add', [x, g.node('Unsqueeze', [mean, g.ints([1])])]);
  const facts = inferShapes(g.toGraph());
  assert.deepEqual(facts.get(heads)?.dims, ['batch', 2, 'tokens', 4]);
  assert.deepEqual(facts.get(merged)?.dims, ['batch*tokens', 8]);
  assert.deepEqual(facts.get(mean)?.dims, ['batch', 8]);
  assert.deepEqual(facts.get(sum)?.dims, ['batch', 'tokens', 8]);
  const mask = g.input('mask', DT.INT64, ['batch', 'tokens']);
  const bias = maskBias(g, sequenceMask(g, mask).attends);
  assert.deepEqual(inferShapes(g.toGraph()).get(bias), { type: DT.FLOAT, dims: ['batch', 1, 'tokens', 'tokens'] });
});

test('a seed backpropagates an upstream gradient into the graph; an intermediate value can be differentiated by', () => {
  const ort = syncOrt()!;
  const build = (withSeed: boolean) => {
    const g = new GraphBuilder('seed', 17);
    const x = g.input('x', DT.DOUBLE, [2, 3]);
    const w = g.input('w', DT.DOUBLE, [3, 4]);
    const dy = g.input('dy', DT.DOUBLE, [2, 4]);
    const h = g.node('MatMul', [x, w]);
    const y = g.node('Tanh', [h]);
    const loss = withSeed ? y : g.node('ReduceSum', [g.node('Mul', [y, dy])], { keepdims: 0 });
    const { gradients } = differentiate(g, { loss, wrt: [w, h], ...(withSeed ? { seed: dy } : {}), outputs: (v) => (v === w ? 'grad_w' : 'grad_h') });
    assert.deepEqual(Object.keys(gradients), [w, h]);
    g.output('y', y, DT.DOUBLE);
    return ort.createSession(g.encode('t'), 1);
  };
  const values = (n: number, k: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(i * k));
  const feeds = {
    x: new ort.Tensor('float64', values(6, 1), [2, 3]),
    w: new ort.Tensor('float64', values(12, 2), [3, 4]),
    dy: new ort.Tensor('float64', values(8, 3), [2, 4]),
  };
  const fetch = { y: null, grad_w: null, grad_h: null };
  const seeded = build(true).run(feeds as never, fetch, {});
  const summed = build(false).run(feeds as never, fetch, {});
  const y = seeded.y!.data as Float64Array;
  const dy = feeds.dy.data as Float64Array;
  const close = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).every((v, i) => Math.abs(v - b[i]!) <= 1e-14 * Math.max(1, Math.abs(v)));
  assert.ok(
    close(
      seeded.grad_h!.data as Float64Array,
      Array.from(y, (v, i) => dy[i]! * (1 - v * v)),
    ),
    'd/dh of tanh(h), times the seed',
  );
  assert.ok(close(seeded.grad_w!.data as Float64Array, summed.grad_w!.data as Float64Array), 'a seed is the loss ⟨y, seed⟩');
});

test('the supervised contrastive loss: its value, and its gradient by the embeddings', () => {
  // Four rows, labels a a b b: each row's one positive is its pair; weights 1 / (1 positive · 4 anchors).
  const e = [0.5, -1, 2, 0.25, 0, 1, -3, 0.5, 1.5, 1, 1, -0.5];
  const labels = [0, 0, 1, 1];
  const positives = Array.from({ length: 16 }, (_, k) => (Math.floor(k / 4) !== k % 4 && labels[Math.floor(k / 4)] === labels[k % 4] ? 1 / 4 : 0));
  const exclude = Array.from({ length: 16 }, (_, k) => (Math.floor(k / 4) === k % 4 ? -1e4 : 0));
  const inputs = {
    e: { dims: [4, 3], data: e },
    p: { dims: [4, 4], data: positives },
    x: { dims: [4, 4], data: exclude },
  };
  const report = checkGradients({ inputs, wrt: ['e'], build: (g, v) => supervisedContrastive(g, v.e!, v.p!, v.x!, 0.5, DT.DOUBLE) });
  assert.ok(report.checked > 0);
  const unit = [0, 1, 2, 3].map((i) => {
    const row = e.slice(i * 3, i * 3 + 3);
    const norm = Math.hypot(...row);
    return row.map((v) => v / norm);
  });
  const cos = (i: number, j: number) => unit[i]!.reduce((s, v, h) => s + v * unit[j]![h]!, 0);
  let expected = 0;
  for (let i = 0; i < 4; i++) {
    const others = [0, 1, 2, 3].filter((j) => j !== i);
    const logSum = Math.log(others.reduce((s, j) => s + Math.exp(cos(i, j) / 0.5), 0));
    const pair = i ^ 1;
    expected -= (cos(i, pair) / 0.5 - logSum) / 4;
  }
  const g = new GraphBuilder('supcon', 17);
  const v = Object.fromEntries(Object.entries(inputs).map(([k, d]) => [k, g.input(k, DT.DOUBLE, d.dims)]));
  g.output('loss', supervisedContrastive(g, v.e!, v.p!, v.x!, 0.5, DT.DOUBLE), DT.DOUBLE, []);
  const ort = syncOrt()!;
  const feeds = Object.fromEntries(Object.entries(inputs).map(([k, d]) => [k, new ort.Tensor('float64', Float64Array.from(d.data), d.dims)]));
  const out = ort.createSession(g.encode('t'), 1).run(feeds as never, { loss: null }, {});
  assert.ok(Math.abs((out.loss!.data as Float64Array)[0]! - expected) < 1e-12, `${(out.loss!.data as Float64Array)[0]} against ${expected}`);
});
