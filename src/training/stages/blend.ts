/**
 * Descriptions as a prior that examples override: with few examples a
 * label, the chosen head's out-of-fold probabilities are blended with the
 * label descriptions' prototypes (what version 0 serves) at each weight of
 * BLEND_WEIGHTS, and the weight right on most held-out rows is kept (a tie
 * goes to the larger weight: the examples override the descriptions only
 * where they show it, which on a few rows they rarely can). The head's held-out
 * probabilities come from fits of it on each split's training rows, as the
 * stored version is fitted (calibrated); cheap where this runs, on few rows.
 * The blend's own score must not be the best of five tries on the same rows
 * (on four rows one of them is right on all): each fold's rows are scored at
 * the weight chosen on the other folds', and that is what the version's
 * metrics and the activation gate see.
 */
import { blendArtifact } from '../../heads/blend.js';
import { takeRows } from '../../heads/dataset.js';
import { argmaxRows, computeMetrics } from '../../heads/evaluation.js';
import { loadPredictor } from '../../heads/registry.js';
import type { Config, PipelineRun, Validation } from './run.js';
import { round } from './run.js';

/** The prior's weights tried: 0 is the head alone, 1 the descriptions alone (version 0's prediction). */
export const BLEND_WEIGHTS = [0, 0.25, 0.5, 0.75, 1];

export interface BlendOutcome {
  weight: number;
  /** The blend's out-of-fold class of every example (−1: never held out). */
  predicted: Int32Array;
  metrics: Record<string, unknown>;
  report: Record<string, unknown>;
}

/** The blend to store, or undefined where none applies (no prior, nothing held out, a sweep chose other features) or the head alone is best. */
export async function blendWithPrior(run: PipelineRun, chosen: number, best: Config, validation: Validation | null): Promise<BlendOutcome | undefined> {
  const { prior, n, y, labels, targets } = run.input;
  if (!prior || targets || !validation || chosen !== 0 || !run.splits.length) return undefined;
  run.checkCancel();
  return run.timed('blend', async () => {
    const data = run.datasets[chosen]!;
    const k = labels.length;
    const head = new Float32Array(n * k);
    await Promise.all(
      run.splits.map(async (split) => {
        const artifact = await run.jobOf(best.type).fit(takeRows(data, split.train), best.params);
        const held = takeRows(data, split.test);
        const p = loadPredictor(artifact, { threads: 1 }).predictProba(held.x, held.n);
        for (const [i, row] of split.test.entries()) head.set(p.subarray(i * k, (i + 1) * k), row * k);
      }),
    );
    const rows = Int32Array.from(new Set(run.splits.flatMap((s) => [...s.test]))).sort();
    const all = takeRows(data, rows);
    const priorP = loadPredictor(prior, { threads: 1 }).predictProba(all.x, all.n);
    const tried = BLEND_WEIGHTS.map((weight) => {
      const mixed = new Float32Array(rows.length * k);
      for (const [i, row] of rows.entries()) for (let c = 0; c < k; c++) mixed[i * k + c] = (1 - weight) * head[row * k + c]! + weight * priorP[i * k + c]!;
      const classes = argmaxRows(mixed, rows.length, k);
      const right = Uint8Array.from(rows, (row, i) => (classes[i] === y[row] ? 1 : 0));
      return { weight, accuracy: right.reduce((a, r) => a + r, 0) / rows.length, classes, right };
    });
    const top = bestOf(tried, () => true);
    if (top.weight === 0) return undefined;
    // Each fold at the weight its complement chooses (one split: nothing else to choose on, the weight itself).
    const at = new Map(Array.from(rows, (row, i) => [row, i] as const));
    const predicted = new Int32Array(n).fill(-1);
    const foldWeights = run.splits.map((split) => {
      const held = new Set(split.test);
      const chosen = run.splits.length > 1 ? bestOf(tried, (i) => !held.has(rows[i]!)) : top;
      for (const row of split.test) predicted[row] = chosen.classes[at.get(row)!]!;
      return chosen.weight;
    });
    const metrics = { ...run.measureHeldOut(predicted, computeMetrics), ...run.evaluation };
    return {
      weight: top.weight,
      predicted,
      metrics,
      report: {
        rule: "the head's out-of-fold probabilities blended with the label descriptions' (version 0's) as (1 − w)·head + w·descriptions; the w right on most held-out examples is kept, a tie to the larger w; the version's score takes each fold at the w chosen on the other folds",
        weights: tried.map((t) => ({ weight: t.weight, accuracy: round(t.accuracy) })),
        weight: top.weight,
        fold_weights: foldWeights,
        head_alone: { accuracy: round(validation.accuracy), macro_f1: round(validation.macroF1) },
      },
    };
  });
}

/** The version's artifact with its blend. */
export const blended = (artifact: unknown, prior: unknown, weight: number) => blendArtifact(artifact, prior, weight);

/** The try right on most of the rows `counted` keeps (by index into the rows), a tie to the larger weight (later in `tried`). */
function bestOf<T extends { right: Uint8Array }>(tried: T[], counted: (i: number) => boolean): T {
  const score = (t: T) => t.right.reduce((a, r, i) => a + (counted(i) ? r : 0), 0);
  return tried.reduce((a, b) => (score(b) >= score(a) ? b : a));
}
