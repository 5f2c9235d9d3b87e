/**
 * Kernel matrices shared by every fit of a training job on one data set:
 * the dot-product Gram matrix is computed once (onnxruntime) into shared
 * memory, and each kernel (linear, or rbf/poly with given parameters) is
 * derived from it by the pool's workers into one reused buffer. Folds and C
 * values then read row views of the same matrix (see ./cv.ts).
 *
 * Memory: two n × n float32 matrices per data set (800 MB at 10,000 rows);
 * above MAX_SHARED_ROWS (3.2 GB) nothing is shared and fits compute their
 * own kernel values.
 */
import type { Dataset } from '../dataset.js';
import { gramMatrix } from '../linalg/gram.js';
import { evenRanges } from '../../lib/ranges.js';
import { gramDiagonal } from './kernel.js';
import type { KernelParams } from './kernel-function.js';
import type { SvmPool } from './ops.js';

export const MAX_SHARED_ROWS = 20_000;

interface Entry {
  data: Dataset;
  gram: Float32Array;
  sq: Float64Array;
  /** The kernel last derived into `buffer`, as a key of its parameters. */
  kernelKey: string | null;
  buffer: Float32Array | null;
}

export function kernelKey(p: KernelParams): string {
  return p.kernel === 'linear' ? 'linear' : `${p.kernel}|${p.gamma}|${p.degree}|${p.coef0}`;
}

export class KernelCache {
  private entry: Entry | null = null;

  constructor(
    private readonly pool: SvmPool,
    readonly maxRows = MAX_SHARED_ROWS,
  ) {}

  /**
   * The data.n × data.n kernel matrix of `data` for `p`, or null when data is
   * too large to share one. A matrix stays valid until the next call for
   * another kernel or data set, which overwrites or drops it: finish every
   * fit that reads it first.
   */
  async kernel(data: Dataset, p: KernelParams): Promise<Float32Array | null> {
    if (data.n > this.maxRows) return null;
    const e = this.forData(data);
    if (p.kernel === 'linear') return e.gram;
    const key = kernelKey(p);
    e.buffer ??= new Float32Array(new SharedArrayBuffer(data.n * data.n * 4));
    if (e.kernelKey !== key) {
      e.kernelKey = null;
      await Promise.all(
        evenRanges(data.n, this.pool.size).map(([from, to]) =>
          this.pool.run('kernel-rows', { gram: e.gram, out: e.buffer!, n: data.n, sq: e.sq, kernel: p, from, to }),
        ),
      );
      e.kernelKey = key;
    }
    return e.buffer;
  }

  private forData(data: Dataset): Entry {
    if (this.entry?.data !== data) {
      this.entry = null; // let the previous data set's matrices go before allocating new ones
      const gram = gramMatrix(data.x, data.n, data.dim, { out: new Float32Array(new SharedArrayBuffer(data.n * data.n * 4)) });
      this.entry = { data, gram, sq: gramDiagonal(gram, data.n), kernelKey: null, buffer: null };
    }
    return this.entry;
  }
}
