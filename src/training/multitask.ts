/**
 * Multi-task training: several single-label tasks of one client fitted
 * together, an MLP whose hidden layers every task shares and whose output
 * layer is each task's own (the tasks' texts may differ). Each task's
 * network (the shared layers and its output layer) is stored as an ordinary
 * `mlp` version of that task, usable alone.
 *
 * The honest question is whether sharing helps, so every task is
 * cross-validated twice on the same folds: the joint network (each fold
 * trains all tasks' training rows together and predicts each task's held-out
 * rows) and the same MLP trained on the task alone. Both go in the task's
 * version report; the version's metrics are the joint network's.
 */
import { DomainError } from '../errors.js';
import { type Dataset, sharedDataset } from '../heads/dataset.js';
import { computeMetrics, foldSplit, scoreOf, type Split, stratifiedFolds, stratifiedHoldout } from '../heads/evaluation.js';
import { opsOn } from '../heads/head.js';
import { mlpParamsSchema } from '../heads/mlp/params.js';
import { mlpFit, type mlpOps } from '../heads/mlp/trainer.js';
import { MAP_POINTS, pca2, sampleRows } from './example-map.js';
import { TrainingPool } from './pool/pool.js';
import type { JobThreadResult, MultitaskInput, MultitaskResult, MultitaskTask, PhaseTiming } from './job-protocol.js';

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export async function runMultitask(input: MultitaskInput, progress: (phase: string, fraction: number) => void): Promise<MultitaskResult> {
  const cancelled = () => Atomics.load(input.cancel, 0) !== 0;
  const checkCancel = () => {
    if (cancelled()) throw new DomainError('cancelled', 'cancelled');
  };
  const pool = new TrainingPool(Math.max(1, input.threads), cancelled);
  try {
    const { request, tasks } = input;
    const head = request.head;
    if (head.type !== 'mlp' || !('params' in head)) throw new Error('multi-task training fits the mlp head');
    const params = mlpParamsSchema.parse(head.params);
    const fit = mlpFit(params, request.seed);
    const ops = opsOn<typeof mlpOps>(pool, 'mlp');
    const data: Dataset[] = tasks.map((t) => sharedDataset({ x: t.x, y: t.y, n: t.n, dim: t.dim, classes: t.labels.length }));
    const ev = request.evaluation;
    if (ev.method === 'none') throw new Error('multi-task training needs an evaluation (checkFoldable refuses the request)');
    const splitsOf = (t: MultitaskTask): Split[] => {
      if (ev.method !== 'cv') return [stratifiedHoldout(t.y, t.labels.length, ev.fraction, request.seed)];
      const fold = stratifiedFolds(t.y, t.labels.length, ev.folds, request.seed);
      return Array.from({ length: ev.folds }, (_, f) => foldSplit(fold, f));
    };
    const splits = tasks.map(splitsOf);
    const folds = splits[0]!.length;
    const total = 2 * folds * tasks.length + folds + tasks.length;
    let done = 0;
    const step = (phase: string) => {
      checkCancel();
      progress(phase, Math.min(0.99, ++done / total));
    };
    const timings: PhaseTiming[] = [];
    const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      progress(phase, done / total);
      const r = await fn();
      timings.push({ phase, ms: Math.round(performance.now() - started) });
      return r;
    };
    /** Each task's out-of-fold classes (−1: never held out), from per-fold predictions of its split's test rows. */
    const outOfFold = (perFold: Int32Array[][]) =>
      tasks.map((t, i) => {
        const predicted = new Int32Array(t.n).fill(-1);
        for (const [f, split] of splits[i]!.entries()) for (const [j, row] of split.test.entries()) predicted[row] = perFold[f]![i]![j]!;
        return predicted;
      });

    // The joint network on each fold: all tasks' training rows together.
    const joint = await timed('evaluate_joint', async () =>
      outOfFold(
        await Promise.all(
          Array.from({ length: folds }, async (_, f) => {
            const fold = await ops.run('jointFoldPredict', {
              tasks: data.map((d, i) => ({ data: d, train: splits[i]![f]!.train, test: splits[i]![f]!.test })),
              fit,
            });
            step('evaluate_joint');
            return fold.result;
          }),
        ),
      ),
    );
    // The same MLP on each task alone, on the same folds.
    const alone = await timed('evaluate_alone', async () =>
      outOfFold(
        await Promise.all(
          Array.from({ length: folds }, async (_, f) =>
            Promise.all(
              data.map(async (d, i) => {
                const fold = await ops.run('foldPredict', { data: d, train: splits[i]![f]!.train, test: splits[i]![f]!.test, fit });
                step('evaluate_alone');
                return fold.result as Int32Array;
              }),
            ),
          ),
        ),
      ),
    );
    const artifacts = await timed('fit', async () => {
      const out = await ops.run('jointFit', { tasks: data, fit });
      step('fit');
      return out.result;
    });
    const fitMs = timings.find((t) => t.phase === 'fit')!.ms;
    const evaluateMs = timings.filter((t) => t.phase !== 'fit').reduce((s, t) => s + t.ms, 0);
    const scored = (t: MultitaskTask, predicted: Int32Array) => {
      const rows = [...predicted.keys()].filter((r) => predicted[r]! >= 0);
      return {
        truth: Int32Array.from(rows, (r) => t.y[r]!),
        predicted: Int32Array.from(rows, (r) => predicted[r]!),
      };
    };
    const results = tasks.map((t, i): JobThreadResult => {
      checkCancel();
      const mine = scored(t, joint[i]!);
      const solo = scored(t, alone[i]!);
      const jointScores = scoreOf(mine.truth, mine.predicted, t.labels);
      const aloneScores = scoreOf(solo.truth, solo.predicted, t.labels);
      const started = performance.now();
      const map = pca2(t.x, t.dim, sampleRows(t.n, MAP_POINTS, request.seed), request.seed);
      step('map');
      return {
        chosen: 0,
        headType: 'mlp',
        params,
        artifact: artifacts[i],
        metrics: {
          ...computeMetrics(mine.truth, mine.predicted, t.labels),
          method: ev.method,
          ...(ev.method === 'cv' ? { folds: ev.folds } : { holdout_fraction: ev.fraction }),
        },
        report: {
          multitask: {
            tasks: tasks.map((o) => o.taskId),
            rule: 'hidden layers shared by every task, one output layer per task; scored on the same folds as the same mlp trained on this task alone',
            joint: { accuracy: round(jointScores.accuracy), macro_f1: round(jointScores.macro_f1) },
            alone: { accuracy: round(aloneScores.accuracy), macro_f1: round(aloneScores.macro_f1) },
            macro_f1_gain: round(jointScores.macro_f1 - aloneScores.macro_f1),
          },
        },
        timings: [
          { phase: 'evaluate', ms: evaluateMs },
          { phase: 'map', ms: Math.round(performance.now() - started) },
          { phase: 'fit', ms: fitMs },
        ],
        evaluation: { predicted: joint[i]!, map },
      };
    });
    progress('fit', 1);
    return { tasks: results };
  } finally {
    await pool.close();
  }
}
