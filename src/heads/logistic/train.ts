/**
 * Fitting softmax regression: scikit-learn's objective,
 *   ½‖W‖² + C · Σᵢ sᵢ · (log Σ_c exp(zᵢc) − zᵢ,yᵢ),   zᵢ = W·xᵢ + b,
 * with sᵢ the weight of row i's class (the intercept is not penalised); for a
 * multi-label data set, one-vs-rest: every label its own sigmoid,
 *   ½‖W‖² + C · Σᵢ Σ_c (log(1 + exp(zᵢc)) − tᵢc · zᵢc),
 * a sum of independent binary problems fitted at once (the same two matrix
 * products serve every label),
 * minimised by L-BFGS (ten pairs of memory, backtracking Armijo line search).
 * Full-batch and single-threaded: the result is a pure function of the rows,
 * their order and the parameters; a job runs its folds and configurations
 * side by side on its pool instead.
 */
import { balancedClassWeights } from '../class-weights.js';
import { type Dataset, takeRows } from '../dataset.js';
import { crossProducts } from '../linalg/gram.js';

export interface LogisticFit {
  /** Inverse regularisation strength. */
  C: number;
  /** Weight of each class's rows (index = class), 'balanced' (resolved on the rows fitted), or none. */
  classWeight: 'balanced' | readonly number[] | undefined;
  maxIter: number;
  /** Stop when max |gradient| ≤ tolerance × max(1, its first value). */
  tolerance: number;
}

export interface LogisticWeights {
  /** classes × dim, row-major. */
  w: Float64Array;
  b: Float64Array;
  iterations: number;
}

const MEMORY = 10;
const ARMIJO = 1e-4;

/** The training rows, and their transpose: the objective's two products are X·Wᵀ and Rᵀ·X. */
interface Rows {
  x: Float32Array;
  xt: Float32Array;
  y: Int32Array;
  /** Multi-label: m × k multi-hot. */
  targets: Uint8Array | undefined;
  m: number;
}

/**
 * Objective and gradient at θ = [W, b] (gradient written to `g`). The two
 * products run through crossProducts, which hands large ones to onnxruntime
 * (MLAS), one thread: a job fits its folds and configurations side by side on
 * its pool. They are float32; the sums over rows and L-BFGS's state are float64.
 */
function objective(theta: Float64Array, g: Float64Array, rows: Rows, k: number, d: number, C: number, classWeight: readonly number[]): number {
  const { x, xt, y, m, targets } = rows;
  const wLen = k * d;
  let f = 0;
  for (let i = 0; i < wLen; i++) {
    f += 0.5 * theta[i]! * theta[i]!;
    g[i] = theta[i]!;
  }
  g.fill(0, wLen);
  const z = crossProducts(x, m, Float32Array.from(theta.subarray(0, wLen)), k, d, { threads: 1 });
  // Rᵀ, k × m: the loss's derivative by each row's logits, sᵢ · (pᵢ − e_yᵢ).
  const rt = new Float32Array(k * m);
  const p = new Float64Array(k);
  for (let i = 0; i < m && targets; i++) {
    for (let c = 0; c < k; c++) {
      const zc = z[i * k + c]! + theta[wLen + c]!;
      const t = targets[i * k + c]!;
      // log(1 + e^z), stable both ways.
      f += C * ((zc > 0 ? zc + Math.log1p(Math.exp(-zc)) : Math.log1p(Math.exp(zc))) - t * zc);
      const coef = C * (1 / (1 + Math.exp(-zc)) - t);
      rt[c * m + i] = coef;
      g[wLen + c]! += coef;
    }
  }
  for (let i = 0; i < m && !targets; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      p[c] = z[i * k + c]! + theta[wLen + c]!;
      if (p[c]! > max) max = p[c]!;
    }
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(p[c]! - max);
    const label = y[i]!;
    const s = C * classWeight[label]!;
    f += s * (max + Math.log(sum) - p[label]!);
    for (let c = 0; c < k; c++) {
      const coef = s * (Math.exp(p[c]! - max) / sum - (c === label ? 1 : 0));
      rt[c * m + i] = coef;
      g[wLen + c]! += coef;
    }
  }
  const gw = crossProducts(rt, k, xt, d, m, { threads: 1 });
  for (let i = 0; i < wLen; i++) g[i]! += gw[i]!;
  return f;
}

