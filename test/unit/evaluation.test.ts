import assert from 'node:assert/strict';
import { test } from 'node:test';
import { argmaxRows, computeMetrics, foldSplit, stratifiedFolds, stratifiedHoldout } from '../../src/heads/evaluation.js';

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
  assert.deepEqual(m.confusion_matrix.matrix, [
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
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
