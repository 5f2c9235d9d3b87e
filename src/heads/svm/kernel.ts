/**
 * The sources of kernel values the SVM solver reads rows from (a full
 * precomputed matrix, a view of its rows, or values computed from the
 * features), the conversion of a Gram matrix into kernel values, and libsvm's
 * cached Q matrix. Training only; see ./kernel-function.ts for the kernels.
 */
import { dot, rowSquaredNorms } from '../linalg/gram.js';
import { type KernelParams, kernelFromDot, powi } from './kernel-function.js';

/**
 * Rewrites a dot-product Gram matrix (n×n) in place into the kernel matrix.
 * Doing this once costs n² kernel evaluations; the solvers of all one-vs-one
 * pairs and cross-validation folds then only gather, instead of evaluating
 * the same entries again and again.
 */
export function gramToKernelMatrix(gram: Float32Array, n: number, p: KernelParams): Float32Array {
  gramRowsToKernel(gram, n, gramDiagonal(gram, n), p, 0, n);
  return gram;
}

/** The squared norms on a Gram matrix's diagonal; read them before converting any row. */
export function gramDiagonal(gram: Float32Array, n: number): Float64Array {
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) sq[i] = gram[i * n + i]!;
  return sq;
}

/**
 * Converts rows [from, to) of a Gram matrix into kernel values, so that
 * threads can share the work. `out` defaults to the Gram itself (in place);
 * a separate `out` keeps the Gram for kernels with other parameters.
 */
export function gramRowsToKernel(gram: Float32Array, n: number, sq: Float64Array, p: KernelParams, from: number, to: number, out: Float32Array = gram): void {
  if (p.kernel === 'linear') {
    if (out !== gram) out.set(gram.subarray(from * n, to * n), from * n);
    return;
  }
  for (let i = from; i < to; i++) {
    const base = i * n;
    const si = sq[i]!;
    if (p.kernel === 'rbf') {
      const g = p.gamma;
      for (let j = 0; j < n; j++) {
        const d = si + sq[j]! - 2 * gram[base + j]!;
        out[base + j] = Math.exp(-g * Math.max(d, 0));
      }
    } else {
      for (let j = 0; j < n; j++) out[base + j] = powi(p.gamma * gram[base + j]! + p.coef0, p.degree);
    }
  }
}

/** Kernel values between training rows, addressed by row index 0..n-1. */
export interface KernelSource {
  readonly n: number;
  /** out[t] = K(i, cols[t]) for t < cols.length. */
  row(i: number, cols: Int32Array, out: Float32Array): void;
  /**
   * K(i, i), rounded to float32 like the rows (libsvm keeps it in double):
   * every source then hands the solver the same numbers, so a model does not
   * depend on which source computed it.
   */
  diag(i: number): number;
}

/** A full precomputed kernel matrix (see gramToKernelMatrix). */
export class MatrixKernel implements KernelSource {
  constructor(
    readonly k: Float32Array,
    readonly n: number,
  ) {
    if (k.length < n * n) throw new Error(`kernel matrix holds ${k.length} values, needs ${n}×${n}`);
  }

  row(i: number, cols: Int32Array, out: Float32Array): void {
    const k = this.k;
    const base = i * this.n;
    for (let t = 0; t < cols.length; t++) out[t] = k[base + cols[t]!]!;
  }

  diag(i: number): number {
    return this.k[i * this.n + i]!;
  }
}

/**
 * The rows `rows` of a full kernel matrix (stride × stride) as a source of
 * their own, row i here being row rows[i] there: every cross-validation fold
 * and every C of a search reads one shared matrix instead of computing a
 * kernel matrix per fit. Values are those of the full matrix, so a fit on a
 * view equals a fit on a kernel matrix of the subset holding the same values.
 */
export class MatrixView implements KernelSource {
  readonly n: number;

  constructor(
    private readonly k: Float32Array,
    private readonly stride: number,
    private readonly rows: Int32Array,
  ) {
    if (k.length < stride * stride) throw new Error(`kernel matrix holds ${k.length} values, needs ${stride}×${stride}`);
    for (const r of rows) if (!(r >= 0 && r < stride)) throw new Error(`row ${r} outside 0..${stride - 1}`);
    this.n = rows.length;
  }

  row(i: number, cols: Int32Array, out: Float32Array): void {
    const { k, rows } = this;
    const base = rows[i]! * this.stride;
    for (let t = 0; t < cols.length; t++) out[t] = k[base + rows[cols[t]!]!]!;
  }