function rowsOf(data: Dataset, rows: Int32Array | null): Rows {
  const taken = rows ? takeRows(data, rows) : data;
  const { n: m, dim: d } = taken;
  const xt = new Float32Array(d * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) xt[j * m + i] = taken.x[i * d + j]!;
  return { x: taken.x.subarray(0, m * d), xt, y: taken.y, targets: taken.targets, m };
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Fits the head on the rows `rows` of `data` (all rows when null). */
export function fitLogistic(data: Dataset, rows: Int32Array | null, fit: LogisticFit): LogisticWeights {
  const { dim: d, classes: k } = data;
  const use = rowsOf(data, rows);
  const size = k * (d + 1);
  const weights = fit.classWeight === 'balanced' ? balancedClassWeights(use.y, use.m, k) : (fit.classWeight ?? new Array<number>(k).fill(1));
  const evaluate = (at: Float64Array, grad: Float64Array) => objective(at, grad, use, k, d, fit.C, weights);
  let theta = new Float64Array(size);
  let g = new Float64Array(size);
  let f = evaluate(theta, g);
  const stop = fit.tolerance * Math.max(1, maxAbs(g));
  const s: Float64Array[] = [];
  const yDiff: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(MEMORY);
  let iterations = 0;
  while (iterations < fit.maxIter && maxAbs(g) > stop) {
    iterations++;
    // Two-loop recursion: direction = −H·g.
    const q = Float64Array.from(g);
    for (let m = s.length - 1; m >= 0; m--) {
      alpha[m] = rho[m]! * dot(s[m]!, q);
      for (let i = 0; i < size; i++) q[i]! -= alpha[m]! * yDiff[m]![i]!;
    }
    const last = s.length - 1;
    const gamma = last >= 0 ? dot(s[last]!, yDiff[last]!) / dot(yDiff[last]!, yDiff[last]!) : 1 / Math.max(1e-12, Math.sqrt(dot(g, g)));
    for (let i = 0; i < size; i++) q[i]! *= gamma;
    for (let m = 0; m < s.length; m++) {
      const beta = rho[m]! * dot(yDiff[m]!, q);
      for (let i = 0; i < size; i++) q[i]! += s[m]![i]! * (alpha[m]! - beta);
    }
    for (let i = 0; i < size; i++) q[i] = -q[i]!;
    let slope = dot(g, q);
    if (slope >= 0) {
      // Not a descent direction (curvature information gone stale): restart from steepest descent.
      s.length = yDiff.length = rho.length = 0;
      for (let i = 0; i < size; i++) q[i] = -g[i]! / Math.max(1e-12, Math.sqrt(dot(g, g)));
      slope = dot(g, q);
    }
    // Backtracking until the Armijo condition holds.
    let step = 1;
    const next = new Float64Array(size);
    const gNext = new Float64Array(size);
    let fNext = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < size; i++) next[i] = theta[i]! + step * q[i]!;
      fNext = evaluate(next, gNext);
      if (fNext <= f + ARMIJO * step * slope) break;
      step /= 2;
    }
    if (!(fNext < f)) break; // no progress possible at this precision
    const sk = new Float64Array(size);
    const yk = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      sk[i] = next[i]! - theta[i]!;
      yk[i] = gNext[i]! - g[i]!;
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12) {
      if (s.length === MEMORY) {
        s.shift();
        yDiff.shift();
        rho.shift();
      }
      s.push(sk);
      yDiff.push(yk);
      rho.push(1 / sy);
    }
    theta = next;
    g = gNext;
    f = fNext;
  }
  return { w: theta.slice(0, k * d), b: theta.slice(k * d), iterations };
}
