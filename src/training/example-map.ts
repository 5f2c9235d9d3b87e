/**
 * The 2-D map of a task's examples that the console draws: a principal
 * component analysis of the features the version was trained on, computed in
 * the training process beside the evaluation it is shown with.
 *
 * PCA rather than UMAP or t-SNE: it is deterministic, has no parameters to
 * tune per task, costs O(rows × dimensions) per iteration, and its axes mean
 * something (the directions of largest variance, with the share of variance
 * each explains). Its weakness, crowding of classes that differ along many
 * small directions, is visible as overlap rather than invented as structure.
 *
 * The two components come from subspace iteration on the covariance, applied
 * as Xᵀ(X·V) without forming it (a 2,304-dimension covariance would hold 5.3
 * million entries), on at most MAP_POINTS rows: a seeded sample is plenty to
 * find two directions and keeps the map's payload bounded.
 */
import { rng } from '../heads/evaluation.js';

/** Most points a map holds; larger tasks are sampled (seeded, so a retrain with the same seed draws the same rows). */
export const MAP_POINTS = 2000;
const MAX_ITERATIONS = 100;
/** Stop when the axes move less than this (1 − |cos| of each between iterations): far below what a plot shows. */
const TOLERANCE = 1e-7;

export interface ExampleMap {
  method: 'pca';
  /** Row indices (into the training rows) the map shows, ascending. */
  rows: Int32Array;
  /** Coordinates, interleaved: x of row i at 2i, y at 2i + 1. */
  coords: Float32Array;
  /** Share of the sample's total variance along each axis. */
  explainedVarianceRatio: [number, number];
}

/** `count` distinct row indices of `n`, ascending; every row when n ≤ count. */
export function sampleRows(n: number, count: number, seed: number): Int32Array {
  if (n <= count) return Int32Array.from({ length: n }, (_, i) => i);
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const rand = rng(seed);
  // A partial Fisher–Yates shuffle: the first `count` places are a uniform sample.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = rows[i]!;
    rows[i] = rows[j]!;
    rows[j] = t;
  }
  return rows.slice(0, count).sort();
}

/**
 * Projects `rows` of the row-major matrix `x` (dim columns) onto their first
 * two principal components. Signs are fixed so that each axis's largest
 * loading is positive: the same data always gives the same picture.
 */
export function pca2(x: Float32Array, dim: number, rows: Int32Array, seed: number): ExampleMap {
  const m = rows.length;
  const mean = new Float64Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) mean[j]! += x[r * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= Math.max(1, m);
  // Centred copy of the sample, in float64: sums over thousands of rows lose digits in float32.
  const c = new Float64Array(m * dim);
  let total = 0;
  rows.forEach((r, i) => {
    for (let j = 0; j < dim; j++) {
      const v = x[r * dim + j]! - mean[j]!;
      c[i * dim + j] = v;
      total += v * v;
    }
  });

  const rand = rng(seed ^ 0x5eed);
  let v1: Float64Array = Float64Array.from({ length: dim }, () => rand() - 0.5);
  let v2: Float64Array = Float64Array.from({ length: dim }, () => rand() - 0.5);
  orthonormalize(v1, v2);
  let lambda: [number, number] = [0, 0];
  for (let it = 0; it < MAX_ITERATIONS; it++) {
    const [w1, w2] = covarianceTimes(c, m, dim, v1, v2);
    lambda = [dot(v1, w1), dot(v2, w2)];
    orthonormalize(w1, w2);
    const moved = Math.max(1 - Math.abs(dot(w1, v1)), 1 - Math.abs(dot(w2, v2)));
    v1 = w1;
    v2 = w2;
    if (moved < TOLERANCE) break;
  }
  // Subspace iteration can converge with the two swapped in value; order them.
  if (lambda[1] > lambda[0]) {
    [v1, v2] = [v2, v1];
    lambda = [lambda[1], lambda[0]];
  }
  for (const v of [v1, v2]) fixSign(v);

  const coords = new Float32Array(2 * m);
  for (let i = 0; i < m; i++) {
    let a = 0;
    let b = 0;
    for (let j = 0; j < dim; j++) {
      a += c[i * dim + j]! * v1[j]!;
      b += c[i * dim + j]! * v2[j]!;
    }
    coords[2 * i] = a;
    coords[2 * i + 1] = b;
  }
  // λ here is the sum of squares along the axis (Xᵀ X, not divided by m), as `total` is.
  const ratio = (l: number) => (total > 0 ? Math.max(0, l) / total : 0);
  return { method: 'pca', rows, coords, explainedVarianceRatio: [ratio(lambda[0]), ratio(lambda[1])] };
}

/** Xᵀ(X a) and Xᵀ(X b) for the m × dim matrix c, in one pass over it. */
function covarianceTimes(c: Float64Array, m: number, dim: number, a: Float64Array, b: Float64Array): [Float64Array, Float64Array] {
  const outA = new Float64Array(dim);
  const outB = new Float64Array(dim);
  for (let i = 0; i < m; i++) {
    let sa = 0;
    let sb = 0;
    const base = i * dim;
    for (let j = 0; j < dim; j++) {
      sa += c[base + j]! * a[j]!;
      sb += c[base + j]! * b[j]!;
    }
    for (let j = 0; j < dim; j++) {
      outA[j]! += sa * c[base + j]!;
      outB[j]! += sb * c[base + j]!;
    }
  }
  return [outA, outB];
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Gram–Schmidt on two vectors, in place. A vector that vanishes (rank below 2) stays zero. */
function orthonormalize(a: Float64Array, b: Float64Array): void {
  scale(a);
  const p = dot(a, b);
  for (let i = 0; i < b.length; i++) b[i]! -= p * a[i]!;
  scale(b);
}

function scale(v: Float64Array): void {
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
}

function fixSign(v: Float64Array): void {
  let largest = 0;
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i]!) > Math.abs(v[largest]!)) largest = i;
  if (v[largest]! < 0) for (let i = 0; i < v.length; i++) v[i] = -v[i]!;
}
