/**
 * SVM hyper-parameters: the API's form (what a request gives and a search
 * varies), the solver's, with their defaults, and their resolution against a
 * data set (gamma heuristics, class weights) into plain numbers that can
 * cross a worker boundary.
 */
import { z } from 'zod';
import { balancedClassWeights } from '../class-weights.js';
import { DomainError } from '../../errors.js';
import type { Dataset } from '../dataset.js';
import { labelRecord } from '../label-record.js';
import type { KernelParams, KernelType } from './kernel-function.js';

const positive = z.number().positive().finite();

export const svmParamsSchema = z
  .object({
    kernel: z.enum(['linear', 'rbf', 'poly']).default('rbf'),
    C: positive.max(1e6).default(10).describe('Penalty on margin violations.'),
    gamma: z
      .union([positive.max(1e6), z.enum(['scale', 'auto'])])
      .default('scale')
      .describe("Kernel width (rbf, poly): a number, 'scale' = 1/(dim·var(X)) or 'auto' = 1/dim."),
    degree: z.number().int().min(1).max(10).default(3).describe('Polynomial degree (poly).'),
    coef0: z.number().finite().min(-1e6).max(1e6).default(0).describe('Polynomial offset (poly).'),
    class_weight: z
      .union([z.literal('balanced'), labelRecord(positive.max(1e6))])
      .nullable()
      .default(null)
      .describe("Multiply C per label: 'balanced' (n / (labels × count)) or {label: weight}; for imbalanced labels."),
    tolerance: positive.max(1).default(1e-3).describe('Solver stopping tolerance.'),
  })
  .strict();

export type SvmHeadParams = z.output<typeof svmParamsSchema>;

export interface SvmParams {
  kernel: KernelType;
  /** Penalty on margin violations. */
  C: number;
  /**
   * Kernel width for rbf/poly. 'scale' = 1/(dim·var(X)) as scikit-learn's
   * default; 'auto' = 1/dim as libsvm's default.
   */
  gamma: number | 'scale' | 'auto';
  degree: number;
  coef0: number;
  /** Per-class multipliers of C (index = class), or 'balanced' = n/(k·count_c). */
  classWeight?: number[] | 'balanced';
  /** Fit Platt sigmoids (5-fold internal CV per pair, ≈ 6× the training work). */
  probability: boolean;
  /** Solver stopping tolerance (libsvm -e). */
  tolerance: number;
  /** Kernel row cache per binary solver, MB (libsvm -m). */
  cacheMb: number;
  /** Shrinking heuristic (libsvm -h). */
  shrinking: boolean;
  /** Seed of the cross-validation shuffles behind the probability estimates. */
  seed: number;
}

export const defaultSvmParams: Readonly<SvmParams> = {
  kernel: 'rbf',
  C: 1,
  gamma: 'scale',
  degree: 3,
  coef0: 0,
  probability: true,
  tolerance: 1e-3,
  cacheMb: 100,
  shrinking: true,
  seed: 1,
};

/** Parameters with everything data-dependent turned into numbers. */
export interface ResolvedSvmParams {
  kernel: KernelParams;
  /** C × class weight, per class index (length = data.classes). */
  classC: number[];
  probability: boolean;
  tolerance: number;
  cacheMb: number;
  shrinking: boolean;
  seed: number;
}

export function resolveParams(data: Dataset, given: Partial<SvmParams> = {}): ResolvedSvmParams {
  const p: SvmParams = { ...defaultSvmParams, ...given };
  if (!(p.C > 0)) throw new DomainError('invalid_params', `C must be > 0, got ${p.C}`, 'C');
  if (!(p.tolerance > 0)) throw new DomainError('invalid_params', `tolerance must be > 0, got ${p.tolerance}`, 'tolerance');
  if (p.kernel === 'poly' && !(Number.isInteger(p.degree) && p.degree >= 0)) {
    throw new DomainError('invalid_params', `degree must be a non-negative integer, got ${p.degree}`, 'degree');
  }
  const gamma = resolveGamma(data, p.gamma);
  const weights = resolveClassWeights(data, p.classWeight);
  return {
    kernel: { kernel: p.kernel, gamma, degree: p.degree, coef0: p.coef0 },
    classC: weights.map((w) => p.C * w),
    probability: p.probability,
    tolerance: p.tolerance,
    cacheMb: p.cacheMb,
    shrinking: p.shrinking,
    seed: p.seed,
  };
}

function resolveGamma(data: Dataset, gamma: SvmParams['gamma']): number {
  if (typeof gamma === 'number') {
    if (!(gamma > 0)) throw new DomainError('invalid_params', `gamma must be > 0, got ${gamma}`, 'gamma');
    return gamma;
  }
  if (gamma === 'auto') return 1 / data.dim;
  const v = variance(data.x.subarray(0, data.n * data.dim));
  // scikit-learn's rule for constant features: fall back to gamma = 1.
  return v > 0 ? 1 / (data.dim * v) : 1;
}

/** Population variance of all entries, in float64 (two passes for accuracy). */
function variance(x: Float32Array): number {
  if (x.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]!;
  const mean = sum / x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - mean;
    ss += d * d;
  }
  return ss / x.length;
}

function resolveClassWeights(data: Dataset, w: SvmParams['classWeight']): number[] {
  if (w === undefined) return new Array<number>(data.classes).fill(1);
  if (w === 'balanced') return balancedClassWeights(data.y, data.n, data.classes);
  if (w.length !== data.classes) throw new DomainError('invalid_params', `class_weight has ${w.length} entries for ${data.classes} classes`, 'class_weight');
  for (const v of w) if (!(v > 0)) throw new DomainError('invalid_params', `class weights must be > 0, got ${v}`, 'class_weight');
  return [...w];
}
