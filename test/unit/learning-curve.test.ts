/** The learning curve's pieces: stratified shares of a fold's training rows, and each fold's power law read at twice the examples. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateGain, MAX_EXPONENT, subsampleSplit } from '../../src/training/learning-curve.js';

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

test("each fold's power law, from its measured score: exact on exact curves, with the folds' spread as the interval", () => {
  const law = (c: number, b: number) => (n: number) => 1 - c * n ** -b;
  const folds = [law(2, 0.5), law(3, 0.5), law(2, 0.4)];
  const points = [100, 250, 500, 1000].map((examples) => ({ examples, folds: folds.map((f) => f(examples)) }));
  const e = estimateGain(points)!;
  for (const [i, b] of e.b.entries()) assert.ok(Math.abs(b - [0.5, 0.5, 0.4][i]!) < 1e-9, `fold ${i}: ${b}`);
  const expected = folds.reduce((a, f) => a + f(2000), 0) / folds.length;
  assert.ok(Math.abs(e.score_doubled - expected) < 1e-9, `${e.score_doubled} against ${expected}`);
  assert.equal(e.doubled, 2000);
  const [lo, hi] = e.interval!;
  assert.ok(lo < expected && expected < hi, 'the interval holds the mean');
  const spread = Math.max(...folds.map((f) => f(2000))) - Math.min(...folds.map((f) => f(2000)));
  assert.ok(hi - lo > spread && hi - lo < 10 * spread, `t over 3 folds widens the spread: ${hi - lo} against ${spread}`);
});

test('the estimate starts from what was measured: a curve that flattens at its end is read from its last score', () => {
  // Steep early, flat late: a fit through every point, unanchored, would promise far more.
  const points = [
    { examples: 10, folds: [0.3, 0.3] },
    { examples: 25, folds: [0.6, 0.6] },
    { examples: 50, folds: [0.8, 0.8] },
    { examples: 100, folds: [0.82, 0.82] },
  ];
  const e = estimateGain(points)!;
  assert.ok(e.score_doubled > 0.82 && e.score_doubled < 0.9, `${e.score_doubled}`);
  assert.deepEqual(e.interval, [e.score_doubled, e.score_doubled], 'folds that agree leave no spread');
});

test('no promise from a curve that does not fall, nor from one without errors; no interval from one split', () => {
  const flat = estimateGain([
    { examples: 10, folds: [0.8, 0.7] },
    { examples: 20, folds: [0.78, 0.69] },
  ])!;
  assert.deepEqual(flat.b, [0, 0]);
  assert.ok(Math.abs(flat.score_doubled - 0.735) < 1e-12, 'the measured scores, no gain');
  assert.equal(estimateGain([{ examples: 10, folds: [1] }]), null, 'one point');
  const perfect = estimateGain([
    { examples: 10, folds: [0.9, 1] },
    { examples: 20, folds: [1, 1] },
  ])!;
  assert.equal(perfect.score_doubled, 1, 'nothing left to gain');
  assert.deepEqual(perfect.interval, [1, 1]);
  const holdout = estimateGain([
    { examples: 10, folds: [0.5] },
    { examples: 20, folds: [0.6] },
  ])!;
  assert.equal(holdout.interval, null);
  assert.ok(holdout.score_doubled > 0.6);
});

test('read where it is asked; no curve where every share trained on as many rows', () => {
  const law = (n: number) => 1 - 2 * n ** -0.5;
  const points = [10, 20, 40].map((examples) => ({ examples, folds: [law(examples), law(examples)] }));
  const e = estimateGain(points, { target: 120 })!;
  assert.equal(e.doubled, 120);
  assert.ok(Math.abs(e.score_doubled - law(120)) < 1e-9, 'three times the rows, read on the same law');
  assert.equal(estimateGain(points, { target: 120, floor: 0.9 })!.score_doubled, 0.9, 'not below the floor');
  assert.equal(estimateGain(points, { target: 120, floor: 0.1 })!.score_doubled, e.score_doubled, 'a floor below the curve changes nothing');
  // One example a label: every share keeps the one, so the points differ only by noise.
  assert.equal(
    estimateGain([
      { examples: 77, folds: [0.4, 0.5] },
      { examples: 77, folds: [0.42, 0.45] },
    ]),
    null,
  );
});

test('the floor bounds the mean over folds, not each fold: noisy folds do not lift the estimate', () => {
  // Two folds of a few rows each: one scored 1 by chance, one 0.5; the blend scores 0.75 over both.
  const points = [
    { examples: 4, folds: [0.5, 0.5] },
    { examples: 8, folds: [1, 0.5] },
  ];
  const e = estimateGain(points, { floor: 0.75 })!;
  assert.ok(e.score_doubled >= 0.75 && e.score_doubled < 0.9, `${e.score_doubled}`);
  const [lo, hi] = e.interval!;
  assert.ok(lo < e.score_doubled && e.score_doubled < hi, 'the interval is about the estimate');
});

test('rows every share trains on (descriptions) count in the law: exact on a law in examples + extra', () => {
  const extra = 77;
  const law = (n: number) => 1 - 3 * (n + extra) ** -0.5;
  const points = [77, 154, 231].map((examples) => ({ examples, folds: [law(examples), law(examples)] }));
  const e = estimateGain(points, { target: 493, extra })!;
  assert.ok(Math.abs(e.score_doubled - law(493)) < 1e-9, `${e.score_doubled} against ${law(493)}`);
  const blind = estimateGain(points, { target: 493 })!;
  assert.ok(blind.score_doubled < e.score_doubled, 'left out, the rise reads slower and the estimate leans low');
});

test('no curve falls faster than 1/n: a steep rise from tiny shares is read at the exponent 1', () => {
  // Folds of a few rows: the error from 0.5 to 0.1 over twice the rows, a fitted exponent of 2.3.
  const points = [
    { examples: 20, folds: [0.5, 0.6] },
    { examples: 40, folds: [0.9, 0.92] },
  ];
  const e = estimateGain(points)!;
  assert.deepEqual(e.b, [MAX_EXPONENT, MAX_EXPONENT]);
  const expected = (1 - 0.1 / 2 + (1 - 0.08 / 2)) / 2;
  assert.ok(Math.abs(e.score_doubled - expected) < 1e-9, `${e.score_doubled} against ${expected}`);
});
