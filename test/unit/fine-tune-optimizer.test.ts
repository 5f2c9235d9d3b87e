/**
 * The fine-tuning optimizer: AdamW in WebAssembly SIMD over the parameter
 * arena against torch.optim.AdamW's formula written out in fp64, over steps
 * with clipping and per-parameter decay, on sizes that are not multiples of
 * the SIMD width; and the views onnxruntime reads and writes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from 'onnxruntime-node';
import { DT, GraphBuilder } from '../../src/onnx/graph.js';
import { syncOrt } from '../../src/onnx/session.js';
import { clipFactor, globalNorm, ParameterArena } from '../../src/training/fine-tune/optimizer.js';
import { ADAM } from '../../src/training/fine-tune/recipe.js';

/** torch.optim.AdamW's update of one parameter, in fp64. */
function reference(w: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, t: number, lr: number, decay: number): void {
  const { beta1, beta2, epsilon } = ADAM;
  for (let i = 0; i < w.length; i++) {
    w[i]! *= 1 - lr * decay;
    m[i] = beta1 * m[i]! + (1 - beta1) * g[i]!;
    v[i] = beta2 * v[i]! + (1 - beta2) * g[i]! * g[i]!;
    const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - beta2 ** t) + epsilon;
    w[i]! -= ((lr / (1 - beta1 ** t)) * m[i]!) / denom;
  }
}

test('AdamW in the arena follows torch.optim.AdamW within fp32 rounding, each parameter with its own decay', () => {
  const sizes = [7, 16, 1, 33];
  const decay = [0.01, 0, 0.5, 0];
  const arena = new ParameterArena(sizes);
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const ref = sizes.map((n) => ({ w: new Float64Array(n), g: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n) }));
  for (const [i, r] of ref.entries()) {
    for (let j = 0; j < sizes[i]!; j++) r.w[j] = Math.fround(random());
    arena.weights[i]!.set(r.w);
  }
  const start = arena.weights.map((w) => Float64Array.from(w));
  let clipped = 0;
  for (let t = 1; t <= 6; t++) {
    for (const i of ref.keys()) for (let j = 0; j < sizes[i]!; j++) arena.grads[i]![j] = Math.fround(random() * (t === 3 ? 100 : 1));
    const scale = clipFactor(globalNorm(arena.grads), 1);
    if (scale < 1) clipped++;
    const lr = 1e-2 * (1 - t / 10);
    for (const [i, r] of ref.entries()) {
      for (let j = 0; j < sizes[i]!; j++) r.g[j] = arena.grads[i]![j]! * scale;
      reference(r.w, r.g, r.m, r.v, t, lr, decay[i]!);
    }
    arena.update(t, lr, decay, scale);
  }
  assert.ok(clipped >= 1, 'a step was clipped');
  for (const [i, r] of ref.entries()) {
    for (let j = 0; j < sizes[i]!; j++) {
      const moved = Math.abs(r.w[j]! - start[i]![j]!);
      assert.ok(moved > 1e-3, `parameter ${i}[${j}] moved`);
      assert.ok(Math.abs(arena.weights[i]![j]! - r.w[j]!) <= 1e-5 * moved + 1e-7, `parameter ${i}[${j}]: ${arena.weights[i]![j]} against ${r.w[j]}`);
      assert.ok(Math.abs(arena.m[i]![j]! - r.m[j]!) <= 1e-5 * Math.abs(r.m[j]!) + 1e-8);
      assert.ok(Math.abs(arena.v[i]![j]! - r.v[j]!) <= 1e-5 * Math.abs(r.v[j]!) + 1e-10);
    }
  }
});

test("the arena's views: disjoint, 16-byte aligned, and what onnxruntime reads and writes in place", () => {
  const arena = new ParameterArena([3, 5]);
  const all = [...arena.weights, ...arena.grads, ...arena.m, ...arena.v];
  assert.ok(all.every((a) => a.byteOffset % 16 === 0));
  const spans = all.map((a) => [a.byteOffset, a.byteOffset + a.byteLength] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1]);
  // A gradient fetched into the arena: y = 2·x written over grads[1] from weights[1].
  const ort = syncOrt()!;
  const g = new GraphBuilder('double', 17);
  const x = g.input('x', DT.FLOAT, [5]);
  g.output('y', g.node('Add', [x, x]), DT.FLOAT, [5]);
  const session = ort.createSession(g.encode('test'), 1);
  arena.weights[1]!.set([1, 2, 3, 4, 5]);
  session.run({ x: new Tensor('float32', arena.weights[1]!, [5]) } as never, { y: new Tensor('float32', arena.grads[1]!, [5]) } as never, {});
  session.dispose();
  assert.deepEqual(Array.from(arena.grads[1]!), [2, 4, 6, 8, 10]);
  assert.deepEqual(Array.from(arena.grads[0]!), [0, 0, 0]);
});
