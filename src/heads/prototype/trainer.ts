/**
 * Training of the `prototype` head: each label's prototype is the mean of
 * its examples' unit-length features. Cheap enough to run in the job's own
 * thread; a fold predicts through the same predictor serving uses.
 */
import { crossValidateFolds, predictHeldOut } from '../cross-validate.js';
import { type Dataset, takeRows } from '../dataset.js';
import type { HeadTrainer } from '../head.js';
import { type PrototypeHeadParams, prototypeParamsSchema } from './params.js';
import { normalizeRows, type PrototypeArtifact, PrototypePredictor, prototypeArtifact } from './model.js';

/** The mean direction of each class's rows of `data`. */
export function fitPrototypes(data: Dataset, scale: number): PrototypeArtifact {
  const { n, dim, classes } = data;
  const unit = Float64Array.from(data.x.subarray(0, n * dim));
  normalizeRows(unit, n, dim);
  const sums = new Float32Array(classes * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) sums[data.y[i]! * dim + j]! += unit[i * dim + j]!;
  return prototypeArtifact(sums, classes, dim, scale);
}

export const prototypeTrainer: HeadTrainer<PrototypeHeadParams> = {
  ops: {},
  start(job) {
    return {
      grid: () => [10, 20, 50].map((scale) => ({ ...prototypeParamsSchema.parse({}), scale })),
      crossValidate: (data, splits, configs) =>
        crossValidateFolds(job, data, splits, configs, async (shared, split, params) => {
          const started = performance.now();
          const predictor = new PrototypePredictor(fitPrototypes(takeRows(shared, split.train), params.scale));
          return { predicted: predictHeldOut(predictor, shared, split.test), ms: performance.now() - started };
        }),
      fit: async (data, params) => fitPrototypes(data, params.scale),
    };
  },
};
