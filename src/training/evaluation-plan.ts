/**
 * How a job evaluates on the examples it has. Every example may be held out
 * only if something else can be trained on meanwhile, so a request's
 * evaluation becomes what the examples allow: cross-validation with no more
 * folds than examples nor than the median label has (at least two), where a
 * held-out row whose label has nothing left to train on counts as wrong
 * (honest, not flattering), a hold-out of what can be held out, or none.
 * A score is never invented.
 */
import { foldSplit, type Split, stratifiedFolds, stratifiedHoldout } from '../heads/evaluation.js';
import type { TrainingRequest } from './request.js';

export interface EvaluationPlan {
  /** The splits of the examples, training sides without any extra rows; empty when nothing is evaluated. */
  splits: Split[];
  /** What the version's metrics say about how they were measured. */
  describe: { method: 'cv'; folds: number; requested_folds?: number } | { method: 'holdout'; holdout_fraction: number } | { method: 'none'; reason: string };
}

/** The splits `evaluation` asks for, cut to what the examples' class indexes `y` allow. */
export function planEvaluation(y: Int32Array, classes: number, evaluation: TrainingRequest['evaluation'], seed: number): EvaluationPlan {
  const n = y.length;
  if (evaluation.method === 'none') return { splits: [], describe: { method: 'none', reason: 'the request asked for no evaluation' } };
  if (evaluation.method === 'cv') {
    // With fewer examples a label than folds, a fold would hold out some labels' examples and not others', and
    // score each held-out row by a head that saw fewer of its label than of the rest: as many folds as a label has
    // examples (the median) holds out one of each in each fold.
    const folds = foldCount(evaluation.folds, n, medianCount(y, classes));
    if (folds < 2) return { splits: [], describe: { method: 'none', reason: `${n} example: nothing can be held out while something is trained on` } };
    const fold = stratifiedFolds(y, classes, folds, seed);
    const splits = Array.from({ length: folds }, (_, f) => foldSplit(fold, f));
    return { splits, describe: { method: 'cv', folds, ...(folds < evaluation.folds ? { requested_folds: evaluation.folds } : {}) } };
  }
  const split = stratifiedHoldout(y, classes, evaluation.fraction, seed);
  if (split.test.length === 0) return { splits: [], describe: { method: 'none', reason: 'no label has two examples: a hold-out would hold out nothing' } };
  return { splits: [split], describe: { method: 'holdout', holdout_fraction: evaluation.fraction } };
}

/** The folds cross-validation uses for `n` examples whose median label has `median`: at most one a row and one a median label's example, at least two. */
export function foldCount(requested: number, n: number, median: number): number {
  return Math.min(requested, n, Math.max(2, median));
}

/** The median number of rows a class has, over the classes that have any. */
export function medianCount(y: Int32Array, classes: number): number {
  const counts = new Array<number>(classes).fill(0);
  for (const c of y) counts[c]!++;
  const present = counts.filter((c) => c > 0).sort((a, b) => a - b);
  return present.length ? present[Math.floor(present.length / 2)]! : 0;
}
