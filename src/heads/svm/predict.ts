/**
 * Batch prediction for a libsvm C-SVC model, giving libsvm's results:
 * decision values per pair (svm_predict_values), vote-based labels
 * (svm_predict) and Platt + pairwise-coupling probabilities
 * (svm_predict_probability).
 *
 * libsvm scores one row at a time against every SV. Here a batch is scored
 * per class block of SVs, as matrix products:
 *   K_a = kernel(X·SV_aᵀ)        rows × n_a
 *   P_a = K_a·C_aᵀ               rows × (k−1)
 * where C_a holds class a's sv_coef columns. libsvm's sv_coef layout puts
 * class a's coefficient for the pair (a, j) in row j−1 and for (i, a) in
 * row i, so the decision value of pair (i, j) is P_i[j−1] + P_j[i] − ρ.
 * The products run as one onnxruntime graph per model (./predict-graph.ts),
 * or, without onnxruntime, through ../linalg/gram.ts's JS kernels.
 */
import type { Predictor } from '../head.js';
import { crossProducts, rowSquaredNorms } from '../linalg/gram.js';
import { kernelFromDot } from './kernel-function.js';
import { type ClassBlock, type SvmModel, pairCount, totalSv } from './model.js';
import { PartialSumGraph } from './predict-graph.js';
import { multiclassProbability, sigmoidPredict } from './probability.js';

/** Rows scored per batch: bounds the scratch to batch × (totalSV + k(k−1)) values. */
const BATCH = 512;
/** libsvm clamps pairwise probabilities into [1e−7, 1 − 1e−7] before coupling. */
const MIN_PROB = 1e-7;

export interface SvmPredictorOptions {
  /** Width of predictProba rows; default: the largest label + 1. */
  classes?: number;
  /** Input dimension, if larger than the highest feature index in the model (libsvm omits trailing zeros). */
  dim?: number;
  /** 'js' skips onnxruntime, which is otherwise used whenever it loads. */
  backend?: 'js';
  /** onnxruntime intra-op threads; default 0 = one per core. */
  threads?: number;
}

export class SvmPredictor implements Predictor {
  readonly classes: number;
  readonly dim: number;
  readonly nrClass: number;
  readonly pairs: number;
  private readonly blocks: ClassBlock[];
  private readonly graph: PartialSumGraph | null;

  constructor(
    readonly model: SvmModel,
    opts: SvmPredictorOptions = {},
  ) {
    const maxLabel = model.labels.reduce((a, b) => Math.max(a, b), -1);
    this.classes = opts.classes ?? maxLabel + 1;
    if (this.classes <= maxLabel) throw new Error(`model has label ${maxLabel}, more than ${this.classes} classes`);
    if (model.labels.some((l) => l < 0)) throw new Error('model labels must be class indexes ≥ 0');
    this.dim = opts.dim ?? model.dim;
    if (this.dim < model.dim) throw new Error(`model uses feature ${model.dim}, input has ${this.dim}`);
    this.nrClass = model.labels.length;
    this.pairs = pairCount(this.nrClass);
    this.blocks = classBlocks(model, this.dim);
    this.graph = opts.backend === 'js' ? null : PartialSumGraph.create(model.kernel, this.blocks, this.dim, opts.threads ?? 0);
  }

  /** n × k(k−1)/2 decision values, pairs in libsvm order (positive favours the pair's first class). */
  decisionValues(x: Float32Array, n: number): Float64Array {
    this.checkInput(x, n);
    const out = new Float64Array(n * this.pairs);
    for (let r0 = 0; r0 < n; r0 += BATCH) {
      const rows = Math.min(BATCH, n - r0);
      this.decisionBatch(x.subarray(r0 * this.dim, (r0 + rows) * this.dim), rows, out.subarray(r0 * this.pairs));
    }
    return out;
  }

  /** Class index per row by one-vs-one voting, as libsvm's svm_predict. */
  predictLabels(x: Float32Array, n: number): Int32Array {
    const dec = this.decisionValues(x, n);
    const out = new Int32Array(n);
    const votes = new Int32Array(this.nrClass);
    for (let r = 0; r < n; r++) out[r] = this.model.labels[votedClass(dec, r * this.pairs, this.nrClass, votes)]!;
    return out;
  }

