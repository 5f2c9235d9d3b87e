/**
 * The learning curve: the chosen head on growing shares of each fold's
 * training rows, scored on the same held-out rows, and what twice the
 * examples might bring (../learning-curve.ts).
 */
import { estimateGain, subsampleSplit } from '../learning-curve.js';
import { type Config, type PipelineRun, round, scoreFields, type Validation } from './run.js';

/** The report's `learning_curve`; none unless the request asks for one. */
export async function learningCurve(run: PipelineRun, chosen: number, best: Config, evaluation: Validation): Promise<Record<string, unknown> | undefined> {
  const { request, targets, n, y } = run.input;
  const fractions = request.learningCurve;
  if (!fractions) return undefined;
  const { splits } = run;
  const metric = targets ? 'macro_f1' : 'accuracy';
  const scoreOf = (v: Validation) => (targets ? v.macroF1 : v.accuracy);
  const points = await run.timed('learning_curve', async () => {
    const out = [];
    for (const fraction of fractions) {
      const part = splits.map((s, i) => {
        const sub = subsampleSplit({ train: s.train.filter((r) => r < n), test: s.test }, y, fraction, request.seed + 7919 * (i + 1));
        return { train: run.withExtra(sub.train), test: sub.test };
      });
      const [outcome] = await run.jobOf(best.type).crossValidate(run.datasets[chosen]!, part, [best.params]);
      const v = run.validationOf(outcome!.predicted, outcome!.ms);
      out.push({ fraction, examples: round(run.meanTrainExamples(part)), ...scoreFields(v), score: scoreOf(v) });
    }
    out.push({ fraction: 1, examples: round(run.meanTrainExamples(splits)), ...scoreFields(evaluation), score: scoreOf(evaluation) });
    return out;
  });
  const estimate = estimateGain(points);
  return {
    metric,
    points: points.map(({ score: _, ...p }) => p),
    estimate: estimate && {
      metric,
      rule: '1 − score ≈ a · examples^(−b), fitted to the points by least squares in log–log space; an extrapolation',
      a: round(estimate.a),
      b: round(estimate.b),
      examples: estimate.examples,
      [`${metric}_fitted_now`]: round(estimate.score_now),
      doubled_examples: estimate.doubled,
      [`${metric}_at_double`]: round(estimate.score_doubled),
    },
  };
}
