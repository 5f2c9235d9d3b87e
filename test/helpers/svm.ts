/**
 * Ways to train the SVM head that only tests use: in the calling thread on a
 * kernel of the data's own (the service always trains on a job's pool with
 * shared kernel matrices), and on a pool of its own.
 */
import type { Dataset } from '../../src/heads/dataset.js';
import { opsOn } from '../../src/heads/head.js';
import { gramMatrix } from '../../src/heads/linalg/gram.js';
import type { KernelParams } from '../../src/heads/svm/kernel-function.js';
import { FeatureKernel, gramToKernelMatrix, type KernelSource, MatrixKernel } from '../../src/heads/svm/kernel.js';
import { KernelCache } from '../../src/heads/svm/kernel-cache.js';
import { resolveParams, type SvmParams } from '../../src/heads/svm/params.js';
import { type SvmTrainResult, trainSvm } from '../../src/heads/svm/train.js';
import type { svmOps } from '../../src/heads/svm/ops.js';
import { trainSvmOnPool } from '../../src/heads/svm/trainer.js';
import { TrainingPool } from '../../src/training/pool/pool.js';

/** Largest kernel matrix these helpers precompute; above it values come from the features. */
const MATRIX_BYTES = 1024 ** 3;

/** Kernel values between data's rows: a full matrix when it fits, else computed on demand. */
export function localKernel(data: Dataset, kernel: KernelParams): KernelSource {
  if (data.n * data.n * 4 > MATRIX_BYTES) return new FeatureKernel(data.x, data.n, data.dim, kernel);
  return new MatrixKernel(gramToKernelMatrix(gramMatrix(data.x, data.n, data.dim), data.n, kernel), data.n);
}

/** trainSvm in the calling thread, on a kernel of the data's own. */
export function trainSvmHere(data: Dataset, params: Partial<SvmParams> = {}): SvmTrainResult {
  return trainSvm(data, params, localKernel(data, resolveParams(data, params).kernel));
}

/** The pool's SVM ops, typed. */
export const svmPool = (pool: TrainingPool) => opsOn<typeof svmOps>(pool, 'svm');

/** A final fit on a training pool of its own (closed when done); `maxSharedRows` 0 shares no kernel matrix. */
export async function trainSvmOnOwnPool(data: Dataset, params: Partial<SvmParams>, threads = 2, maxSharedRows?: number): Promise<SvmTrainResult> {
  const pool = new TrainingPool(threads);
  try {
    const ops = svmPool(pool);
    return await trainSvmOnPool(ops, new KernelCache(ops, maxSharedRows), data, params);
  } finally {
    await pool.close();
  }
}
