/**
 * Multiclass C-SVC training, one-vs-one exactly as libsvm's svm_train (3.22):
 * classes in ascending class index, pairs (0,1), (0,2), …, (1,2), …, class
 * i of a pair is the +1 side, each binary problem holds class i's rows then
 * class j's (in data order), and a row is a support vector of the model when
 * any pair gives it a non-zero coefficient. (libsvm orders classes by first
 * occurrence in the data instead; that changes only which class wins a tied
 * vote. On Banking77, where 19 of 3,080 test rows tie, libsvm-js fed the
 * rows sorted by class agrees with us on every label and on rho within
 * 3e-4.)
 *
 * Pairs are independent, so the work splits: `trainPairs` trains any subset
 * of pair indices and returns plain data (typed arrays and numbers), which
 * `assembleModel` turns into the model. A caller can spread pairs over
 * worker threads that share the features and kernel matrix through
 * SharedArrayBuffers; results do not depend on how pairs are spread,
 * because every pair's cross-validation shuffle has its own seed.
 */
import type { Dataset } from '../dataset.js';
import { type KernelSource, QMatrix } from './kernel.js';
import { type SvmModel, pairCount, pairList } from './model.js';
import { resolveParams, type ResolvedSvmParams, type SvmParams } from './params.js';
import { sigmoidTrain } from './probability.js';
import { solveCSvc } from './smo.js';

const MB = 1024 * 1024;
const CV_FOLDS = 5;

/** Training rows grouped by class, as libsvm's svm_group_classes (classes sorted). */
export interface ClassGroups {
  /** Class index of each model class (the present classes, ascending). */
  labels: Int32Array;
  start: Int32Array;
  count: Int32Array;
  /** Row indices grouped by class; data order within a class. */
  rows: Int32Array;
}

/** What one pair's training produced; plain data, safe to post between threads. */
export interface PairResult {
  pair: number;
  /** y·α over the pair's rows: class i's rows, then class j's. */
  coef: Float64Array;
  rho: number;
  /** Platt sigmoid; NaN when trained without probability estimates. */
  probA: number;
  probB: number;
  /** Solver iterations, summed over the cross-validation fits and the final fit. */
  iterations: number;
}

/** Everything a pair trainer needs: build one per thread. */
export interface PairContext {
  groups: ClassGroups;
  params: ResolvedSvmParams;
  kernel: KernelSource;
}

export interface SvmTrainResult {
  model: SvmModel;
  params: ResolvedSvmParams;
  /** Training row index of each support vector, in model order. */
  svIndices: Int32Array;
  iterations: number;
}

export function groupClasses(y: Int32Array, n: number, classes: number): ClassGroups {
  const counts = new Int32Array(classes);
  for (let r = 0; r < n; r++) {
    const c = y[r]!;
    if (!(c >= 0 && c < classes)) throw new Error(`row ${r}: class ${c} outside 0..${classes - 1}`);
    counts[c]!++;
  }
  const labels = Int32Array.from([...counts.keys()].filter((c) => counts[c]! > 0));
  const count = labels.map((c) => counts[c]!);
  const start = new Int32Array(labels.length);
  for (let k = 1; k < labels.length; k++) start[k] = start[k - 1]! + count[k - 1]!;
  const position = new Int32Array(classes).fill(-1);
  for (const [k, c] of labels.entries()) position[c] = k;
  const next = Int32Array.from(start);
  const rows = new Int32Array(n);
  for (let r = 0; r < n; r++) rows[next[position[y[r]!]!]!++] = r;
  return { labels, start, count, rows };
}

/**
 * Trains everything in the calling thread on the kernel values `kernel`
 * gives for data's rows (a MatrixView of a matrix shared by a job's fits, or
 * values computed from the features); they must match the kernel in `given`.
 */
export function trainSvm(data: Dataset, given: Partial<SvmParams>, kernel: KernelSource): SvmTrainResult {
  const params = resolveParams(data, given);
  const groups = groupClasses(data.y, data.n, data.classes);
  if (kernel.n !== data.n) throw new Error(`kernel source has ${kernel.n} rows, data ${data.n}`);
  const ctx: PairContext = { groups, params, kernel };
  const all = Array.from({ length: pairCount(groups.labels.length) }, (_, p) => p);
  return assembleModel(data, groups, params, trainPairs(ctx, all));
}

/** Trains the given pair indices (0 .. k(k−1)/2 − 1, in libsvm's pair order). */
export function trainPairs(ctx: PairContext, pairs: readonly number[]): PairResult[] {
  const list = pairList(ctx.groups.labels.length);
  return pairs.map((p) => {
    const ij = list[p];
    if (!ij) throw new Error(`pair ${p} out of range`);
    return trainPair(ctx, p, ij[0], ij[1]);
  });
}

