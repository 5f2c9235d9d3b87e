/**
 * A learning curve: how a head's cross-validated score grows with the
 * examples it is trained on, and what more of them would bring. Each point
 * keeps every fold's held-out rows and trains on a stratified share of the
 * fold's training rows, so points differ only in how much the head saw.
 *
 * The estimate fits a power law to the error rate, error ≈ a · n^(−b), the
 * usual shape of learning curves (Cortes et al., 1994; Hestness et al., 2017),
 * by least squares in log–log space, and reads it at twice the examples. It
 * is an extrapolation from a few points and says so.
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
  /** The score the estimate follows, in [0, 1] (accuracy; macro-F1 for multi-label tasks). */
  score: number;
}

export interface CurveEstimate {
  /** 1 − score ≈ a · examples^(−b). */
  a: number;
  b: number;
  /** Training rows per fold now, and twice that. */
  examples: number;
  doubled: number;
  /** The score the fit gives now (to compare with the measured one) and at twice the examples. */
  score_now: number;
  score_doubled: number;
}

/** The power law through the points' errors (1 − score), or null when fewer than two points have an error to fit. */
export function estimateGain(points: readonly CurvePoint[]): CurveEstimate | null {
  const usable = points.filter((p) => p.score < 1 && p.examples > 0);
  if (usable.length < 2) return null;
  const xs = usable.map((p) => Math.log(p.examples));
  const ys = usable.map((p) => Math.log(1 - p.score));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  if (sxx === 0) return null;
  const slope = xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0) / sxx;
  // A curve that does not fall (slope ≥ 0) promises nothing from more examples: b = 0.
  const b = Math.max(0, -slope);
  const a = Math.exp(my + b * mx);
  const last = points[points.length - 1]!;
  const at = (n: number) => Math.max(0, 1 - a * n ** -b);
  return { a, b, examples: last.examples, doubled: 2 * last.examples, score_now: at(last.examples), score_doubled: at(2 * last.examples) };
}
