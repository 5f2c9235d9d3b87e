/**
 * The units of work a head pool runs: plain-data descriptions (feature rows
 * and kernel matrices travel as SharedArrayBuffer-backed views, so posting a
 * task copies no matrix) and the functions that carry them out in a worker.
 */
import type { Dataset } from '../types.js';
import type { FlatTree } from '../forest/cart.js';
import { leafLabels } from '../forest/cv.js';
import type { ResolvedForestParams } from '../forest/params.js';
import { trainTrees } from '../forest/train.js';
import { foldPredict, takeRows } from '../svm/cv.js';
import { FeatureKernel, MatrixKernel, gramRowsToKernel, type KernelParams } from '../svm/kernel.js';
import type { ResolvedSvmParams, SvmParams } from '../svm/params.js';
import { SvmPredictor } from '../svm/predict.js';
import { trainPairs, trainSvm, type ClassGroups, type PairResult } from '../svm/train.js';

export type PoolTask =
  /** Rows [from, to) of a Gram matrix (n × n) as kernel values, into `out`. */
  | { kind: 'kernel-rows'; gram: Float32Array; out: Float32Array; n: number; sq: Float64Array; kernel: KernelParams; from: number; to: number }
  /**
   * One cross-validation fold of an SVM: train on `train`, predict `test`.
   * `kernel` is the data set's full kernel matrix for `params`, or null to
   * fit on the subset alone (data sets too large to share a matrix).
   */
  | { kind: 'svm-fold'; data: Dataset; kernel: Float32Array | null; train: Int32Array; test: Int32Array; params: Partial<SvmParams> }
  /** One-vs-one pairs of a final SVM fit on all of `data`; `kernel` as above, null = values from the features. */
  | { kind: 'svm-pairs'; data: Dataset; kernel: Float32Array | null; groups: ClassGroups; params: ResolvedSvmParams; pairs: number[] }
  /**
   * Trees [from, to) of a forest grown on the rows `train` (null = all).
   * With `test`, the trees' leaf labels for those rows instead of the trees.
   */
  | { kind: 'forest-trees'; data: Dataset; train: Int32Array | null; params: ResolvedForestParams; from: number; to: number; test: Int32Array | null };

export interface PoolResults {
  'kernel-rows': null;
  'svm-fold': Int32Array;
  'svm-pairs': PairResult[];
  'forest-trees': FlatTree[] | Int32Array;
}

export type TaskOf<K extends PoolTask['kind']> = Extract<PoolTask, { kind: K }>;

export function runTask(task: PoolTask): PoolResults[PoolTask['kind']] {
  switch (task.kind) {
    case 'kernel-rows':
      gramRowsToKernel(task.gram, task.n, task.sq, task.kernel, task.from, task.to, task.out);
      return null;
    case 'svm-fold':
      return task.kernel ? foldPredict(task.data, task.kernel, task.train, task.test, task.params) : freshFoldPredict(task);
    case 'svm-pairs': {
      const { data, kernel, groups, params, pairs } = task;
      const source = kernel ? new MatrixKernel(kernel, data.n) : new FeatureKernel(data.x, data.n, data.dim, params.kernel);
      return trainPairs({ groups, params, kernel: source }, pairs);
    }
    case 'forest-trees': {
      const { data, train, params, from, to, test } = task;
      const trees = trainTrees(train ? takeRows(data, train) : data, params, from, to);
      return test ? leafLabels(trees, data.x, data.dim, test) : trees;
    }
  }
}

/** A fold fit that computes its own kernel values: for data sets above the shared-matrix bound. */
function freshFoldPredict(task: TaskOf<'svm-fold'>): Int32Array {
  const { model } = trainSvm(takeRows(task.data, task.train), { ...task.params, probability: false });
  const test = takeRows(task.data, task.test);
  return new SvmPredictor(model, { classes: task.data.classes, threads: 1 }).predictLabels(test.x, test.n);
}

/** Buffers a result can hand over instead of copying. */
export function transferables(result: PoolResults[PoolTask['kind']]): ArrayBuffer[] {
  if (result instanceof Int32Array) return [result.buffer as ArrayBuffer];
  if (Array.isArray(result)) {
    return result.flatMap((r) => ('coef' in r ? [r.coef.buffer as ArrayBuffer] : []));
  }
  return [];
}
