/**
 * The binary C-SVC dual solver, a port of libsvm's `Solver` (3.22):
 *
 *   min ½ αᵀQα − eᵀα   s.t.  yᵀα = 0,  0 ≤ α_a ≤ C_a
 *
 * with second-order working-set selection (WSS3 of Fan, Chen & Lin 2005),
 * optional shrinking and the same stopping rule (max KKT violation < eps).
 *
 * libsvm physically swaps variables when it shrinks; here every array stays
 * in sub-problem order and `active` lists the variables in libsvm's position
 * order, so the sweeps visit variables in the same order and break ties the
 * same way, while cached kernel rows never need their columns swapped.
 *
 * One speed-up over libsvm: the first half of the working-set selection
 * (the maximal violator i) is computed inside the gradient-update sweep of
 * the previous step, saving a pass over the active set per iteration. It
 * visits the same variables in the same order with the same values, so it
 * picks the same i.
 */
import type { QMatrix } from './kernel.js';

const TAU = 1e-12;
const LOWER = 0;
const UPPER = 1;
const FREE = 2;

export interface SolverOptions {
  /** Stopping tolerance on the maximal KKT violation (libsvm -e). */
  eps: number;
  shrinking: boolean;
}

export interface SolverResult {
  /** The dual variables, unsigned (multiply by y for decision coefficients). */
  alpha: Float64Array;
  rho: number;
  /** The dual objective value. */
  obj: number;
  iterations: number;
}

/**
 * Solves the C-SVC dual for labels `y` (±1) with per-variable upper bounds
 * `upper` (C times the class weight), starting from α = 0 as libsvm does.
 */
export function solveCSvc(q: QMatrix, y: Int8Array, upper: Float64Array, opts: SolverOptions): SolverResult {
  return new Solver(q, y, upper, opts.eps).solve(opts.shrinking);
}

class Solver {
  private readonly l: number;
  private readonly alpha: Float64Array;
  private readonly status: Int8Array;
  /** Gradient of the objective, Qα − e. */
  private readonly G: Float64Array;
  /** Σ over upper-bounded b of C_b·Q_b: what shrunk variables contribute to the gradient. */
  private readonly Gbar: Float64Array;
  private readonly active: Int32Array;
  private activeSize: number;
  private unshrink = false;
  /** The maximal violator found by the last gradient sweep; stale after shrinking or reconstruction. */
  private gmax = -Infinity;
  private gmaxIdx = -1;
  private gmaxValid = false;

  constructor(
    private readonly q: QMatrix,
    private readonly y: Int8Array,
    private readonly C: Float64Array,
    private readonly eps: number,
  ) {
    const l = q.l;
    if (y.length !== l || C.length !== l) throw new Error('solver: y, upper and Q sizes differ');
    this.l = l;
    this.alpha = new Float64Array(l);
    this.status = new Int8Array(l).fill(LOWER);
    this.G = new Float64Array(l).fill(-1);
    this.Gbar = new Float64Array(l);
    this.active = new Int32Array(l);
    for (let a = 0; a < l; a++) this.active[a] = a;
    this.activeSize = l;
  }

  solve(shrinking: boolean): SolverResult {
    const l = this.l;
    const maxIter = Math.max(10_000_000, l > 21_474_836 ? 2_147_483_647 : 100 * l);
    let counter = Math.min(l, 1000) + 1;
    let iter = 0;
    const ws = new Int32Array(2);
    while (iter < maxIter) {
      if (--counter === 0) {
        counter = Math.min(l, 1000);
        if (shrinking) this.shrink();
      }
      if (!this.selectWorkingSet(ws)) {
        this.reconstructGradient();
        this.activeSize = l;
        this.gmaxValid = false;
        if (!this.selectWorkingSet(ws)) break;
        counter = 1; // shrink at the next iteration
      }
      iter++;
      this.step(ws[0]!, ws[1]!);
    }
    if (iter >= maxIter && this.activeSize < l) {
      this.reconstructGradient();
      this.activeSize = l;
    }
    let obj = 0;
    for (let a = 0; a < l; a++) obj += this.alpha[a]! * (this.G[a]! - 1);
    return { alpha: this.alpha, rho: this.calculateRho(), obj: obj / 2, iterations: iter };
  }

  private updateStatus(a: number): void {
    const v = this.alpha[a]!;
    this.status[a] = v >= this.C[a]! ? UPPER : v <= 0 ? LOWER : FREE;
  }