  diag(i: number): number {
    const r = this.rows[i]!;
    return this.k[r * this.stride + r]!;
  }
}

/** Kernel values computed from the feature rows on demand: no n² memory, dim work per value. */
export class FeatureKernel implements KernelSource {
  private readonly sq: Float64Array;

  constructor(
    private readonly x: Float32Array,
    readonly n: number,
    private readonly dim: number,
    private readonly p: KernelParams,
  ) {
    this.sq = rowSquaredNorms(x, n, dim);
  }

  row(i: number, cols: Int32Array, out: Float32Array): void {
    const { x, dim, sq, p } = this;
    const si = sq[i]!;
    for (let t = 0; t < cols.length; t++) {
      const j = cols[t]!;
      out[t] = kernelFromDot(p, dot(x, i * dim, x, j * dim, dim), si, sq[j]!);
    }
  }

  diag(i: number): number {
    const s = this.sq[i]!;
    return Math.fround(kernelFromDot(this.p, s, s, s));
  }
}

/**
 * The rows `rows` of a source as a source of its own (row i here is row
 * rows[i] there): a cross-validation fold trains on its rows of the data
 * set's kernel values without computing or copying any. Over a full matrix
 * the view gathers straight from it.
 */
export function rowsOf(source: KernelSource, rows: Int32Array): KernelSource {
  return source instanceof MatrixKernel ? new MatrixView(source.k, source.n, rows) : new RowsView(source, rows);
}

class RowsView implements KernelSource {
  readonly n: number;
  /** The last column list mapped, by identity: the solver asks with the same list again and again. */
  private lastCols: Int32Array | undefined;
  private mapped = new Int32Array(0);

  constructor(
    private readonly source: KernelSource,
    private readonly rows: Int32Array,
  ) {
    for (const r of rows) if (!(r >= 0 && r < source.n)) throw new Error(`row ${r} outside 0..${source.n - 1}`);
    this.n = rows.length;
  }

  row(i: number, cols: Int32Array, out: Float32Array): void {
    if (cols !== this.lastCols || this.mapped.length !== cols.length) {
      this.mapped = Int32Array.from(cols, (c) => this.rows[c]!);
      this.lastCols = cols;
    }
    this.source.row(this.rows[i]!, this.mapped, out);
  }

  diag(i: number): number {
    return this.source.diag(this.rows[i]!);
  }
}

/**
 * The rows of Q[a][b] = y_a·y_b·K(idx[a], idx[b]) for a sub-problem made of
 * the source rows `idx`, as libsvm's SVC_Q. Rows are cached in an LRU bounded
 * by a byte budget (libsvm's cache_size); at least two rows always fit, since
 * the solver holds two rows at a time.
 */
export class QMatrix {
  readonly l: number;
  readonly qd: Float64Array;
  private readonly cache = new Map<number, Float32Array>();
  private readonly maxRows: number;

  constructor(
    private readonly source: KernelSource,
    private readonly idx: Int32Array,
    private readonly y: Int8Array,
    cacheBytes: number,
  ) {
    this.l = idx.length;
    this.maxRows = Math.max(2, Math.floor(cacheBytes / (4 * Math.max(1, this.l))));
    this.qd = new Float64Array(this.l);
    for (let a = 0; a < this.l; a++) this.qd[a] = source.diag(idx[a]!);
  }

  /** Row a of Q, valid until two further calls evict it. */
  row(a: number): Float32Array {
    const cache = this.cache;
    const hit = cache.get(a);
    if (hit) {
      // Re-inserting moves the row to the most-recent end of the Map's order.
      cache.delete(a);
      cache.set(a, hit);
      return hit;
    }
    let buf: Float32Array;
    if (cache.size >= this.maxRows) {
      const oldest = cache.keys().next().value as number;
      buf = cache.get(oldest)!;
      cache.delete(oldest);
    } else {
      buf = new Float32Array(this.l);
    }
    this.source.row(this.idx[a]!, this.idx, buf);
    const y = this.y;
    if (y[a]! < 0) for (let b = 0; b < this.l; b++) buf[b] = y[b]! > 0 ? -buf[b]! : buf[b]!;
    else for (let b = 0; b < this.l; b++) if (y[b]! < 0) buf[b] = -buf[b]!;
    cache.set(a, buf);
    return buf;
  }
}