function trainPair(ctx: PairContext, pair: number, i: number, j: number): PairResult {
  const { groups, params } = ctx;
  const ci = groups.count[i]!;
  const cj = groups.count[j]!;
  const idx = new Int32Array(ci + cj);
  idx.set(groups.rows.subarray(groups.start[i]!, groups.start[i]! + ci));
  idx.set(groups.rows.subarray(groups.start[j]!, groups.start[j]! + cj), ci);
  const y = new Int8Array(ci + cj).fill(1, 0, ci).fill(-1, ci);
  const Cp = params.classC[groups.labels[i]!]!;
  const Cn = params.classC[groups.labels[j]!]!;

  let probA = NaN;
  let probB = NaN;
  let iterations = 0;
  const fit = solveBinary(ctx, idx, y, Cp, Cn);
  if (params.probability) {
    const cv = crossValidatedDecisions(ctx, idx, y, Cp, Cn, pairSeed(params.seed, pair));
    const positive = new Uint8Array(y.length).fill(1, 0, ci);
    ({ probA, probB } = sigmoidTrain(cv.decisions, positive));
    iterations += cv.iterations;
    if (!(probA < 0)) {
      // A sigmoid that does not rise with the decision value would turn the SVM's answers around: with a couple of
      // rows a class, held-out decisions go against the labels (each row left out leaves its class outnumbered).
      // The training rows' own decision values, with Platt's regularised targets, give a mild, rising one instead.
      const own = new Float64Array(y.length);
      predictHeldOut(
        ctx.kernel,
        idx,
        fit,
        Int32Array.from(idx, (_, a) => a),
        idx,
        own,
      );
      const fallback = sigmoidTrain(own, positive);
      if (fallback.probA < 0) ({ probA, probB } = fallback);
    }
  }
  return { pair, coef: fit.coef, rho: fit.rho, probA, probB, iterations: iterations + fit.iterations };
}

interface BinaryFit {
  /** y·α per row of the sub-problem. */
  coef: Float64Array;
  rho: number;
  iterations: number;
}

function solveBinary(ctx: PairContext, idx: Int32Array, y: Int8Array, Cp: number, Cn: number): BinaryFit {
  const { params, kernel } = ctx;
  const upper = new Float64Array(y.length);
  for (let a = 0; a < y.length; a++) upper[a] = y[a]! > 0 ? Cp : Cn;
  const q = new QMatrix(kernel, idx, y, params.cacheMb * MB);
  const r = solveCSvc(q, y, upper, { eps: params.tolerance, shrinking: params.shrinking });
  const coef = r.alpha;
  for (let a = 0; a < coef.length; a++) coef[a] = coef[a]! * y[a]!;
  return { coef, rho: r.rho, iterations: r.iterations };
}

/**
 * libsvm's svm_binary_svc_probability: decision values of every row from a
 * 5-fold cross-validation on a seeded shuffle, each fold fit with the same
 * Cp/Cn. A fold whose training part holds one class only predicts ±1.
 */
function crossValidatedDecisions(
  ctx: PairContext,
  idx: Int32Array,
  y: Int8Array,
  Cp: number,
  Cn: number,
  seed: number,
): { decisions: Float64Array; iterations: number } {
  const l = idx.length;
  const perm = shuffledRange(l, seed);
  const decisions = new Float64Array(l);
  let iterations = 0;
  for (let fold = 0; fold < CV_FOLDS; fold++) {
    const begin = Math.floor((fold * l) / CV_FOLDS);
    const end = Math.floor(((fold + 1) * l) / CV_FOLDS);
    const held = perm.subarray(begin, end);
    const sub = foldProblem(perm, begin, end, idx, y);
    const pos = sub.positives;
    const neg = sub.y.length - pos;
    if (pos === 0 || neg === 0) {
      const v = pos > 0 ? 1 : neg > 0 ? -1 : 0;
      for (const a of held) decisions[a] = v;
      continue;
    }
    const fit = solveBinary(ctx, sub.idx, sub.y, Cp, Cn);
    iterations += fit.iterations;
    predictHeldOut(ctx.kernel, sub.idx, fit, held, idx, decisions);
  }
  return { decisions, iterations };
}

/**
 * The fold's binary problem: rows perm[t] for t outside [begin, end), the
 * positives first. svm_train puts the +1 class first whichever row comes
 * first (libsvm's −1/+1 label swap), which fixes the solver's variable order.
 */
function foldProblem(perm: Int32Array, begin: number, end: number, idx: Int32Array, y: Int8Array): { idx: Int32Array; y: Int8Array; positives: number } {
  const l = perm.length - (end - begin);
  const subIdx = new Int32Array(l);
  const subY = new Int8Array(l);
  let o = 0;
  const take = (sign: 1 | -1): void => {
    for (let t = 0; t < perm.length; t++) {
      const a = perm[t]!;
      if ((t < begin || t >= end) && y[a] === sign) {
        subIdx[o] = idx[a]!;
        subY[o++] = sign;
      }
    }
  };
  take(1);
  const positives = o;
  take(-1);
  return { idx: subIdx, y: subY, positives };
}

