/** The learning curve's pieces: stratified shares of a fold's training rows, and the power law read at twice the examples. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateGain, subsampleSplit } from '../../src/training/learning-curve.js';

test('a share of the training rows: each class cut to its share (at least one row), the held-out rows untouched, seeded', () => {
  const y = Int32Array.from([...new Array(40).fill(0), ...new Array(20).fill(1), 2, 2]);
  const split = { train: Int32Array.from({ length: 62 }, (_, i) => i), test: Int32Array.of(100, 101) };
  const part = subsampleSplit(split, y, 0.25, 3);
  const count = (c: number) => Array.from(part.train).filter((r) => y[r] === c).length;
  assert.deepEqual([count(0), count(1), count(2)], [10, 5, 1]);
  assert.equal(part.test, split.test);
  assert.deepEqual(subsampleSplit(split, y, 0.25, 3), part, 'the same seed draws the same rows');
  assert.notDeepEqual(subsampleSplit(split, y, 0.25, 4).train, part.train, 'another seed draws others');
  assert.ok(
    Array.from(part.train).every((r, i, a) => i === 0 || a[i - 1]! < r),
    'in row order',
  );
});

test('the power law through the errors: recovered exactly from exact points, and no promise from a flat curve', () => {
  const law = (n: number) => 1 - 2 * n ** -0.5;
  const points = [100, 250, 500, 1000].map((examples) => ({ examples, score: law(examples) }));
  const e = estimateGain(points)!;
  assert.ok(Math.abs(e.a - 2) < 1e-9 && Math.abs(e.b - 0.5) < 1e-9, JSON.stringify(e));
  assert.ok(Math.abs(e.score_doubled - law(2000)) < 1e-9);
  assert.equal(e.doubled, 2000);
  const flat = estimateGain([
    { examples: 10, score: 0.8 },
    { examples: 20, score: 0.78 },
  ])!;
  assert.equal(flat.b, 0, 'a curve that falls promises nothing');
  assert.ok(Math.abs(flat.score_doubled - flat.score_now) < 1e-12);
  assert.equal(estimateGain([{ examples: 10, score: 1 }]), null, 'nothing to fit');
});
