/**
 * The labels' prior on unlabelled texts, from a classifier's probabilities on
 * them: the EM re-weighting of Saerens, Latinne & Decaestecker (2002). A
 * classifier made under prior π gives p(y|x); under another prior π̂ the
 * posterior is p(y|x)·π̂(y)/π(y), renormalised over y, and π̂ is the mean of
 * those posteriors over the texts. Alternating the two converges to the prior
 * of greatest likelihood. Pure.
 */

/** The estimate stops when no label's prior moves by more than this in an iteration. */
const TOLERANCE = 1e-6;
const MAX_ITERATIONS = 1000;
/**
 * No label's prior falls below this fraction of a uniform share: EM can drive a
 * label the pool seems to lack to zero, and a prior of zero would rule the label
 * out for every text however clearly the text belongs to it.
 */
const FLOOR_SHARE = 0.01;

export interface PriorEstimate {
  /** One per label, summing to 1. */
  prior: Float64Array;
  iterations: number;
}

/** `training`: the prior the classifier was made under (default uniform, as a zero-shot prototype head's). */
export function estimatePrior(probabilities: Float32Array, n: number, k: number, training?: ArrayLike<number>): PriorEstimate {
  const base = Float64Array.from({ length: k }, (_, c) => training?.[c] ?? 1 / k);
  let prior = Float64Array.from(base);
  if (n === 0) return { prior, iterations: 0 };
  const ratio = new Float64Array(k);
  const next = new Float64Array(k);
  let iterations = 0;
  while (iterations < MAX_ITERATIONS) {
    iterations++;
    for (let c = 0; c < k; c++) ratio[c] = prior[c]! / base[c]!;
    next.fill(0);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += probabilities[i * k + c]! * ratio[c]!;
      if (sum <= 0) continue;
      for (let c = 0; c < k; c++) next[c]! += (probabilities[i * k + c]! * ratio[c]!) / sum;
    }
    let total = 0;
    for (let c = 0; c < k; c++) total += next[c]!;
    let moved = 0;
    for (let c = 0; c < k; c++) {
      const v = total > 0 ? next[c]! / total : base[c]!;
      moved = Math.max(moved, Math.abs(v - prior[c]!));
      next[c] = v;
    }
    prior = Float64Array.from(next);
    if (moved < TOLERANCE) break;
  }
  return { prior: floored(prior, k), iterations };
}

/** `prior` with every label at least FLOOR_SHARE of a uniform share, renormalised. */
function floored(prior: Float64Array, k: number): Float64Array {
  const floor = FLOOR_SHARE / k;
  const out = Float64Array.from(prior, (v) => Math.max(v, floor));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / sum);
}

/** `probabilities` (n × k, made under `training`, default uniform) re-weighted to `prior`: p(y|x)·π̂(y)/π(y), renormalised. */
export function reweight(probabilities: Float32Array, n: number, k: number, prior: ArrayLike<number>, training?: ArrayLike<number>): Float32Array {
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += out[i * k + c] = (probabilities[i * k + c]! * prior[c]!) / (training?.[c] ?? 1 / k);
    if (sum > 0) for (let c = 0; c < k; c++) out[i * k + c]! /= sum;
  }
  return out;
}
