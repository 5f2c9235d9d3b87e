/**
 * Cross-validation fits on a shared kernel matrix: a fold trains on a row
 * view of the full data set's kernel matrix and scores its held-out rows by
 * gathering their kernel values against the support vectors from the same
 * matrix, so a fold computes no kernel value and builds no predictor graph.
 */
import type { Dataset } from '../types.js';
import { batchedProducts } from '../linalg/gram.js';
import { MatrixView } from './kernel.js';
import { pairCount } from './model.js';
import type { SvmParams } from './params.js';
import { coefBlock, decisionsFromPartialSums, votedClass } from './predict.js';
import { trainSvm, type SvmTrainResult } from './train.js';

/** Held-out rows scored per batch: bounds the partial sums to BATCH × k(k−1) values. */
const BATCH = 256;

/** The rows `rows` of `data` as a data set of their own. */
export function takeRows(data: Dataset, rows: Int32Array): Dataset {
  const { dim } = data;
  const x = new Float32Array(rows.length * dim);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    x.set(data.x.subarray(r * dim, (r + 1) * dim), i * dim);
    y[i] = data.y[r]!;
  });
  return { x, y, n: rows.length, dim, classes: data.classes };
}

/**
 * Trains on the rows `train` and predicts the class of each row of `test`
 * (libsvm's votes), all kernel values read from `kernel`, the data set's
 * full data.n × data.n kernel matrix for the kernel in `params`.
 */
export function foldPredict(data: Dataset, kernel: Float32Array, train: Int32Array, test: Int32Array, params: Partial<SvmParams>): Int32Array {
  const fit = trainSvm(takeRows(data, train), { ...params, probability: false }, { kernel: new MatrixView(kernel, data.n, train) });
  return predictFromKernel(fit, kernel, data.n, train, test);
}

/** Voted class of each `test` row for a model trained on the rows `train` of a stride × stride kernel matrix. */
export function predictFromKernel(fit: SvmTrainResult, kernel: Float32Array, stride: number, train: Int32Array, test: Int32Array): Int32Array {
  const { model } = fit;
  const k = model.labels.length;
  const out = new Int32Array(test.length);
  const pairs = pairCount(k);
  const dec = new Float64Array(BATCH * pairs);
  const votes = new Int32Array(k);
  const blocks = new KernelBlocks(fit, train);
  for (let r0 = 0; r0 < test.length; r0 += BATCH) {
    const rows = test.subarray(r0, r0 + BATCH);
    if (k > 1) decisionsFromPartialSums(blocks.partialSums(kernel, stride, rows), rows.length, k, model.rho, dec);
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
  /** Training row (of the full matrix) of each block's SVs, −1 for padding: k × m. */
  private readonly svRow: Int32Array;
  /** k × m × (k−1): block a's sv_coef columns, transposed, zero-padded. */
  private readonly coef: Float32Array;

  constructor(fit: SvmTrainResult, train: Int32Array) {
    const { model, svIndices } = fit;
    const k = (this.k = model.labels.length);
    const m = (this.m = Math.max(1, ...model.nSV));
    this.svRow = new Int32Array(k * m).fill(-1);
    this.coef = new Float32Array(k * m * (k - 1));
    let start = 0;
    for (let a = 0; a < k; a++) {
      const na = model.nSV[a]!;
      const block = coefBlock(model, a, start);
      for (let s = 0; s < na; s++) {
        this.svRow[a * m + s] = train[svIndices[start + s]!]!;
        for (let c = 0; c < k - 1; c++) this.coef[(a * m + s) * (k - 1) + c] = block[c * na + s]!;
      }
      start += na;
    }
  }

  /** rows × k(k−1) partial sums of the given rows of the full kernel matrix. */
  partialSums(kernel: Float32Array, stride: number, rows: Int32Array): Float32Array {
    const { k, m, svRow } = this;
    const n = rows.length;
    const kv = new Float32Array(k * n * m);
    for (let a = 0; a < k; a++) {
      for (let r = 0; r < n; r++) {
        const base = rows[r]! * stride;
        const o = (a * n + r) * m;
        for (let s = 0; s < m; s++) {
          const sv = svRow[a * m + s]!;
          if (sv >= 0) kv[o + s] = kernel[base + sv]!;
        }
      }
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
