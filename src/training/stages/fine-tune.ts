/**
 * A job that fine-tunes, in its training process: the encoder's top layers
 * and a classifier trained on the examples' texts (../fine-tune/), evaluated
 * on the request's hold-out (the split every other stage uses, from the same
 * seed), with a checkpoint after every epoch. With `auto`, the frozen
 * candidates run first through the ordinary pipeline on the same split, and
 * the fine-tuned version is chosen only when it beats the best of them on the
 * same held-out rows: a tie, or fewer rows right, keeps the frozen head.
 */
import { fineTunedSpec, storedTunedStack } from '../fine-tuned-version.js';
import { argmaxRows, computeMetrics } from '../../heads/evaluation.js';
import { FINE_TUNE_HEAD, fineTunedArtifact } from '../../heads/fine-tuned.js';
import { applyThresholds, chooseThresholds, DEFAULT_THRESHOLD, multiLabelScores } from '../../heads/multi-label.js';
import { multiLabelArtifact } from '../../heads/registry.js';
import { MAP_POINTS, pca2, sampleRows } from '../example-map.js';
import { type EvaluationPlan, planEvaluation } from '../evaluation-plan.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  type EpochRecord,
  type FineTuneLabels,
  type FineTuneResult,
  fineTune,
  type StepProgress,
} from '../fine-tune/index.js';
import type { FineTuneJob, JobThreadInput, JobThreadResult } from '../job-protocol.js';
import { runPipeline } from '../pipeline.js';
import { isAuto } from '../request.js';
import type { Progress } from './run.js';

