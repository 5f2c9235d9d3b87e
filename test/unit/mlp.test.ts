/**
 * The mlp head. Backpropagation is checked against central differences of a
 * plain re-implementation of the loss; the rest against what a fit must do:
 * learn separable data, be a pure function of its seed, keep early stopping's
 * rows stratified, and predict through the stored artifact what it learned.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blobs } from '../helpers/blobs.js';
import { rng } from '../../src/heads/evaluation.js';
import { forwardGraph, type LayerWeights, stepGraph } from '../../src/heads/mlp/graph.js';
import { mlpHead } from '../../src/heads/mlp/index.js';
import { type MlpArtifact, MlpPredictor } from '../../src/heads/mlp/model.js';
import { fitMlp, holdOut, type MlpFit } from '../../src/heads/mlp/train.js';
import { loadPredictor } from '../../src/heads/registry.js';
import { Rng } from '../../src/heads/rng.js';
import { syncOrt } from '../../src/onnx/session.js';

const FIT: MlpFit = {
  hidden: [16],
  alpha: 1e-4,
  learningRate: 1e-2,
  batchSize: 32,
  maxIter: 200,
  earlyStopping: true,
  validationFraction: 0.2,
  patience: 10,
  tol: 1e-4,
  seed: 5,
};

/** Σᵢ sᵢ · cross-entropyᵢ of a ReLU network, in float64 from first principles. */
function plainLoss(layers: LayerWeights[], x: Float32Array, y: Int32Array, m: number, s: number): number {
  let loss = 0;
  for (let i = 0; i < m; i++) {
    let a = Array.from(x.subarray(i * layers[0]!.in, (i + 1) * layers[0]!.in), Number);
    layers.forEach((layer, l) => {
      const z = Array.from({ length: layer.out }, (_, o) => a.reduce((sum, v, j) => sum + v * layer.w[o * layer.in + j]!, layer.b[o]!));
      a = l < layers.length - 1 ? z.map((v) => Math.max(0, v)) : z;
    });
    const max = Math.max(...a);
    const lse = max + Math.log(a.reduce((sum, v) => sum + Math.exp(v - max), 0));
    loss += s * (lse - a[y[i]!]!);
  }
  return loss;
}

test("the step graph's gradients are the loss's derivatives (central differences, two hidden layers)", () => {
  const ort = syncOrt()!;
  const data = blobs(12, 5, 3, 2);
  const r = rng(9);
  const shapes = [
    { in: 5, out: 7 },
    { in: 7, out: 6 },
    { in: 6, out: 3 },
  ];
  const layers: LayerWeights[] = shapes.map((s) => ({
    ...s,
    w: Float32Array.from({ length: s.in * s.out }, () => r() - 0.5),
    b: Float32Array.from({ length: s.out }, () => r() - 0.5),
  }));
  const m = data.n;
  const t = new Float32Array(m * 3);
  for (let i = 0; i < m; i++) t[i * 3 + data.y[i]!] = 1 / m;
  const feeds: Record<string, unknown> = {
    x: new ort.Tensor('float32', data.x, [m, 5]),
    t: new ort.Tensor('float32', t, [m, 3]),
    s: new ort.Tensor('float32', new Float32Array(m).fill(1 / m), [m, 1]),
  };
  layers.forEach((l, i) => {
    feeds[`w${i}`] = new ort.Tensor('float32', l.w, [l.out, l.in]);
    feeds[`b${i}`] = new ort.Tensor('float32', l.b, [l.out]);
  });
  const session = ort.createSession(stepGraph(shapes, 'softmax'), 1);
  const out = session.run(feeds as never, Object.fromEntries(session.outputMetadata.map((o) => [o.name, null])), {});
  const h = 1e-3;
  let checked = 0;
  layers.forEach((layer, l) => {
    for (const [param, grad] of [
      [layer.w, out[`grad_w${l}`]!.data as Float32Array],
      [layer.b, out[`grad_b${l}`]!.data as Float32Array],
    ] as const) {
      assert.equal(grad.length, param.length);
      for (let i = 0; i < param.length; i += 2) {
        const keep = param[i]!;
        param[i] = keep + h;
        const up = plainLoss(layers, data.x, data.y, m, 1 / m);
        param[i] = keep - h;
        const down = plainLoss(layers, data.x, data.y, m, 1 / m);
        param[i] = keep;
        const numeric = (up - down) / (2 * h);
        assert.ok(Math.abs(grad[i]! - numeric) < 2e-3 * Math.max(1, Math.abs(numeric)), `layer ${l} parameter ${i}: ${grad[i]} vs ${numeric}`);
        checked++;
      }
    }
  });
  assert.ok(checked > 40);
});

