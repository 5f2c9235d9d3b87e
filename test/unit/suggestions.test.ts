/** Choosing texts to label: uncertainty by margin (or by threshold), and diversity that keeps near-duplicates apart. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { suggest, uncertainty } from '../../src/serving/suggestions.js';

test('uncertainty: one minus the margin of the two most probable labels; for multi-label, the label nearest its threshold', () => {
  const input = { probabilities: Float32Array.from([0.5, 0.3, 0.2, 0.9, 0.05, 0.05]), features: new Float32Array(2), n: 2, k: 3, dim: 1 };
  assert.ok(Math.abs(uncertainty(input, 0) - 0.8) < 1e-6);
  assert.ok(Math.abs(uncertainty(input, 1) - 0.15) < 1e-6);
  const multi = { ...input, k: 2, n: 3, probabilities: Float32Array.from([0.3, 0.95, 0.05, 0.9, 0.99, 0.01]), thresholds: [0.3, 0.5] };
  assert.ok(Math.abs(uncertainty(multi, 0) - 1) < 1e-6, 'exactly at its threshold');
  assert.ok(uncertainty(multi, 0) > uncertainty(multi, 1) && uncertainty(multi, 1) > uncertainty(multi, 2));
});

test('diversity keeps near-duplicates of an uncertain text from filling the suggestions', () => {
  // Rows 0-2: three near-identical, very uncertain texts; rows 3-5: less uncertain, each its own direction.
  const features = Float32Array.from([1, 0, 0, 0, 0.999, 0.04, 0, 0, 0.998, 0, 0.06, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const probabilities = Float32Array.from([0.5, 0.5, 0.51, 0.49, 0.52, 0.48, 0.7, 0.3, 0.72, 0.28, 0.75, 0.25]);
  const input = { probabilities, features, n: 6, k: 2, dim: 4 };
  assert.deepEqual(
    suggest(input, 3, 0).map((s) => s.index),
    [0, 1, 2],
    'uncertainty alone takes the three near-duplicates',
  );
  const spread = suggest(input, 3, 0.5);
  assert.deepEqual(
    spread.map((s) => s.index),
    [0, 3, 4],
  );
  assert.equal(spread[0]!.similarity, 0);
  assert.ok(spread.every((s) => s.similarity < 0.5));
  assert.equal(suggest(input, 10, 0.5).length, 6, 'never more than the rows');
});

test('rows chosen before (another way) are never chosen again, and the picks keep apart from them', () => {
  // Rows 0-2: near-identical, very uncertain; rows 3-5: less uncertain, each its own direction.
  const features = Float32Array.from([1, 0, 0, 0, 0.999, 0.04, 0, 0, 0.998, 0, 0.06, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const probabilities = Float32Array.from([0.5, 0.5, 0.51, 0.49, 0.52, 0.48, 0.7, 0.3, 0.72, 0.28, 0.75, 0.25]);
  const input = { probabilities, features, n: 6, k: 2, dim: 4 };
  const picks = suggest(input, 2, 0.5, [0]);
  assert.deepEqual(
    picks.map((s) => s.index),
    [3, 4],
    'row 0 taken: its near-duplicates count as close to a pick',
  );
  assert.ok(picks[0]!.similarity < 0.5);
  assert.equal(suggest(input, 10, 0, [0, 1]).length, 4, 'never more than the rows left');
});
