/**
 * A learning curve: how a head's cross-validated score grows with the
 * examples it is trained on, and what more of them would bring. Each point
 * keeps every fold's held-out rows and trains on a stratified share of the
 * fold's training rows, so points differ only in how much the head saw.
 *
 * The estimate follows a power law in the error rate, error ∝ n^(−b), the
 * usual shape of learning curves (Cortes et al., 1994; Hestness et al., 2017),
 * fold by fold from each fold's own score at the full share, and reads it at
 * twice the examples, with an interval from the folds' spread. It is an
 * extrapolation from a few points and says so. Starting from that score and
 * weighting the later points keep it from leaning optimistic where the curve
 * flattens (docs/benchmarks/little-data.md has the check).
 */
import { rng, type Split } from '../heads/evaluation.js';

/** The split with its training rows cut to `fraction` of each class (at least one row of each class it had), seeded. */
export function subsampleSplit(split: Split, y: Int32Array, fraction: number, seed: number): Split {
  const byClass = new Map<number, number[]>();
  for (const row of split.train) byClass.set(y[row]!, [...(byClass.get(y[row]!) ?? []), row]);
  const rand = rng(seed);
  const kept: number[] = [];
  for (const rows of byClass.values()) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    kept.push(...rows.slice(0, Math.max(1, Math.round(rows.length * fraction))));
  }
  return { train: Int32Array.from(kept.sort((a, b) => a - b)), test: split.test };
}

export interface CurvePoint {
  /** Training rows per fold (mean over the folds). */
  examples: number;
  /** Each fold's score at this share, in [0, 1] (accuracy; macro-F1 for multi-label tasks). */
  folds: readonly number[];
}

export interface CurveEstimate {
  /** Each fold's error exponent: 1 − score falls as examples^(−b). */
  b: number[];
  /** Training rows per fold now, and where the curve is read: what a fold trains on with twice the examples. */
  examples: number;
  doubled: number;
  /** The mean over folds of each fold's score read at twice the examples. */
  score_doubled: number;
  /** A 95 % interval for it from the folds' spread (Student's t); null with a single split. */
  interval: [number, number] | null;
}

/** Two-sided 97.5 % quantiles of Student's t by degrees of freedom (1 … 19); folds are at most 20. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093];

/** The steepest error exponent a curve is read with. */
export const MAX_EXPONENT = 1;

/** The slope of log(error) on log(examples), by least squares weighted by examples; null when it cannot be had. */
function errorExponent(examples: readonly number[], scores: readonly number[]): number | null {
  const use = examples.map((n, i) => ({ n, e: 1 - scores[i]! })).filter((p) => p.e > 0 && p.n > 0);
  if (use.length < 2) return null;
  const w = use.map((p) => p.n);
  const sw = w.reduce((a, b) => a + b, 0);
  const xs = use.map((p) => Math.log(p.n));
  const ys = use.map((p) => Math.log(p.e));
  const mx = xs.reduce((a, x, i) => a + w[i]! * x, 0) / sw;
  const my = ys.reduce((a, y, i) => a + w[i]! * y, 0) / sw;
  const sxx = xs.reduce((a, x, i) => a + w[i]! * (x - mx) ** 2, 0);
  if (sxx === 0) return null;
  const slope = xs.reduce((a, x, i) => a + w[i]! * (x - mx) * (ys[i]! - my), 0) / sxx;
  // A curve that does not fall promises nothing from more examples; none falls faster than 1/n (the fast rate of
  // statistical learning, and the error holds an irreducible part): steeper slopes are noise of tiny shares.
  return Math.min(MAX_EXPONENT, Math.max(0, -slope));
}

export interface GainOptions {
  /** Training rows a fold where the curve is read; by default twice the last point's (the caller knows how an evaluation of twice the examples would split them). */
  target?: number;
  /** A score the estimate does not go below: what the version scores now, where it is more than the head the curve follows. */
  floor?: number;
  /** Rows every share trains on beside the counted examples (label descriptions): the law runs in examples + extra. */
  extra?: number;
}

/**
 * What twice the examples would bring: each fold's own curve, a power law in its error, read from the fold's
 * measured score at the full share (so the estimate starts from what was measured, not from the fit), with the
 * later points weighted more (they are nearer the extrapolation); then the mean over folds, and an interval from
 * their spread. A fold whose errors allow no fit (none left) promises no gain. The floor bounds the mean, not each
 * fold: on folds of a few rows the larger of two noisy scores, fold by fold, would lean far upwards. Null with fewer
 * than two points or where every share trained on as many rows (one example a label cannot be cut): there is no
 * curve to read. The last point must be the full share.
 */
export function estimateGain(points: readonly CurvePoint[], options: GainOptions = {}): CurveEstimate | null {
  if (points.length < 2) return null;
  const extra = options.extra ?? 0;
  const examples = points.map((p) => p.examples);
  if (new Set(examples).size < 2) return null;
  const last = points[points.length - 1]!;
  const at = options.target ?? 2 * last.examples;
  const exponents = last.folds.map((_, f) =>
    errorExponent(
      examples.map((n) => n + extra),
      points.map((p) => p.folds[f]!),
    ),
  );
  const b = exponents.map((e) => e ?? 0);
  const growth = (at + extra) / (last.examples + extra);
  const doubled = last.folds.map((now, f) => 1 - (1 - now) * growth ** -b[f]!);
  const k = doubled.length;
  const curve = doubled.reduce((a, x) => a + x, 0) / k;
  const mean = Math.max(curve, options.floor ?? 0);
  let interval: [number, number] | null = null;
  if (k >= 2) {
    const sd = Math.sqrt(doubled.reduce((a, x) => a + (x - curve) ** 2, 0) / (k - 1));
    const half = T975[Math.min(k - 1, T975.length) - 1]! * (sd / Math.sqrt(k));
    interval = [Math.max(0, mean - half), Math.min(1, mean + half)];
  }
  return { b, examples: last.examples, doubled: at, score_doubled: mean, interval };
}