test('a fit learns separable classes, is a pure function of its seed, and stops early', () => {
  const data = blobs(300, 8, 3, 4);
  const a = fitMlp(data, null, FIT);
  const b = fitMlp(data, null, FIT);
  const other = fitMlp(data, null, { ...FIT, seed: 6 });
  assert.deepEqual(a.layers, b.layers, 'same seed, same weights');
  assert.notDeepEqual(a.layers[0]!.w, other.layers[0]!.w, 'another seed draws other weights');
  assert.ok(a.epochs < FIT.maxIter, `stopped after ${a.epochs} epochs`);
  assert.ok(a.validationScore !== null && a.validationScore > 0.8, `held-out accuracy ${a.validationScore}`);
  const artifact: MlpArtifact = {
    format: 'mlp',
    classes: 3,
    dim: 8,
    activation: 'relu',
    layers: a.layers.map((l) => ({ in: l.in, out: l.out, weights: Array.from(l.w), bias: Array.from(l.b) })),
  };
  const proba = loadPredictor(JSON.parse(JSON.stringify(artifact)), { threads: 1 }).predictProba(data.x, data.n);
  let correct = 0;
  for (let i = 0; i < data.n; i++) {
    const row = Array.from(proba.subarray(i * 3, i * 3 + 3));
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5);
    if (row.indexOf(Math.max(...row)) === data.y[i]) correct++;
  }
  assert.ok(correct / data.n > 0.85, `training accuracy ${correct / data.n}`);
  const loss = fitMlp(data, null, { ...FIT, earlyStopping: false });
  assert.equal(loss.validationScore, null, 'without early stopping it stops on the training loss');
});

test("the predictor's forward graph is the network: probabilities as computed from first principles", () => {
  const data = blobs(20, 4, 2, 8);
  const fit = fitMlp(data, null, { ...FIT, hidden: [5, 3], maxIter: 5 });
  const artifact: MlpArtifact = {
    format: 'mlp',
    classes: 2,
    dim: 4,
    activation: 'relu',
    layers: fit.layers.map((l) => ({ in: l.in, out: l.out, weights: Array.from(l.w), bias: Array.from(l.b) })),
  };
  const proba = new MlpPredictor(artifact).predictProba(data.x, data.n);
  for (let i = 0; i < data.n; i++) {
    // The loss of label c alone is −log p_c.
    for (let c = 0; c < 2; c++) {
      const expected = Math.exp(-plainLoss(fit.layers, data.x.subarray(i * 4), Int32Array.of(c), 1, 1));
      assert.ok(Math.abs(proba[i * 2 + c]! - expected) < 1e-5, `row ${i} class ${c}`);
    }
  }
  assert.ok(forwardGraph(fit.layers, 'softmax').length > 0);
  assert.throws(() => new MlpPredictor({ ...artifact, classes: 3 }), /one value per class/);
});

test('early stopping holds out a share of every label and never a label’s last row', () => {
  const y = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2]);
  const rows = Int32Array.from({ length: y.length }, (_, i) => i);
  const { train, held } = holdOut(y, rows, 3, 0.2, new Rng(1));
  assert.equal(train.length + held.length, y.length);
  assert.deepEqual(
    [0, 1, 2].map((c) => Array.from(held).filter((r) => y[r] === c).length),
    [2, 1, 0],
  );
  assert.ok(Array.from(train).includes(15), 'the only row of label 2 stays in training');
});

test('parameters: defaults, and what the schema refuses', () => {
  const defaults = mlpHead.params.parse({});
  assert.deepEqual(defaults.hidden_layer_sizes, [256]);
  assert.equal(defaults.early_stopping, true);
  for (const bad of [{ hidden_layer_sizes: [] }, { hidden_layer_sizes: [8, 8, 8] }, { hidden_layer_sizes: [0] }, { learning_rate: 0 }, { momentum: 0.9 }])
    assert.equal(mlpHead.params.safeParse(bad).success, false, JSON.stringify(bad));
});
