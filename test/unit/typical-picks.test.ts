/** Choosing texts to label from a cold start: typical texts of distinct, uncovered clusters, not outliers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/heads/rng.js';
import { kMeans, suggestTypical, uncertaintyWeightFor } from '../../src/serving/typical-picks.js';

const DIM = 16;

/**
 * `sizes[c]` points around centre c (each centre its own axis), spread `noise`,
 * then `outliers` points each on an axis of its own (far from every cluster).
 */
function blobs(sizes: number[], outliers: number, seed: number, noise = 0.15) {
  const rng = new Rng(seed);
  const gauss = () => {
    const u = (rng.nextU32() + 1) / 4294967297;
    const v = rng.nextU32() / 4294967296;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const rows: number[][] = [];
  const cluster: number[] = [];
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++) {
      const r = Array.from({ length: DIM }, () => noise * gauss());
      r[c] = r[c]! + 1;
      rows.push(r);
      cluster.push(c);
    }
  });
  for (let o = 0; o < outliers; o++) {
    const r = Array.from({ length: DIM }, () => 0.02 * gauss());
    r[sizes.length + o] = 1;
    rows.push(r);
    cluster.push(-1);
  }
  return { features: Float32Array.from(rows.flat()), n: rows.length, cluster };
}

/** Nearly flat probabilities over 4 labels (what a head fitted on a handful of rows gives), slightly noisy. */
function flat(n: number, seed: number, outliersFrom = n): Float32Array {
  const rng = new Rng(seed);
  const p = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    // The outliers are made the least certain of all: a pick by uncertainty or by spread would take them.
    const jitter = i >= outliersFrom ? 0 : 0.004 * (rng.nextU32() / 4294967296);
    p.set([0.25 + jitter, 0.25, 0.25 - jitter / 2, 0.25 - jitter / 2], i * 4);
  }
  return p;
}

test('k-means separates well-apart blobs and is deterministic for a seed', () => {
  const { features, n, cluster } = blobs([30, 30, 30], 0, 1);
  const unit = features.slice();
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < DIM; j++) s += unit[i * DIM + j]! ** 2;
    for (let j = 0; j < DIM; j++) unit[i * DIM + j]! /= Math.sqrt(s);
  }
  const a = kMeans(unit, n, DIM, 3, 7);
  // Every blob lands in one cluster of its own.
  const of = new Map<number, Set<number>>();
  for (const [i, c] of cluster.entries()) of.set(c, (of.get(c) ?? new Set()).add(a[i]!));
  assert.deepEqual(
    [...of.values()].map((s) => s.size),
    [1, 1, 1],
  );
  assert.equal(new Set([...of.values()].map((s) => [...s][0])).size, 3);
  assert.deepEqual(kMeans(unit, n, DIM, 3, 7), a, 'same seed, same clusters');
});

test('with flat probabilities the picks cover distinct clusters and take no outlier', () => {
  const { features, n, cluster } = blobs([40, 30, 25, 20, 15], 6, 2);
  const input = { features, probabilities: flat(n, 3, n - 6), n, k: 4, dim: DIM, labelled: new Float32Array(0), m: 0, seed: 0 };
  const picks = suggestTypical({ ...input, uncertaintyWeight: uncertaintyWeightFor(2, 2) }, 5);
  assert.equal(picks.length, 5);
  assert.deepEqual(picks.map((p) => cluster[p.index]).sort(), [0, 1, 2, 3, 4], 'one pick in each blob');
  assert.ok(
    picks.every((p) => p.typicality > 0.5),
    'each pick typical of its cluster',
  );
  // The old default (most uncertain, spread) would take the outliers: they are the least certain and the farthest apart.
  assert.deepEqual(suggestTypical({ ...input, uncertaintyWeight: 1 }, 6).filter((p) => cluster[p.index] === -1).length > 0, true);
});

test('a cluster the examples cover is passed over for one they do not', () => {
  const { features, n, cluster } = blobs([40, 35, 12], 0, 4);
  // Examples in the two large blobs: the small, uncovered one comes first.
  const labelled = Float32Array.from([...features.subarray(0, DIM), ...features.subarray(45 * DIM, 46 * DIM)]);
  const input = { features, probabilities: flat(n, 5), n, k: 4, dim: DIM, labelled, m: 2, uncertaintyWeight: 0, seed: 0 };
  const picks = suggestTypical(input, 1);
  assert.equal(cluster[picks[0]!.index], 2);
  const without = suggestTypical({ ...input, labelled: new Float32Array(0), m: 0 }, 1);
  assert.equal(cluster[without[0]!.index], 0, 'uncovered, the largest cluster comes first');
});

test('as the weight of uncertainty grows, the least certain text of a cluster is chosen', () => {
  const { features, n } = blobs([50], 0, 6);
  const probabilities = flat(n, 7);
  // Row 17: the head is torn between two labels; every other row it is sure of.
  for (let i = 0; i < n; i++) probabilities.set(i === 17 ? [0.5, 0.5, 0, 0] : [0.97, 0.01, 0.01, 0.01], i * 4);
  const input = { features, probabilities, n, k: 4, dim: DIM, labelled: new Float32Array(0), m: 0, seed: 0 };
  assert.equal(suggestTypical({ ...input, uncertaintyWeight: 0.9 }, 1)[0]!.index, 17);
  assert.notEqual(suggestTypical({ ...input, uncertaintyWeight: 0 }, 1)[0]!.index, 17);
});

test('deterministic for a seed; never more picks than rows; weight schedule', () => {
  const { features, n } = blobs([20, 20, 20, 20], 3, 8);
  const input = { features, probabilities: flat(n, 9), n, k: 4, dim: DIM, labelled: new Float32Array(0), m: 0, uncertaintyWeight: 0.2, seed: 3 };
  assert.deepEqual(suggestTypical(input, 10), suggestTypical(input, 10));
  const all = suggestTypical(input, 1000);
  assert.equal(all.length, n);
  assert.equal(new Set(all.map((p) => p.index)).size, n, 'each row once');
  assert.equal(uncertaintyWeightFor(0, 8), 0);
  assert.equal(uncertaintyWeightFor(8, 8), 0.5);
  assert.ok(uncertaintyWeightFor(64, 8) > 0.85);
});
