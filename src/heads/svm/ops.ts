/** What the SVM's fits run on the training pool's workers, and the typed pool they run on. */
import type { Dataset } from '../dataset.js';
import type { opsOn } from '../head.js';
import { foldPredict } from './cv.js';
import type { KernelParams } from './kernel-function.js';
import { FeatureKernel, gramRowsToKernel, MatrixKernel } from './kernel.js';
import { type ResolvedSvmParams, resolveParams, type SvmParams } from './params.js';
import { type ClassGroups, trainPairs } from './train.js';

/** By name; matrices travel as SharedArrayBuffer views, so a task copies none. */
export const svmOps = {
  /** Rows [from, to) of a Gram matrix (n × n) as kernel values, into `out`. */
  'kernel-rows'(a: { gram: Float32Array; out: Float32Array; n: number; sq: Float64Array; kernel: KernelParams; from: number; to: number }): null {
    gramRowsToKernel(a.gram, a.n, a.sq, a.kernel, a.from, a.to, a.out);
    return null;
  },
  /**
   * One cross-validation fold: train on `train`, predict `test`. `kernel` is
   * the data set's full kernel matrix for `params`, or null to compute kernel
   * values from the features (data sets too large to share a matrix).
   */
  fold(a: { data: Dataset; kernel: Float32Array | null; train: Int32Array; test: Int32Array; params: Partial<SvmParams> }): Int32Array {
    const { data } = a;
    const source = a.kernel ? new MatrixKernel(a.kernel, data.n) : new FeatureKernel(data.x, data.n, data.dim, resolveParams(data, a.params).kernel);
    return foldPredict(data, source, a.train, a.test, a.params);
  },
  /** One-vs-one pairs of a final fit on all of `data`; `kernel` as for `fold`. */
  pairs(a: { data: Dataset; kernel: Float32Array | null; groups: ClassGroups; params: ResolvedSvmParams; pairs: number[] }) {
    const { data } = a;
    const source = a.kernel ? new MatrixKernel(a.kernel, data.n) : new FeatureKernel(data.x, data.n, data.dim, a.params.kernel);
    return trainPairs({ groups: a.groups, params: a.params, kernel: source }, a.pairs);
  },
};

export type SvmPool = ReturnType<typeof opsOn<typeof svmOps>>;
