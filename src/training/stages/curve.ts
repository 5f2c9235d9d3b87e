/**
 * The learning curve: the chosen head on growing shares of each fold's
 * training rows, scored on the same held-out rows, and what twice the
 * examples might bring (../learning-curve.ts).
 */
import { foldCount, medianCount } from '../evaluation-plan.js';
import { estimateGain, subsampleSplit } from '../learning-curve.js';
import { type Config, type PipelineRun, round, scoreFields, type Validation } from './run.js';

/**
 * The report's `learning_curve`; none unless the request asks for one. `blended`: the version's out-of-fold
 * classes where the head is blended with the descriptions (./blend.ts): the curve is the head's, and what twice the
 * examples bring the version is at least what the blend scores now (it can keep its weight). The description rows
 * every share trains on count in the law's rows: left out, a curve from 1 to 3 examples a label (with one
 * description each) reads as a rise over three times the rows where the head saw twice as many.
 */
export async function learningCurve(
  run: PipelineRun,
  chosen: number,
  best: Config,
  evaluation: Validation | null,
  blended?: Int32Array,
): Promise<Record<string, unknown> | undefined> {
  const { request, targets, n, y } = run.input;
  const fractions = request.learningCurve;
  if (!fractions || !evaluation) return undefined;
  const { splits } = run;
  const metric = targets ? 'macro_f1' : 'accuracy';
  // Multi-label tasks follow macro-F1 (subset accuracy barely moves with examples).
  const foldScores = (v: Validation) => (targets ? v.perSplitF1 : v.perSplit);
  const points = await run.timed('learning_curve', async () => {
    const out = [];
    for (const fraction of fractions) {
      const part = splits.map((s, i) => {
        const sub = subsampleSplit({ train: s.train.filter((r) => r < n), test: s.test }, y, fraction, request.seed + 7919 * (i + 1));
        return { train: run.withExtra(sub.train), test: sub.test };
      });
      const [outcome] = await run.jobOf(best.type).crossValidate(run.datasets[chosen]!, part, [best.params]);
      const v = run.validationOf(outcome!.predicted, outcome!.ms);
      out.push({ fraction, examples: round(run.meanTrainExamples(part)), ...scoreFields(v), folds: foldScores(v) });
    }
    out.push({ fraction: 1, examples: round(run.meanTrainExamples(splits)), ...scoreFields(evaluation), folds: foldScores(evaluation) });
    return out;
  });
  const held = run.splits.flatMap((s) => [...s.test]);
  const floor = blended && held.filter((r) => blended[r] === y[r]).length / held.length;
  // Below two examples a label a fold, the shares cut almost nothing (one a label is kept): no curve to read.
  const perLabel = medianCount(
    Int32Array.from(
      run.splits[0]!.train.filter((r) => r < n),
      (r) => y[r]!,
    ),
    run.input.labels.length,
  );
  const estimate = perLabel < 2 ? null : estimateGain(points, { target: doubledTraining(run), floor, extra: run.input.extraRows ?? 0 });
  return {
    metric,
    points: points.map(({ folds, ...p }) => ({ ...p, [`fold_${metric}`]: folds.map(round) })),
    estimate: estimate && {
      metric,
      rule: "each fold: 1 − score ∝ (examples + description rows)^(−b), b by least squares in log–log space weighted by rows and at most 1, read from the fold's measured score at the rows a fold would train on with every label's examples doubled; the mean over folds, at least the blend's score where descriptions are blended in, and a 95 % interval from the folds' spread; an extrapolation",
      b: round(estimate.b.reduce((a, x) => a + x, 0) / estimate.b.length),
      examples: estimate.examples,
      doubled_examples: estimate.doubled,
      [`${metric}_at_double`]: round(estimate.score_doubled),
      interval: estimate.interval?.map(round) ?? null,
    },
  };
}

/**
 * The examples a fold would train on were every label's examples doubled: what the evaluation of such a job would
 * measure is what the curve predicts. Cross-validation's folds follow the examples a label (evaluation-plan.ts),
 * so with few a label doubling them more than doubles what a fold trains on (two a label: one of each; four: three).
 */
function doubledTraining(run: PipelineRun): number {
  const { request, n, y, labels } = run.input;
  const now = run.meanTrainExamples(run.splits);
  if (run.evaluation.method !== 'cv' || request.evaluation.method !== 'cv') return 2 * now;
  const folds = foldCount(request.evaluation.folds, 2 * n, 2 * medianCount(y.subarray(0, n), labels.length));
  return 2 * n * (1 - 1 / folds);
}
