/**
 * Records as the API returns them, shared by several routes: each function
 * returns the type of its response schema (./schemas/), so what is sent and
 * what is documented cannot disagree.
 */
import type { z } from 'zod';
import { specToJson } from '../encoder/feature-spec.js';
import { argmaxRows } from '../heads/evaluation.js';
import type { FineTuneProgress, JobRecord, TaskRecord, VersionRecord } from '../store/types.js';
import type { TrainingRequest } from '../training/request.js';
import { iso } from './schemas/common.js';
import type { jobOut } from './schemas/job.js';
import type { prediction } from './schemas/prediction.js';
import type { taskOut } from './schemas/task.js';

export function taskJson(t: TaskRecord, labelCounts?: Map<string, number>): z.infer<typeof taskOut> {
  return {
    id: t.id,
    object: 'task',
    name: t.name,
    description: t.description,
    feature_spec: specToJson(t.spec),
    kind: t.kind,
    labels: t.labels,
    example_count: t.exampleCount,
    pool_count: t.poolCount,
    active_version: t.activeVersion,
    retrain_after: t.retrainAfter,
    new_examples: t.newExamples,
    created_at: iso(t.createdAt)!,
    updated_at: iso(t.updatedAt)!,
    ...(labelCounts ? { label_counts: Object.fromEntries(labelCounts) } : {}),
  };
}

/** The stored request in the API's snake_case form. */
function requestJson(r: TrainingRequest): z.infer<typeof jobOut>['request'] {
  return {
    ...(r.tasks ? { tasks: r.tasks } : {}),
    head: r.head,
    evaluation: r.evaluation,
    layer_sweep: r.layerSweep ? { ...(r.layerSweep.layers ? { layers: r.layerSweep.layers } : {}), top_concat: r.layerSweep.topConcat } : false,
    search_strategy: r.searchStrategy ?? 'grid',
    learning_curve: r.learningCurve ? { fractions: r.learningCurve } : false,
    label_descriptions: r.labelDescriptions ?? 'auto',
    activate: r.activate,
    seed: r.seed,
  };
}

export function jobJson(j: JobRecord): z.infer<typeof jobOut> {
  return {
    id: j.id,
    object: 'training_job',
    task: j.taskId,
    state: j.state,
    progress: {
      phase: j.progress.phase,
      percent: j.progress.percent,
      ...(j.progress.fineTune ? { fine_tune: fineTuneProgressJson(j.progress.fineTune) } : {}),
    },
    timings: j.progress.timings,
    request: requestJson(j.request as TrainingRequest),
    attempts: j.attempts,
    runner: j.state === 'running' ? j.leaseOwner : null,
    cancel_requested: j.cancelRequested,
    error: j.error,
    version: j.versionNumber,
    trigger: j.trigger,
    created_at: iso(j.createdAt)!,
    started_at: iso(j.startedAt),
    finished_at: iso(j.finishedAt),
  };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** A multi-label version's thresholds, from its metrics (the pipeline stores the artifact's thresholds there too). */
export function thresholdsOf(version: VersionRecord): number[] | undefined {
  const metrics = version.metrics as { kind?: string; per_label?: Array<{ threshold: number }> };
  return metrics.kind === 'multi_label' ? metrics.per_label?.map((l) => l.threshold) : undefined;
}

export function predictionsJson(probabilities: Float32Array, version: VersionRecord, n: number, topK?: number): Array<z.infer<typeof prediction>> {
  const { labels } = version;
  const k = labels.length;
  const thresholds = thresholdsOf(version);
  const best = argmaxRows(probabilities, n, k);
  const order = Array.from({ length: k }, (_, c) => c);
  return Array.from({ length: n }, (_, i) => {
    const row = probabilities.subarray(i * k, (i + 1) * k);
    const byProbability = [...order].sort((a, b) => row[b]! - row[a]!);
    const shown = topK === undefined || topK >= k ? order : byProbability.slice(0, topK);
    // Labels are the client's strings: on a plain object, "__proto__" would set the prototype and vanish from the JSON.
    const probs: Record<string, number> = Object.create(null);
    for (const c of shown) probs[labels[c]!] = round(row[c]!);
    if (thresholds) return { index: i, labels: byProbability.filter((c) => row[c]! >= thresholds[c]!).map((c) => labels[c]!), probabilities: probs };
    return { index: i, label: labels[best[i]!]!, score: round(row[best[i]!]!), probabilities: probs };
  });
}

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** A fine-tuning job's steps and epochs, as the API spells them. */
function fineTuneProgressJson(p: FineTuneProgress) {
  return {
    step: p.step,
    steps: p.steps,
    epoch: p.epoch,
    epochs: p.epochs,
    loss: r6(p.loss),
    running_loss: r6(p.runningLoss),
    epochs_done: p.epochsDone.map((e) => ({
      epoch: e.epoch,
      loss: r6(e.loss),
      seconds: r6(e.seconds),
      ...(e.heldOut ? { held_out: 'accuracy' in e.heldOut ? { accuracy: r6(e.heldOut.accuracy) } : { macro_f1: r6(e.heldOut.macroF1) } } : {}),
    })),
  };
}