/** What the stage tells the runner beside its progress: each step, and each epoch's checkpoint to keep. */
export interface FineTuneEvents {
  step(p: StepProgress): void;
  checkpoint(epoch: number, bytes: Uint8Array, record: EpochRecord): void;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export async function runFineTuneJob(input: JobThreadInput, job: FineTuneJob, progress: Progress, events: FineTuneEvents): Promise<JobThreadResult> {
  const { request } = input;
  const head = request.head;
  const frozenTypes = isAuto(head) ? head.candidates.filter((t) => t !== FINE_TUNE_HEAD) : [];
  // With auto, the frozen candidates take the first part of the progress bar, fine-tuning the rest.
  const share = frozenTypes.length ? 0.3 : 0;
  const frozen = frozenTypes.length
    ? await runPipeline({ ...input, request: { ...request, head: { type: 'auto', candidates: frozenTypes } } }, (phase, f) => progress(phase, share * f))
    : undefined;
  const tuned = await fineTuned(input, job, (phase, f) => progress(phase, share + (1 - share) * f), events);
  if (!frozen) return tuned;
  return choose(input, frozen, tuned);
}

/** The fine-tuning run on the split, as a version's result. */
async function fineTuned(input: JobThreadInput, job: FineTuneJob, progress: Progress, events: FineTuneEvents): Promise<JobThreadResult> {
  const { request, labels, y, n, targets } = input;
  const classes = labels.length;
  const started = performance.now();
  const plan = planEvaluation(y.subarray(0, n), classes, request.evaluation, request.seed);
  const split = plan.splits[0];
  const extra = Array.from({ length: input.extraRows ?? 0 }, (_, i) => n + i);
  const trainRows = split ? [...split.train, ...extra] : [...Array.from({ length: n }, (_, i) => i), ...extra];
  const heldRows = split ? Array.from(split.test) : [];
  const labelsOf = (rows: number[]): FineTuneLabels => {
    if (!targets) return { classes, y: Int32Array.from(rows, (r) => y[r]!) };
    const t = new Uint8Array(rows.length * classes);
    for (const [i, r] of rows.entries()) t.set(targets.subarray(r * classes, (r + 1) * classes), i * classes);
    return { classes, targets: t };
  };
  const resume = job.checkpoint ? decodeCheckpoint(job.checkpoint) : undefined;
  progress('fine_tune', 0);
  const result = await fineTune(
    {
      modelDir: job.modelDir,
      texts: trainRows.map((r) => job.texts[r]!),
      labels: labelsOf(trainRows),
      recipe: job.recipe,
      ...(heldRows.length ? { heldOut: { texts: heldRows.map((r) => job.texts[r]!), labels: labelsOf(heldRows) } } : {}),
      ...(resume ? { resume, ifOtherRun: 'restart' as const } : {}),
    },
    {
      cancelled: () => Atomics.load(input.cancel, 0) !== 0,
      progress: (p) => {
        events.step(p);
        progress('fine_tune', p.step / p.steps);
      },
      checkpoint: (c) => events.checkpoint(c.epoch, encodeCheckpoint(c), c.history.at(-1)!),
    },
  );
  const evaluated = scoreHeldOut(input, plan.describe, heldRows, result);
  const artifactHead = targets ? multiLabelArtifact(result.classifier, evaluated.thresholds!) : result.classifier;
  const { layers, epochs, learningRate, batchSize, maxTokens, weightDecay, warmup, dropout, probe, objective } = job.recipe;
  return {
    chosen: 0,
    headType: FINE_TUNE_HEAD,
    params: {
      layers,
      epochs,
      learning_rate: learningRate,
      batch_size: batchSize,
      max_tokens: maxTokens,
      weight_decay: weightDecay,
      warmup,
      dropout,
      probe,
      objective,
    },
    artifact: fineTunedArtifact(result.stack.model.name, result.stack.first, result.stack.last, artifactHead),
    spec: fineTunedSpec(result.stack),
    tunedStack: storedTunedStack(result.stack),
    metrics: evaluated.metrics,
    report: {
      fine_tune: {
        tuned_layers: { first: result.stack.first, last: result.stack.last },
        history: result.history.map((h) => ({
          epoch: h.epoch,
          loss: round(h.loss),
          seconds: round(h.seconds),
          ...(h.heldOut ? { held_out: 'accuracy' in h.heldOut ? { accuracy: round(h.heldOut.accuracy) } : { macro_f1: round(h.heldOut.macroF1) } } : {}),
        })),
        trained_rows: trainRows.length,
        held_out_rows: heldRows.length,
        ...(result.resumedAfter !== undefined ? { resumed_after_epoch: result.resumedAfter } : {}),
        stats: {
          steps: result.stats.steps,
          trained_tokens: result.stats.trainedTokens,
          tokens_per_second: round(result.stats.trainedTokens / Math.max(1e-9, result.stats.trainSeconds)),
          frozen_seconds: round(result.stats.frozenSeconds),
          train_seconds: round(result.stats.trainSeconds),
          evaluate_seconds: round(result.stats.evaluateSeconds),
          frozen_bytes: result.stats.frozenBytes,
          spilled: result.stats.spilled,
        },
      },
    },
    timings: [{ phase: 'fine_tune', ms: Math.round(performance.now() - started) }],
    evaluation: {
      predicted: evaluated.predicted,
      map: pca2(input.candidates[0]!.x, input.candidates[0]!.dim, sampleRows(n, MAP_POINTS, request.seed), request.seed),
    },
  };
}

/**
 * The version's metrics from the held-out texts' probabilities: accuracy and the rest (single-label), or
 * multi-label scores with thresholds chosen on those rows (what a single hold-out allows, as the other heads'),
 * which the version keeps. Without a hold-out: the plan's reason, and 0.5 a label.
 */
function scoreHeldOut(
  input: JobThreadInput,
  describe: EvaluationPlan['describe'],
  heldRows: number[],
  result: FineTuneResult,
): { metrics: Record<string, unknown>; predicted: Int32Array; thresholds?: Float32Array } {
  const { labels, y, n, targets } = input;
  const classes = labels.length;
  const predicted = new Int32Array(n).fill(-1);
  const proba = result.heldOutProbabilities;
  if (!heldRows.length || !proba)
    return { metrics: describe, predicted, ...(targets ? { thresholds: new Float32Array(classes).fill(DEFAULT_THRESHOLD) } : {}) };
  const m = heldRows.length;
  if (targets) {
    const truth = new Uint8Array(m * classes);
    for (const [i, r] of heldRows.entries()) truth.set(targets.subarray(r * classes, (r + 1) * classes), i * classes);
    const rows = Int32Array.from({ length: m }, (_, i) => i);
    const thresholds = chooseThresholds(proba, truth, classes, rows);
    const scores = multiLabelScores(truth, applyThresholds(proba, m, thresholds), labels, rows, thresholds);
    return { metrics: { kind: 'multi_label', ...scores, ...describe }, predicted, thresholds };
  }
  const classOf = argmaxRows(proba, m, classes);
  heldRows.forEach((r, i) => {
    predicted[r] = classOf[i]!;
  });
  const metrics = computeMetrics(
    Int32Array.from(heldRows, (r) => y[r]!),
    classOf,
    labels,
  );
  return { metrics: { ...metrics, ...describe }, predicted };
}

/** Single-label: rows right of `rows`; multi-label: the metrics' macro-F1 (both versions scored on the same hold-out). */
function scoreOn(result: JobThreadResult, y: Int32Array, rows: number[]): number {
  const metrics = result.metrics as { macro_f1?: number; kind?: string };
  if (metrics.kind === 'multi_label') return metrics.macro_f1 ?? 0;
  let right = 0;
  for (const r of rows) if (result.evaluation.predicted[r] === y[r]) right++;
  return rows.length ? right / rows.length : 0;
}

/** auto with fine_tune: the better of the best frozen head and the fine-tuned one on the same held-out rows. */
function choose(input: JobThreadInput, frozen: JobThreadResult, tuned: JobThreadResult): JobThreadResult {
  const { y, n, targets } = input;
  const rows = Array.from({ length: n }, (_, i) => i).filter((i) => tuned.evaluation.predicted[i]! >= 0);
  const multi = Boolean(targets);
  const measured = multi ? (tuned.metrics as { method?: string }).method === 'holdout' : rows.length > 0;
  const frozenScore = scoreOn(frozen, y, rows);
  const tunedScore = scoreOn(tuned, y, rows);
  const pick = measured && tunedScore > frozenScore ? tuned : frozen;
  const comparison = {
    metric: multi ? 'macro_f1' : 'accuracy',
    rows: multi ? (tuned.report.fine_tune as { held_out_rows: number }).held_out_rows : rows.length,
    frozen: { head: frozen.headType, score: round(frozenScore) },
    fine_tune: { score: measured ? round(tunedScore) : null },
    chosen: pick === tuned ? FINE_TUNE_HEAD : frozen.headType,
    reason: !measured
      ? 'nothing was held out: fine-tuning cannot be compared, the frozen head is kept'
      : pick === tuned
        ? 'the fine-tuned version did better on the same held-out rows'
        : 'the frozen head did as well or better on the same held-out rows',
  };
  const other = pick === tuned ? frozen : tuned;
  return {
    ...pick,
    report: { ...pick.report, [pick === tuned ? 'frozen' : 'fine_tune']: other.report[pick === tuned ? 'search' : 'fine_tune'] ?? {}, candidates: comparison },
    timings: [...frozen.timings, ...tuned.timings],
  };
}
