/**
 * The honest evaluation of the chosen head on the chosen features, on every
 * split (already done if the sweep or the search validated it), and the
 * version's metrics.
 */
import { computeMetrics, type Metrics } from '../../heads/evaluation.js';
import { type Config, type PipelineRun, round, type Validation } from './run.js';

export interface EvaluationOutcome {
  /** None when nothing could be held out (../evaluation-plan.ts). */
  validation: Validation | null;
  /** The version's metrics: how they were measured, and (when measured) the scores. */
  metrics: Record<string, unknown>;
}

export async function evaluate(run: PipelineRun, chosen: number, best: Config): Promise<EvaluationOutcome> {
  if (!run.splits.length) return { validation: null, metrics: run.evaluation };
  const validation = (await run.timed('evaluate', () => run.validate(chosen, [best])))[0]!;
  // The one confusion matrix of the job: every fold and configuration before was scored from per-label counts.
  const metrics = {
    ...(validation.multiLabel ? { kind: 'multi_label', ...validation.multiLabel.scores } : run.measureHeldOut<Metrics>(validation.predicted, computeMetrics)),
    ...run.evaluation,
    ...(run.evaluation.method === 'cv' ? { fold_accuracy: validation.perSplit.map(round) } : {}),
  };
  return { validation, metrics };
}