  /**
   * n × classes probabilities. With Platt sigmoids in the model these are
   * libsvm's coupled probabilities; without, the voted class gets 1.
   */
  predictProba(x: Float32Array, n: number): Float32Array {
    const dec = this.decisionValues(x, n);
    const out = new Float32Array(n * this.classes);
    const k = this.nrClass;
    const { labels, probA, probB } = this.model;
    if (!probA || !probB || k < 2) {
      const votes = new Int32Array(k);
      for (let r = 0; r < n; r++) out[r * this.classes + labels[votedClass(dec, r * this.pairs, k, votes)]!] = 1;
      return out;
    }
    const pairwise = new Float64Array(k * k);
    const p = new Float64Array(k);
    const Q = new Float64Array(k * k);
    const Qp = new Float64Array(k);
    for (let r = 0; r < n; r++) {
      const row = r * this.pairs;
      let q = 0;
      for (let i = 0; i < k; i++) {
        for (let j = i + 1; j < k; j++, q++) {
          const pr = Math.min(Math.max(sigmoidPredict(dec[row + q]!, probA[q]!, probB[q]!), MIN_PROB), 1 - MIN_PROB);
          pairwise[i * k + j] = pr;
          pairwise[j * k + i] = 1 - pr;
        }
      }
      if (k === 2) {
        p[0] = pairwise[1]!;
        p[1] = pairwise[2]!;
      } else {
        multiclassProbability(k, pairwise, p, Q, Qp);
      }
      for (let c = 0; c < k; c++) out[r * this.classes + labels[c]!] = p[c]!;
    }
    return out;
  }

  private checkInput(x: Float32Array, n: number): void {
    if (x.length !== n * this.dim) throw new Error(`expected ${n}×${this.dim} features, got ${x.length} values`);
  }

  private decisionBatch(x: Float32Array, rows: number, out: Float64Array): void {
    const k = this.nrClass;
    const part = k < 2 ? new Float32Array(0) : this.graph ? this.graph.run(x, rows, this.dim) : this.partialSumsJs(x, rows);
    decisionsFromPartialSums(part, rows, k, this.model.rho, out);
  }

  /** The partial sums of ./predict-graph.ts, block by block with the JS products. */
  private partialSumsJs(x: Float32Array, rows: number): Float32Array {
    const k = this.nrClass;
    const w = k * (k - 1);
    const out = new Float32Array(rows * w);
    const xsq = rowSquaredNorms(x, rows, this.dim);
    const kp = this.model.kernel;
    this.blocks.forEach((b, a) => {
      if (b.n === 0) return;
      const kv = crossProducts(x, rows, b.sv, b.n, this.dim, { backend: 'js' });
      for (let r = 0; r < rows; r++) {
        for (let s = 0; s < b.n; s++) kv[r * b.n + s] = kernelFromDot(kp, kv[r * b.n + s]!, xsq[r]!, b.sq[s]!);
      }
      const part = crossProducts(kv, rows, b.coef, k - 1, b.n, { backend: 'js' });
      for (let r = 0; r < rows; r++) out.set(part.subarray(r * (k - 1), (r + 1) * (k - 1)), r * w + a * (k - 1));
    });
    return out;
  }
}

/**
 * Decision values of `rows` rows (rows × k(k−1)/2, into `out`) from their
 * partial sums: rows × k(k−1), class block a's k−1 sums at columns a(k−1)….
 */
export function decisionsFromPartialSums(part: Float32Array, rows: number, k: number, rho: Float64Array, out: Float64Array): void {
  const w = k * (k - 1);
  const pairs = pairCount(k);
  for (let r = 0; r < rows; r++) {
    const o = r * pairs;
    const pr = r * w;
    let q = 0;
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++, q++) {
        out[o + q] = part[pr + i * (k - 1) + j - 1]! + part[pr + j * (k - 1) + i]! - rho[q]!;
      }
    }
  }
}

/**
 * The model-class position with the most one-vs-one votes, from the k(k−1)/2
 * decision values at dec[offset…]; ties go to the lower position, as libsvm.
 */
export function votedClass(dec: Float64Array, offset: number, k: number, votes: Int32Array): number {
  votes.fill(0);
  let q = offset;
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) votes[dec[q++]! > 0 ? i : j]!++;
  let best = 0;
  for (let c = 1; c < k; c++) if (votes[c]! > votes[best]!) best = c;
  return best;
}

/** Model class a's sv_coef columns as a (k−1) × nSV[a] float32 matrix; `start` = its first SV. */
export function coefBlock(model: SvmModel, a: number, start: number): Float32Array {
  const k = model.labels.length;
  const total = totalSv(model);
  const n = model.nSV[a]!;
  const coef = new Float32Array((k - 1) * n);
  for (let c = 0; c < k - 1; c++) coef.set(model.svCoef.subarray(c * total + start, c * total + start + n), c * n);
  return coef;
}

/** Splits the SVs and sv_coef by class, padding SVs to `dim` features. */
export function classBlocks(model: SvmModel, dim: number): ClassBlock[] {
  const k = model.labels.length;
  const blocks: ClassBlock[] = [];
  let start = 0;
  for (let a = 0; a < k; a++) {
    const n = model.nSV[a]!;
    const sv = new Float32Array(n * dim);
    for (let s = 0; s < n; s++) sv.set(model.sv.subarray((start + s) * model.dim, (start + s + 1) * model.dim), s * dim);
    blocks.push({ sv, sq: rowSquaredNorms(sv, n, dim), coef: coefBlock(model, a, start), n });
    start += n;
  }
  return blocks;
}
