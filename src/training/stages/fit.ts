/** The final fit: the chosen head on every example, the artifact a version stores and serves. */
import { multiLabelArtifact } from '../../heads/registry.js';
import type { Config, PipelineRun, Validation } from './run.js';

/** The artifact; a multi-label one carries the thresholds the evaluation chose. */
export async function finalFit(run: PipelineRun, chosen: number, best: Config, evaluation: Validation): Promise<unknown> {
  run.checkCancel();
  const fitted = await run.timed('fit', () => run.jobOf(best.type).fit(run.datasets[chosen]!, best.params));
  const artifact = evaluation.multiLabel ? multiLabelArtifact(fitted, evaluation.multiLabel.thresholds) : fitted;
  run.finished();
  return artifact;
}
