/**
 * What a training job computes, given its feature matrices, as a sequence of
 * stages (./stages/): an optional layer sweep (which hidden state suits this
 * task), an optional hyper-parameter search, an honest evaluation of the
 * chosen head, an optional learning curve, the map of the examples, and the
 * final fit. The stages share one run (./stages/run.ts): every one validates
 * on the same folds, so predictions made for one are reused by the next.
 */
import { TrainingPool } from './pool/pool.js';
import type { JobThreadInput, JobThreadResult } from './job-protocol.js';
import { learningCurve } from './stages/curve.js';
import { evaluate } from './stages/evaluate.js';
import { finalFit } from './stages/fit.js';
import { exampleMap } from './stages/map.js';
import { PipelineRun, type Progress } from './stages/run.js';
import { search } from './stages/search.js';
import { blended, blendWithPrior } from './stages/blend.js';
import { layerSweep } from './stages/sweep.js';

export { withinOneStandardError } from './stages/sweep.js';

/**
 * Runs the job on a pool of `input.threads` worker threads that lives for the
 * whole pipeline; every fit is a task on it (see ./pool/pool.ts).
 */
export async function runPipeline(input: JobThreadInput, progress: Progress): Promise<JobThreadResult> {
  const pool = new TrainingPool(Math.max(1, input.threads), () => Atomics.load(input.cancel, 0) !== 0);
  try {
    return await pipeline(input, progress, pool);
  } finally {
    await pool.close();
  }
}

async function pipeline(input: JobThreadInput, progress: Progress, pool: TrainingPool): Promise<JobThreadResult> {
  const run = await PipelineRun.start(input, progress, pool);
  const sweep = await layerSweep(run);
  const { chosen } = sweep;
  const searched = await search(run, chosen);
  const { best } = searched;
  const evaluation = await evaluate(run, chosen, best);
  const blend = await blendWithPrior(run, chosen, best, evaluation.validation);
  const curve = await learningCurve(run, chosen, best, evaluation.validation, blend?.predicted);
  const map = await exampleMap(run, chosen);
  const fitted = await finalFit(run, chosen, best, evaluation.validation);
  const artifact = blend ? blended(fitted, input.prior, blend.weight) : fitted;
  const multiLabel = evaluation.validation?.multiLabel;
  const report = {
    ...(sweep.report ? { layer_sweep: sweep.report } : {}),
    ...(searched.report ? { search: searched.report } : {}),
    ...(curve ? { learning_curve: curve } : {}),
    ...(blend ? { blend: blend.report } : {}),
  };
  return {
    chosen,
    headType: best.type,
    params: best.params,
    artifact,
    metrics: blend?.metrics ?? evaluation.metrics,
    report,
    timings: run.timings,
    evaluation: {
      predicted: blend?.predicted ?? evaluation.validation?.predicted ?? new Int32Array(input.n).fill(-1),
      map,
      ...(multiLabel ? { sets: { decided: multiLabel.decided, held: multiLabel.held } } : {}),
    },
  };
}
