/**
 * Training of the `mlp` head on a job's worker pool: every fit (a
 * configuration on a split, or the final head) is one pool task; a fold's
 * task returns its held-out rows' predicted classes, scored through the same
 * forward graph the stored head predicts with.
 */
import { crossValidateFolds, predictHeldOut } from '../cross-validate.js';
import { type Dataset, sharedDataset } from '../dataset.js';
import { type FoldPrediction, type HeadTrainer, opsOn } from '../head.js';
import { type MlpHeadParams, mlpParamsSchema } from './params.js';
import { type MlpArtifact, MlpPredictor } from './model.js';
import { fitJointMlp, fitMlp, type MlpFit } from './train.js';
import type { LayerWeights } from './graph.js';

interface FitArgs {
  data: Dataset;
  /** Rows to train on (null: all). */
  train: Int32Array | null;
  fit: MlpFit;
}

/** The stored form of a network fitted on `data`. */
function toArtifact(data: Dataset, layers: LayerWeights[]): MlpArtifact {
  return {
    format: 'mlp',
    classes: data.classes,
    dim: data.dim,
    activation: 'relu',
    ...(data.targets ? { output: 'sigmoid' as const } : {}),
    layers: layers.map((l) => ({ in: l.in, out: l.out, weights: Array.from(l.w), bias: Array.from(l.b) })),
  };
}

const artifactOf = (a: FitArgs): MlpArtifact => toArtifact(a.data, fitMlp(a.data, a.train, a.fit).layers);

/** Several tasks' data sets fitted together (shared hidden layers): each task's network is the shared layers and its own output layer. */
function jointArtifacts(tasks: Array<{ data: Dataset; train: Int32Array | null }>, fit: MlpFit): MlpArtifact[] {
  const joint = fitJointMlp(
    tasks.map((t) => ({ data: t.data, rows: t.train })),
    fit,
  );
  return tasks.map((t, i) => toArtifact(t.data, [...joint.shared, joint.heads[i]!]));
}

export const mlpOps = {
  fit: (a: FitArgs): MlpArtifact => artifactOf(a),
  /** Multi-task: trains every task's `train` rows together and predicts each task's `test` rows (classes). */
  jointFoldPredict(a: { tasks: Array<{ data: Dataset; train: Int32Array; test: Int32Array }>; fit: MlpFit }): Int32Array[] {
    return jointArtifacts(a.tasks, a.fit).map((artifact, i) => predictHeldOut(new MlpPredictor(artifact), a.tasks[i]!.data, a.tasks[i]!.test) as Int32Array);
  },
  /** Multi-task: every task's network, trained together on all its rows. */
  jointFit: (a: { tasks: Dataset[]; fit: MlpFit }): MlpArtifact[] =>
    jointArtifacts(
      a.tasks.map((data) => ({ data, train: null })),
      a.fit,
    ),
  /** Trains on `train` and predicts each row of `test`: its class, or (multi-label) every label's probability. */
  foldPredict: (a: FitArgs & { test: Int32Array }): FoldPrediction => predictHeldOut(new MlpPredictor(artifactOf(a)), a.data, a.test),
};

export const mlpTrainer: HeadTrainer<MlpHeadParams> = {
  ops: mlpOps,
  start(job) {
    const pool = opsOn<typeof mlpOps>(job.pool, 'mlp');
    const fitOf = (p: MlpHeadParams): MlpFit => mlpFit(p, job.seed);
    return {
      grid: () => [1e-4, 1e-3, 1e-2, 1e-1].map((alpha) => ({ ...mlpParamsSchema.parse({}), alpha })),
      crossValidate: (data, splits, configs) =>
        crossValidateFolds(job, data, splits, configs, async (shared, split, params) => {
          const fold = await pool.run('foldPredict', { data: shared, train: split.train, fit: fitOf(params), test: split.test });
          return { predicted: fold.result, ms: fold.ms };
        }),
      fit: async (data, params) => (await pool.run('fit', { data: sharedDataset(data), train: null, fit: fitOf(params) })).result,
    };
  },
};

/** The API's parameters as a fit's. */
export function mlpFit(p: MlpHeadParams, seed: number): MlpFit {
  return {
    hidden: p.hidden_layer_sizes,
    alpha: p.alpha,
    learningRate: p.learning_rate,
    batchSize: p.batch_size,
    maxIter: p.max_iter,
    earlyStopping: p.early_stopping,
    validationFraction: p.validation_fraction,
    patience: p.n_iter_no_change,
    tol: p.tol,
    seed,
  };
}
