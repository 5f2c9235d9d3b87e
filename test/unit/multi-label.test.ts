/**
 * Multi-label scoring and thresholds, against hand-worked cases and
 * scikit-learn's definitions (micro-F1 pools every decision, macro-F1 averages
 * labels, subset accuracy needs the whole set, Hamming loss counts wrong
 * decisions), and the one-vs-rest logistic regression against its objective.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../../src/heads/evaluation.js';
import { fitLogistic } from '../../src/heads/logistic/train.js';
import { applyThresholds, chooseThresholds, multiLabelScores, rarestLabel } from '../../src/heads/multi-label.js';
import { countsByLabel, labelSetKey, labelsOfKey } from '../../src/store/label-set.js';

test('thresholds maximise each label’s F1 between distinct probabilities; a label never seen keeps 0.5', () => {
  // Label 0: predicting the top 4 gives F1 6/7, the best; label 1 has no positive row.
  const proba = Float32Array.from([0.9, 0.1, 0.8, 0.2, 0.3, 0.3, 0.2, 0.4]);
  const targets = Uint8Array.from([1, 0, 1, 0, 0, 0, 1, 0]);
  const t = chooseThresholds(proba, targets, 2, [0, 1, 2, 3]);
  assert.ok(Math.abs(t[0]! - 0.1) < 1e-7, `label 0: ${t[0]}`);
  assert.equal(t[1], 0.5);
  // Only rows 0 and 1 considered: the top row alone is best (F1 1), the threshold between 0.9 and 0.8.
  assert.ok(Math.abs(chooseThresholds(proba, Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]), 2, [0, 1])[0]! - 0.85) < 1e-7);
});

test('scores: micro- and macro-F1, subset accuracy and Hamming loss as scikit-learn defines them', () => {
  const truth = Uint8Array.from([1, 0, 1, 0, 1, 0, 1, 1, 0]);
  const predicted = Uint8Array.from([1, 0, 0, 0, 1, 0, 1, 1, 1]);
  const s = multiLabelScores(truth, predicted, ['a', 'b', 'c'], [0, 1, 2], new Float32Array(3).fill(0.5));
  // Label a: tp 2, predicted 2, support 2 → F1 1; b: tp 2 of 2 predicted, support 2 → 1; c: tp 0, predicted 1, support 1 → 0.
  assert.deepEqual(
    s.per_label.map((l) => [l.precision, l.recall, l.f1, l.support]),
    [
      [1, 1, 1, 2],
      [1, 1, 1, 2],
      [0, 0, 0, 1],
    ],
  );
  assert.ok(Math.abs(s.macro_f1 - 2 / 3) < 1e-12);
  assert.ok(Math.abs(s.micro_f1 - (2 * 4) / (5 + 5)) < 1e-12);
  assert.ok(Math.abs(s.subset_accuracy - 1 / 3) < 1e-12, 'only row 1 is exactly right');
  assert.ok(Math.abs(s.hamming_loss - 2 / 9) < 1e-12);
  assert.deepEqual(Array.from(applyThresholds(Float32Array.from([0.2, 0.7]), 1, Float32Array.from([0.2, 0.8]))), [1, 0]);
});

test('folds are stratified by each row’s rarest label; label sets are stored by one canonical key', () => {
  const targets = Uint8Array.from([1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(rarestLabel(targets, 4, 3)), [1, 0, 2, 3]);
  assert.equal(labelSetKey(['b', 'a', 'b']), '["a","b"]');
  assert.deepEqual(labelsOfKey(labelSetKey(['__proto__', 'x'])), ['__proto__', 'x']);
  assert.deepEqual(
    [
      ...countsByLabel(
        'multi_label',
        new Map([
          ['["a","b"]', 2],
          ['["b"]', 3],
        ]),
      ),
    ],
    [
      ['a', 2],
      ['b', 5],
    ],
  );
});

test('one-vs-rest logistic regression: every label’s own logistic objective is at its minimum', () => {
  const n = 90;
  const d = 4;
  const k = 3;
  const rand = rng(5);
  const x = Float32Array.from({ length: n * d }, () => rand() * 2 - 1);
  const targets = new Uint8Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) targets[i * k + c] = x[i * d + c]! + 0.3 * (rand() - 0.5) > 0 ? 1 : 0;
  const C = 2;
  const fit = fitLogistic({ x, y: rarestLabel(targets, n, k), n, dim: d, classes: k, targets }, null, {
    C,
    classWeight: undefined,
    maxIter: 500,
    tolerance: 1e-9,
  });
  const objective = (w: Float64Array, b: Float64Array) => {
    let f = 0;
    for (const v of w) f += 0.5 * v * v;
    for (let i = 0; i < n; i++)
      for (let c = 0; c < k; c++) {
        let z = b[c]!;
        for (let j = 0; j < d; j++) z += w[c * d + j]! * x[i * d + j]!;
        f += C * (Math.log1p(Math.exp(z)) - targets[i * k + c]! * z);
      }
    return f;
  };
  const h = 1e-5;
  for (const [part, at] of [
    ['w', 0],
    ['w', 5],
    ['w', 11],
    ['b', 0],
    ['b', 2],
  ] as const) {
    const v = part === 'w' ? fit.w : fit.b;
    const keep = v[at]!;
    v[at] = keep + h;
    const up = objective(fit.w, fit.b);
    v[at] = keep - h;
    const down = objective(fit.w, fit.b);
    v[at] = keep;
    assert.ok(Math.abs((up - down) / (2 * h)) < 1e-3, `${part}[${at}] derivative ${(up - down) / (2 * h)}`);
  }
});
