/**
 * The honest evaluation of the chosen head on the chosen features, on every
 * split (already done if the sweep or the search validated it), and the
 * version's metrics.
 */
import { computeMetrics, type Metrics } from '../../heads/evaluation.js';
import { type Config, type PipelineRun, round, type Validation } from './run.js';

export interface EvaluationOutcome {
  validation: Validation;
  /** The version's metrics. */
  metrics: Record<string, unknown>;
}

export async function evaluate(run: PipelineRun, chosen: number, best: Config): Promise<EvaluationOutcome> {
  const validation = (await run.timed('evaluate', () => run.validate(chosen, [best])))[0]!;
  const ev = run.input.request.evaluation;
  // The one confusion matrix of the job: every fold and configuration before was scored from per-label counts.
  const metrics = {
    ...(validation.multiLabel ? { kind: 'multi_label', ...validation.multiLabel.scores } : run.measureHeldOut<Metrics>(validation.predicted, computeMetrics)),
    method: ev.method,
    ...(ev.method === 'cv' ? { folds: ev.folds, fold_accuracy: validation.perSplit.map(round) } : { holdout_fraction: ev.fraction }),
  };
  return { validation, metrics };
}
