/**
 * libsvm's probability machinery (3.22): Platt scaling of decision values
 * (Lin, Lin & Weng 2007's robust Newton method) and pairwise coupling of the
 * one-vs-one probabilities (Wu, Lin & Weng 2004, method 2).
 */

export interface Sigmoid {
  probA: number;
  probB: number;
}

/** The sigmoid P(y=+1|f) = 1/(1+exp(A·f+B)), fit to decision values `f` with labels `positive`. */
export function sigmoidTrain(f: Float64Array, positive: Uint8Array): Sigmoid {
  const l = f.length;
  let prior1 = 0;
  for (let i = 0; i < l; i++) prior1 += positive[i]!;
  const prior0 = l - prior1;
  const maxIter = 100;
  const minStep = 1e-10;
  const sigma = 1e-12; // keeps the Hessian strictly positive definite
  const eps = 1e-5;
  // Regularised targets (Platt's) instead of 0/1, against overfitting the sigmoid.
  const hiTarget = (prior1 + 1) / (prior1 + 2);
  const loTarget = 1 / (prior0 + 2);
  const t = new Float64Array(l);
  for (let i = 0; i < l; i++) t[i] = positive[i] ? hiTarget : loTarget;

  let A = 0;
  let B = Math.log((prior0 + 1) / (prior1 + 1));
  let fval = objective(f, t, A, B);
  for (let iter = 0; iter < maxIter; iter++) {
    let h11 = sigma,
      h22 = sigma,
      h21 = 0,
      g1 = 0,
      g2 = 0;
    for (let i = 0; i < l; i++) {
      const fApB = f[i]! * A + B;
      let p: number, q: number;
      if (fApB >= 0) {
        p = Math.exp(-fApB) / (1 + Math.exp(-fApB));
        q = 1 / (1 + Math.exp(-fApB));
      } else {
        p = 1 / (1 + Math.exp(fApB));
        q = Math.exp(fApB) / (1 + Math.exp(fApB));
      }
      const d2 = p * q;
      h11 += f[i]! * f[i]! * d2;
      h22 += d2;
      h21 += f[i]! * d2;
      const d1 = t[i]! - p;
      g1 += f[i]! * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < eps && Math.abs(g2) < eps) break;

    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    while (step >= minStep) {
      const newA = A + step * dA;
      const newB = B + step * dB;
      const newf = objective(f, t, newA, newB);
      if (newf < fval + 0.0001 * step * gd) {
        A = newA;
        B = newB;
        fval = newf;
        break;
      }
      step /= 2;
    }
    if (step < minStep) break; // line search failed; keep the last good point, as libsvm does
  }
  return { probA: A, probB: B };
}

/** Cross-entropy of the sigmoid against the targets, written to avoid overflow. */
function objective(f: Float64Array, t: Float64Array, A: number, B: number): number {
  let v = 0;
  for (let i = 0; i < f.length; i++) {
    const fApB = f[i]! * A + B;
    v += fApB >= 0 ? t[i]! * fApB + Math.log(1 + Math.exp(-fApB)) : (t[i]! - 1) * fApB + Math.log(1 + Math.exp(fApB));
  }
  return v;
}

/** P(y=+1 | decision value f). */
export function sigmoidPredict(f: number, A: number, B: number): number {
  const fApB = f * A + B;
  // Both branches avoid cancellation in 1 − p, which the coupling uses.
  return fApB >= 0 ? Math.exp(-fApB) / (1 + Math.exp(-fApB)) : 1 / (1 + Math.exp(fApB));
}

/**
 * Class probabilities p (length k) from pairwise probabilities r (k×k,
 * r[i][j] = P(i | i or j), r[j][i] = 1 − r[i][j]). `Q` and `Qp` are k×k and
 * k scratch arrays, so a predictor can reuse them across rows.
 *
 * libsvm's fixed-point iteration, with one change for speed: each
 * coordinate update rescales all of p and Qp by 1/(1+diff); that factor is
 * kept aside (p = scale·u, Qp = scale·v) and applied once per sweep, which
 * halves the O(k²) work of a sweep. Only rounding differs.
 */
export function multiclassProbability(
  k: number,
  r: Float64Array,
  p: Float64Array,
  Q: Float64Array = new Float64Array(k * k),
  Qp: Float64Array = new Float64Array(k),
): void {
  const maxIter = Math.max(100, k);
  const eps = 0.005 / k;
  for (let t = 0; t < k; t++) {
    p[t] = 1 / k;
    let qtt = 0;
    for (let j = 0; j < t; j++) {
      qtt += r[j * k + t]! * r[j * k + t]!;
      Q[t * k + j] = Q[j * k + t]!;
    }
    for (let j = t + 1; j < k; j++) {
      qtt += r[j * k + t]! * r[j * k + t]!;
      Q[t * k + j] = -r[j * k + t]! * r[t * k + j]!;
    }
    Q[t * k + t] = qtt;
  }
  for (let iter = 0; iter < maxIter; iter++) {
    // Recomputed each sweep (not only updated) for numerical accuracy, as libsvm.
    let pQp = 0;
    for (let t = 0; t < k; t++) {
      let s = 0;
      const row = t * k;
      for (let j = 0; j < k; j++) s += Q[row + j]! * p[j]!;
      Qp[t] = s;
      pQp += p[t]! * s;
    }
    let maxError = 0;
    for (let t = 0; t < k; t++) maxError = Math.max(maxError, Math.abs(Qp[t]! - pQp));
    if (maxError < eps) break;
    let scale = 1;
    for (let t = 0; t < k; t++) {
      const row = t * k;
      const qtt = Q[row + t]!;
      const qpt = scale * Qp[t]!;
      const diff = (-qpt + pQp) / qtt;
      p[t] = p[t]! + diff / scale;
      pQp = (pQp + diff * (diff * qtt + 2 * qpt)) / (1 + diff) / (1 + diff);
      const step = diff / scale;
      for (let j = 0; j < k; j++) Qp[j] = Qp[j]! + step * Q[row + j]!;
      scale /= 1 + diff;
    }
    for (let t = 0; t < k; t++) p[t] = p[t]! * scale;
  }
}
