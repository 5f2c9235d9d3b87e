/**
 * A trained multiclass C-SVC in libsvm's own layout (struct svm_model), so
 * it maps one-to-one onto the libsvm model text.
 */
import type { KernelParams } from './kernel-function.js';

export interface SvmModel {
  kernel: KernelParams;
  /** libsvm's `label`: the class index of each model class, in model order. */
  labels: Int32Array;
  /** Support vectors per model class; SVs are grouped by class in that order. */
  nSV: Int32Array;
  dim: number;
  /** totalSV × dim, row-major. */
  sv: Float32Array;
  /**
   * (nrClass−1) × totalSV, row-major, as libsvm's sv_coef: for the pair
   * (i, j), coefficients of class i's SVs sit in row j−1 and those of class
   * j's SVs in row i.
   */
  svCoef: Float64Array;
  /** One per pair, in the order (0,1), (0,2), …, (1,2), … */
  rho: Float64Array;
  /** Platt sigmoid per pair; null for a model trained without probability estimates. */
  probA: Float64Array | null;
  probB: Float64Array | null;
}

export function totalSv(m: SvmModel): number {
  let total = 0;
  for (const c of m.nSV) total += c;
  return total;
}

export function pairCount(nrClass: number): number {
  return (nrClass * (nrClass - 1)) / 2;
}

/** The model-class positions (i, j), i < j, of each pair index, in libsvm's order. */
export function pairList(nrClass: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < nrClass; i++) for (let j = i + 1; j < nrClass; j++) pairs.push([i, j]);
  return pairs;
}

/** One model class's SVs and their sv_coef columns. */
export interface ClassBlock {
  /** n × dim */
  sv: Float32Array;
  /** Squared norms of the SVs. */
  sq: Float64Array;
  /** (k−1) × n */
  coef: Float32Array;
  n: number;
}