  /** One analytic two-variable update (libsvm's clipping, case by case), then the gradient sweeps. */
  private step(i: number, j: number): void {
    const { q, alpha, y, C, G, active } = this;
    const Qi = q.row(i);
    const Qj = q.row(j);
    const Ci = C[i]!,
      Cj = C[j]!;
    const oldAi = alpha[i]!,
      oldAj = alpha[j]!;
    let ai = oldAi,
      aj = oldAj;
    if (y[i] !== y[j]) {
      let quad = q.qd[i]! + q.qd[j]! + 2 * Qi[j]!;
      if (quad <= 0) quad = TAU;
      const delta = (-G[i]! - G[j]!) / quad;
      const diff = ai - aj;
      ai += delta;
      aj += delta;
      if (diff > 0) {
        if (aj < 0) {
          aj = 0;
          ai = diff;
        }
      } else if (ai < 0) {
        ai = 0;
        aj = -diff;
      }
      if (diff > Ci - Cj) {
        if (ai > Ci) {
          ai = Ci;
          aj = Ci - diff;
        }
      } else if (aj > Cj) {
        aj = Cj;
        ai = Cj + diff;
      }
    } else {
      let quad = q.qd[i]! + q.qd[j]! - 2 * Qi[j]!;
      if (quad <= 0) quad = TAU;
      const delta = (G[i]! - G[j]!) / quad;
      const sum = ai + aj;
      ai -= delta;
      aj += delta;
      if (sum > Ci) {
        if (ai > Ci) {
          ai = Ci;
          aj = sum - Ci;
        }
      } else if (aj < 0) {
        aj = 0;
        ai = sum;
      }
      if (sum > Cj) {
        if (aj > Cj) {
          aj = Cj;
          ai = sum - Cj;
        }
      } else if (ai < 0) {
        ai = 0;
        aj = sum;
      }
    }
    alpha[i] = ai;
    alpha[j] = aj;
    const wasUpperI = this.status[i] === UPPER;
    const wasUpperJ = this.status[j] === UPPER;
    this.updateStatus(i);
    this.updateStatus(j);

    // Gradient update, finding the next maximal violator on the way.
    const { status } = this;
    const dai = ai - oldAi,
      daj = aj - oldAj;
    const n = this.activeSize;
    let gmax = -Infinity;
    let gmaxIdx = -1;
    for (let t = 0; t < n; t++) {
      const k = active[t]!;
      const g = G[k]! + Qi[k]! * dai + Qj[k]! * daj;
      G[k] = g;
      if (y[k] === 1) {
        if (status[k] !== UPPER && -g >= gmax) {
          gmax = -g;
          gmaxIdx = k;
        }
      } else if (status[k] !== LOWER && g >= gmax) {
        gmax = g;
        gmaxIdx = k;
      }
    }
    this.gmax = gmax;
    this.gmaxIdx = gmaxIdx;
    this.gmaxValid = true;

    if (wasUpperI !== (status[i] === UPPER)) this.addToGbar(i, wasUpperI ? -Ci : Ci);
    if (wasUpperJ !== (status[j] === UPPER)) this.addToGbar(j, wasUpperJ ? -Cj : Cj);
  }

  private addToGbar(a: number, scale: number): void {
    const Qa = this.q.row(a);
    const Gbar = this.Gbar;
    for (let k = 0; k < this.l; k++) Gbar[k] = Gbar[k]! + scale * Qa[k]!;
  }