/** decisions[a] = Σ coef·K(sv, idx[a]) − ρ for each held-out position a. */
function predictHeldOut(kernel: KernelSource, subIdx: Int32Array, fit: BinaryFit, held: Int32Array, idx: Int32Array, decisions: Float64Array): void {
  let count = 0;
  for (let s = 0; s < subIdx.length; s++) if (fit.coef[s] !== 0) count++;
  const svRows = new Int32Array(count);
  const svCoef = new Float64Array(count);
  for (let s = 0, o = 0; s < subIdx.length; s++) {
    if (fit.coef[s] === 0) continue;
    svRows[o] = subIdx[s]!;
    svCoef[o++] = fit.coef[s]!;
  }
  const k = new Float32Array(svRows.length);
  for (const a of held) {
    kernel.row(idx[a]!, svRows, k);
    let sum = 0;
    for (let s = 0; s < k.length; s++) sum += svCoef[s]! * k[s]!;
    decisions[a] = sum - fit.rho;
  }
}

/** Mixes the user seed with the pair index, so each pair's shuffle is independent of scheduling. */
function pairSeed(seed: number, pair: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(pair + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 0..l−1 shuffled as libsvm does (swap i with a uniform j ≥ i), from a seeded mulberry32. */
function shuffledRange(l: number, seed: number): Int32Array {
  const perm = new Int32Array(l);
  for (let i = 0; i < l; i++) perm[i] = i;
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  for (let i = 0; i < l; i++) {
    const j = i + (next() % (l - i));
    const tmp = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = tmp;
  }
  return perm;
}

/**
 * Builds libsvm's model from pair results (any order; all pairs required):
 * a row is an SV if any pair gave it a non-zero coefficient, SVs are grouped
 * by class, and sv_coef gets libsvm's layout.
 */
export function assembleModel(
  data: Pick<Dataset, 'x' | 'dim'>,
  groups: ClassGroups,
  params: ResolvedSvmParams,
  results: readonly PairResult[],
): SvmTrainResult {
  const k = groups.labels.length;
  const pairs = pairList(k);
  const byPair = new Array<PairResult | undefined>(pairs.length);
  for (const r of results) byPair[r.pair] = r;
  const missing = byPair.indexOf(undefined);
  if (missing >= 0 || byPair.length !== pairs.length) throw new Error(`pair ${missing} has no result`);
  const res = byPair as PairResult[];

  // nonzero[g]: g indexes groups.rows (rows grouped by class).
  const nonzero = new Uint8Array(groups.rows.length);
  pairs.forEach(([i, j], p) => {
    const { coef } = res[p]!;
    const ci = groups.count[i]!;
    for (let a = 0; a < ci; a++) if (coef[a] !== 0) nonzero[groups.start[i]! + a] = 1;
    for (let a = 0; a < groups.count[j]!; a++) if (coef[ci + a] !== 0) nonzero[groups.start[j]! + a] = 1;
  });

  const nSV = new Int32Array(k);
  const nzStart = new Int32Array(k);
  // Position of each grouped row among the SVs (−1 if not an SV).
  const svPos = new Int32Array(groups.rows.length).fill(-1);
  let total = 0;
  for (let c = 0; c < k; c++) {
    nzStart[c] = total;
    for (let a = 0; a < groups.count[c]!; a++) {
      if (nonzero[groups.start[c]! + a]) svPos[groups.start[c]! + a] = total++;
    }
    nSV[c] = total - nzStart[c]!;
  }

  const dim = data.dim;
  const sv = new Float32Array(total * dim);
  const svIndices = new Int32Array(total);
  for (let g = 0; g < groups.rows.length; g++) {
    const s = svPos[g]!;
    if (s < 0) continue;
    const row = groups.rows[g]!;
    svIndices[s] = row;
    sv.set(data.x.subarray(row * dim, (row + 1) * dim), s * dim);
  }

  const svCoef = new Float64Array(Math.max(0, k - 1) * total);
  pairs.forEach(([i, j], p) => {
    const { coef } = res[p]!;
    const ci = groups.count[i]!;
    for (let a = 0; a < ci; a++) {
      const s = svPos[groups.start[i]! + a]!;
      if (s >= 0) svCoef[(j - 1) * total + s] = coef[a]!;
    }
    for (let a = 0; a < groups.count[j]!; a++) {
      const s = svPos[groups.start[j]! + a]!;
      if (s >= 0) svCoef[i * total + s] = coef[ci + a]!;
    }
  });

  const model: SvmModel = {
    kernel: params.kernel,
    labels: Int32Array.from(groups.labels),
    nSV,
    dim,
    sv,
    svCoef,
    rho: Float64Array.from(res, (r) => r.rho),
    probA: params.probability ? Float64Array.from(res, (r) => r.probA) : null,
    probB: params.probability ? Float64Array.from(res, (r) => r.probB) : null,
  };
  const iterations = res.reduce((s, r) => s + r.iterations, 0);
  return { model, params, svIndices, iterations };
}
