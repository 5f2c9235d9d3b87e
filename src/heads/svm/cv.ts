/**
 * Cross-validation fits that read a job's kernel values instead of computing
 * their own: a fold trains on a row view of the data set's kernel source and
 * scores its held-out rows by gathering their kernel values against the
 * support vectors from the same source. With a shared kernel matrix a fold
 * computes no kernel value and builds no predictor graph; for data sets too
 * large to share one, the same code reads values computed from the features.
 */
import type { Dataset } from '../dataset.js';
import { takeRows } from '../dataset.js';
import { batchedProducts } from '../linalg/gram.js';
import { type KernelSource, rowsOf } from './kernel.js';
import { pairCount } from './model.js';
import type { SvmParams } from './params.js';
import { coefBlock, decisionsFromPartialSums, votedClass } from './predict.js';
import { type SvmTrainResult, trainSvm } from './train.js';

/** Held-out rows scored per batch: bounds the partial sums to BATCH × k(k−1) values. */
const BATCH = 256;

/**
 * Trains on the rows `train` and predicts the class of each row of `test`
 * (libsvm's votes); `kernel` gives the kernel values (for the kernel in
 * `params`) between any two of data's rows.
 */
export function foldPredict(data: Dataset, kernel: KernelSource, train: Int32Array, test: Int32Array, params: Partial<SvmParams>): Int32Array {
  const fit = trainSvm(takeRows(data, train), { ...params, probability: false }, rowsOf(kernel, train));
  return predictFromKernel(fit, kernel, train, test);
}

/** Voted class of each `test` row for a model trained on the rows `train` of `kernel`'s rows. */
export function predictFromKernel(fit: SvmTrainResult, kernel: KernelSource, train: Int32Array, test: Int32Array): Int32Array {
  const { model } = fit;
  const k = model.labels.length;
  const out = new Int32Array(test.length);
  const pairs = pairCount(k);
  const dec = new Float64Array(BATCH * pairs);
  const votes = new Int32Array(k);
  const blocks = new KernelBlocks(fit, train);
  for (let r0 = 0; r0 < test.length; r0 += BATCH) {
    const rows = test.subarray(r0, r0 + BATCH);
    if (k > 1) decisionsFromPartialSums(blocks.partialSums(kernel, rows), rows.length, k, model.rho, dec);
    for (let r = 0; r < rows.length; r++) out[r0 + r] = model.labels[votedClass(dec, r * pairs, k, votes)]!;
  }
  return out;
}

/**
 * A model's class blocks padded to one width m (the largest nSV), so that
 * the k products K_a·C_aᵀ run as one batched native product:
 * rows × m kernel values per block, times m × (k−1) coefficients per block.
 */
class KernelBlocks {
  private readonly k: number;
  private readonly m: number;
  /** Row (of the kernel source) of each SV of block a. */
  private readonly svRows: Int32Array[];
  /** k × m × (k−1): block a's sv_coef columns, transposed, zero-padded. */
  private readonly coef: Float32Array;

  constructor(fit: SvmTrainResult, train: Int32Array) {
    const { model, svIndices } = fit;
    const k = model.labels.length;
    const m = Math.max(1, ...model.nSV);
    this.k = k;
    this.m = m;
    this.svRows = [];
    this.coef = new Float32Array(k * m * (k - 1));
    let start = 0;
    for (let a = 0; a < k; a++) {
      const na = model.nSV[a]!;
      const block = coefBlock(model, a, start);
      this.svRows.push(Int32Array.from({ length: na }, (_, s) => train[svIndices[start + s]!]!));
      for (let s = 0; s < na; s++) {
        for (let c = 0; c < k - 1; c++) this.coef[(a * m + s) * (k - 1) + c] = block[c * na + s]!;
      }
      start += na;
    }
  }

  /** rows × k(k−1) partial sums of the given rows of the kernel source. */
  partialSums(kernel: KernelSource, rows: Int32Array): Float32Array {
    const { k, m } = this;
    const n = rows.length;
    const kv = new Float32Array(k * n * m);
    for (let a = 0; a < k; a++) {
      const svs = this.svRows[a]!;
      for (let r = 0; r < n; r++) kernel.row(rows[r]!, svs, kv.subarray((a * n + r) * m, (a * n + r) * m + svs.length));
    }
    const products = batchedProducts(kv, this.coef, k, n, m, k - 1);
    // Block-major (a, r, c) to row-major (r, a, c), the layout decisionsFromPartialSums reads.
    const w = k * (k - 1);
    const part = new Float32Array(n * w);
    for (let a = 0; a < k; a++) {
      for (let r = 0; r < n; r++) part.set(products.subarray((a * n + r) * (k - 1), (a * n + r + 1) * (k - 1)), r * w + a * (k - 1));
    }
    return part;
  }
}