  /**
   * WSS3: i maximises the first-order violation −y_i∇_i over I_up, j
   * minimises the second-order objective decrease over I_low. Returns false
   * when the violation is below eps (optimal on the active set).
   */
  private selectWorkingSet(out: Int32Array): boolean {
    const { y, G, status, active, q } = this;
    const n = this.activeSize;
    if (!this.gmaxValid) this.findMaxViolator();
    const Gmax = this.gmax;
    const GmaxIdx = this.gmaxIdx;
    let Gmax2 = -Infinity;
    let GminIdx = -1;
    let objDiffMin = Infinity;
    const i = GmaxIdx;
    if (i !== -1) {
      const Qi = q.row(i);
      const qdi = q.qd[i]!;
      const yi = y[i]!;
      const qd = q.qd;
      for (let t = 0; t < n; t++) {
        const b = active[t]!;
        const gb = G[b]!;
        let gradDiff: number;
        let quad: number;
        if (y[b] === 1) {
          if (status[b] === LOWER) continue;
          if (gb >= Gmax2) Gmax2 = gb;
          gradDiff = Gmax + gb;
          if (gradDiff <= 0) continue;
          quad = qdi + qd[b]! - 2 * yi * Qi[b]!;
        } else {
          if (status[b] === UPPER) continue;
          if (-gb >= Gmax2) Gmax2 = -gb;
          gradDiff = Gmax - gb;
          if (gradDiff <= 0) continue;
          quad = qdi + qd[b]! + 2 * yi * Qi[b]!;
        }
        const objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : TAU);
        if (objDiff <= objDiffMin) {
          GminIdx = b;
          objDiffMin = objDiff;
        }
      }
    }
    if (Gmax + Gmax2 < this.eps || GminIdx === -1) return false;
    out[0] = GmaxIdx;
    out[1] = GminIdx;
    return true;
  }

  private findMaxViolator(): void {
    const { y, G, status, active } = this;
    let gmax = -Infinity;
    let gmaxIdx = -1;
    for (let t = 0; t < this.activeSize; t++) {
      const a = active[t]!;
      if (y[a] === 1) {
        if (status[a] !== UPPER && -G[a]! >= gmax) {
          gmax = -G[a]!;
          gmaxIdx = a;
        }
      } else if (status[a] !== LOWER && G[a]! >= gmax) {
        gmax = G[a]!;
        gmaxIdx = a;
      }
    }
    this.gmax = gmax;
    this.gmaxIdx = gmaxIdx;
    this.gmaxValid = true;
  }

  private beShrunk(a: number, Gmax1: number, Gmax2: number): boolean {
    const s = this.status[a];
    if (s === UPPER) return -this.G[a]! > (this.y[a] === 1 ? Gmax1 : Gmax2);
    if (s === LOWER) return this.G[a]! > (this.y[a] === 1 ? Gmax2 : Gmax1);
    return false;
  }

  /** Drops variables stuck at a bound from the active set; unshrinks once when close to optimal. */
  private shrink(): void {
    const { y, G, status, active } = this;
    let Gmax1 = -Infinity; // max { −y_a ∇_a | a ∈ I_up }
    let Gmax2 = -Infinity; // max {  y_a ∇_a | a ∈ I_low }
    for (let t = 0; t < this.activeSize; t++) {
      const a = active[t]!;
      const g = G[a]!;
      if (y[a] === 1) {
        if (status[a] !== UPPER && -g >= Gmax1) Gmax1 = -g;
        if (status[a] !== LOWER && g >= Gmax2) Gmax2 = g;
      } else {
        if (status[a] !== UPPER && -g >= Gmax2) Gmax2 = -g;
        if (status[a] !== LOWER && g >= Gmax1) Gmax1 = g;
      }
    }
    if (!this.unshrink && Gmax1 + Gmax2 <= this.eps * 10) {
      this.unshrink = true;
      this.reconstructGradient();
      this.activeSize = this.l;
    }
    this.gmaxValid = false;
    for (let t = 0; t < this.activeSize; t++) {
      if (!this.beShrunk(active[t]!, Gmax1, Gmax2)) continue;
      this.activeSize--;
      while (this.activeSize > t) {
        if (!this.beShrunk(active[this.activeSize]!, Gmax1, Gmax2)) {
          const tmp = active[t]!;
          active[t] = active[this.activeSize]!;
          active[this.activeSize] = tmp;
          break;
        }
        this.activeSize--;
      }
    }
  }

  private isFree(a: number): boolean {
    return this.status[a] === FREE;
  }

  /** Recomputes the gradient of shrunk variables from Gbar and the free variables. */
  private reconstructGradient(): void {
    const { l, activeSize: n, active, G, Gbar, alpha, q } = this;
    if (n === l) return;
    for (let t = n; t < l; t++) G[active[t]!] = Gbar[active[t]!]! - 1;
    let nrFree = 0;
    for (let t = 0; t < n; t++) if (this.isFree(active[t]!)) nrFree++;
    if (nrFree * l > 2 * n * (l - n)) {
      for (let t = n; t < l; t++) {
        const i = active[t]!;
        const Qi = q.row(i);
        let g = G[i]!;
        for (let s = 0; s < n; s++) {
          const b = active[s]!;
          if (this.isFree(b)) g += alpha[b]! * Qi[b]!;
        }
        G[i] = g;
      }
    } else {
      for (let s = 0; s < n; s++) {
        const i = active[s]!;
        if (!this.isFree(i)) continue;
        const Qi = q.row(i);
        const ai = alpha[i]!;
        for (let t = n; t < l; t++) {
          const b = active[t]!;
          G[b] = G[b]! + ai * Qi[b]!;
        }
      }
    }
  }

  /** b = −ρ: the mean of y∇ over free variables, else the middle of the feasible interval. */
  private calculateRho(): number {
    const { y, G, status, active } = this;
    let nrFree = 0;
    let ub = Infinity;
    let lb = -Infinity;
    let sumFree = 0;
    for (let t = 0; t < this.activeSize; t++) {
      const a = active[t]!;
      const yG = y[a]! * G[a]!;
      if (status[a] === UPPER) {
        if (y[a] === -1) ub = Math.min(ub, yG);
        else lb = Math.max(lb, yG);
      } else if (status[a] === LOWER) {
        if (y[a] === 1) ub = Math.min(ub, yG);
        else lb = Math.max(lb, yG);
      } else {
        nrFree++;
        sumFree += yG;
      }
    }
    return nrFree > 0 ? sumFree / nrFree : (ub + lb) / 2;
  }
}
