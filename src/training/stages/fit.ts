/** The final fit: the chosen head on every example, the artifact a version stores and serves. */
import { multiLabelArtifact } from '../../heads/registry.js';
import type { Config, PipelineRun, Validation } from './run.js';

/** The artifact; a multi-label one carries the thresholds the evaluation chose (0.5 each without an evaluation). */
export async function finalFit(run: PipelineRun, chosen: number, best: Config, evaluation: Validation | null): Promise<unknown> {
  run.checkCancel();
  const fitted = await run.timed('fit', () => run.jobOf(best.type).fit(run.datasets[chosen]!, best.params));
  const { targets, labels } = run.input;
  const thresholds = evaluation?.multiLabel?.thresholds ?? (targets ? new Float32Array(labels.length).fill(0.5) : undefined);
  const artifact = thresholds ? multiLabelArtifact(fitted, thresholds) : fitted;
  run.finished();
  return artifact;
}
