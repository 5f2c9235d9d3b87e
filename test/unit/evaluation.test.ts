import assert from 'node:assert/strict';
import { test } from 'node:test';
import { argmaxRows, computeMetrics, DENSE_CONFUSION_LABELS, foldSplit, scoreOf, stratifiedFolds, stratifiedHoldout } from '../../src/heads/evaluation.js';

test('metrics: accuracy, per-label precision/recall/F1 and macro-F1 as scikit-learn computes them', () => {
  // truth:     a a a b b c
  // predicted: a a b b c c
  const m = computeMetrics(Int32Array.from([0, 0, 0, 1, 1, 2]), Int32Array.from([0, 0, 1, 1, 2, 2]), ['a', 'b', 'c']);
  assert.equal(m.accuracy, 4 / 6);
  const [a, b, c] = m.per_label;
  assert.deepEqual([a!.precision, a!.recall, a!.support], [1, 2 / 3, 3]);
  assert.deepEqual([b!.precision, b!.recall], [0.5, 0.5]);
  assert.deepEqual([c!.precision, c!.recall], [0.5, 1]);
  const f1 = (p: number, r: number) => (2 * p * r) / (p + r);
  assert.ok(Math.abs(m.macro_f1 - (f1(1, 2 / 3) + 0.5 + f1(0.5, 1)) / 3) < 1e-12);
  assert.ok('matrix' in m.confusion_matrix, 'dense for a few labels');
  assert.deepEqual(m.confusion_matrix.matrix, [
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
});

/** Deterministic labels in 0..k-1, predictions right about 70% of the time. */
function guesses(n: number, k: number, seed: number): { truth: Int32Array; predicted: Int32Array } {
  let a = seed;
  const rand = () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return a / 2 ** 31;
  };
  const truth = Int32Array.from({ length: n }, () => Math.floor(rand() * k));
  const predicted = truth.map((t) => (rand() < 0.7 ? t : Math.floor(rand() * k)));
  return { truth, predicted };
}

test('scores from per-label counts equal the full metrics, to the last bit', () => {
  for (const [n, k] of [
    [500, 3],
    [2000, 77],
    [3000, 1000],
  ] as const) {
    const { truth, predicted } = guesses(n, k, n + k);
    const labels = Array.from({ length: k }, (_, c) => `l${c}`);
    const { confusion_matrix: _matrix, ...full } = computeMetrics(truth, predicted, labels);
    assert.deepEqual(scoreOf(truth, predicted, labels), full, `${n} rows, ${k} labels`);
  }
});

test('with thousands of labels the confusion matrix holds only its non-zero cells', () => {
  const k = 5000;
  const { truth, predicted } = guesses(4000, k, 11);
  const labels = Array.from({ length: k }, (_, c) => `label ${c}`);
  const m = computeMetrics(truth, predicted, labels);
  assert.ok(!('matrix' in m.confusion_matrix), `no dense ${k}×${k} matrix`);
  assert.ok('cells' in m.confusion_matrix && m.confusion_matrix.format === 'sparse');
  const { cells } = m.confusion_matrix;
  assert.ok(cells.length <= truth.length, 'at most one cell per row of data');
  assert.equal(
    cells.reduce((a, [, , count]) => a + count, 0),
    truth.length,
  );
  const expected = new Map<string, number>();
  for (const [i, t] of truth.entries()) {
    const key = `${t},${predicted[i]}`;
    expected.set(key, (expected.get(key) ?? 0) + 1);
  }
  assert.deepEqual(new Map(cells.map(([r, c, count]) => [`${r},${c}`, count])), expected, 'every cell counts its pairs');
  const order = cells.map(([r, c]) => r * k + c);
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    'by row, then column',
  );
  assert.equal(m.confusion_matrix.labels, labels);
  // The threshold itself is still dense.
  const atLimit = guesses(300, DENSE_CONFUSION_LABELS, 3);
  assert.ok('matrix' in computeMetrics(atLimit.truth, atLimit.predicted, labels.slice(0, DENSE_CONFUSION_LABELS)).confusion_matrix);
});

test('stratified folds keep class proportions and cover every row once', () => {
  const y = Int32Array.from([...Array(50).fill(0), ...Array(20).fill(1), ...Array(7).fill(2)]);
  const fold = stratifiedFolds(y, 3, 5, 42);
  for (let f = 0; f < 5; f++) {
    const { test } = foldSplit(fold, f);
    const counts = [0, 0, 0];
    for (const i of test) counts[y[i]!]!++;
    assert.ok(counts[0] === 10, `fold ${f} class 0: ${counts[0]}`);
    assert.ok(counts[1] === 4, `fold ${f} class 1: ${counts[1]}`);
    assert.ok(counts[2]! >= 1 && counts[2]! <= 2, `fold ${f} class 2: ${counts[2]}`);
  }
  assert.deepEqual(Array.from(stratifiedFolds(y, 3, 5, 42)), Array.from(fold), 'same seed, same folds');
  assert.notDeepEqual(Array.from(stratifiedFolds(y, 3, 5, 7)), Array.from(fold), 'another seed, other folds');
});

test('a stratified hold-out takes the fraction of each class and leaves each class in training', () => {
  const y = Int32Array.from([...Array(40).fill(0), ...Array(10).fill(1), ...Array(2).fill(2)]);
  const { train, test } = stratifiedHoldout(y, 3, 0.25, 1);
  const count = (rows: Int32Array, c: number) => Array.from(rows).filter((i) => y[i] === c).length;
  assert.deepEqual([count(test, 0), count(test, 1), count(test, 2)], [10, 3, 1]);
  assert.deepEqual([count(train, 0), count(train, 1), count(train, 2)], [30, 7, 1]);
  assert.equal(train.length + test.length, y.length);
});

test('argmax over probability rows', () => {
  assert.deepEqual(Array.from(argmaxRows(Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.25, 0.25]), 2, 3)), [1, 0]);
});
