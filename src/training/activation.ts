/**
 * Whether a new version takes over from the task's active one. By default it
 * does only when its estimate beats the active version's on the same rows:
 * the task's labelled examples, each scored by the new version's out-of-fold
 * prediction and by an honest prediction of the active one — version 0 never
 * saw any example; a trained version is scored by its own out-of-fold
 * prediction where it trained on the row, and by its prediction where the row
 * came after it. Rows the active version trained on without holding them out
 * are left out: its score there would flatter it. A tie keeps the active one.
 */

import { argmaxRows } from '../heads/evaluation.js';
import { loadPredictor } from '../heads/registry.js';

/** What the job knows of the active version when it starts, for its training process to score. */
export interface IncumbentInput {
  /** 0: the zero-shot version; n ≥ 1: a trained version. */
  number: number;
  labels: string[];
  /** What to score: the active version's head, on the features of the rows in `rows` under its spec. */
  artifact: unknown;
  rows: Int32Array;
  /** Those features: a candidate's matrix (all of the job's rows), or rows.length × dim of their own. */
  features: { candidate: number } | { x: Float32Array; dim: number };
  /** Per example (job row order): the active version's class index where its stored out-of-fold prediction says, −1 where `rows` computes it, −2 where it has none honest. */
  known: Int32Array;
}

/** The active version's class index per example (−1: none honest): its stored predictions, and its head run on the rest. */
export function scoreIncumbent(incumbent: IncumbentInput, candidates: ReadonlyArray<{ x: Float32Array; dim: number }>): Int32Array {
  const out = Int32Array.from(incumbent.known, (k) => (k >= 0 ? k : -1));
  if (!incumbent.rows.length) return out;
  const { rows, features } = incumbent;
  let x: Float32Array;
  if ('candidate' in features) {
    const c = candidates[features.candidate]!;
    x = new Float32Array(rows.length * c.dim);
    for (const [i, r] of rows.entries()) x.set(c.x.subarray(r * c.dim, (r + 1) * c.dim), i * c.dim);
  } else x = features.x;
  const predictor = loadPredictor(incumbent.artifact, { threads: 1 });
  const classes = argmaxRows(predictor.predictProba(x, rows.length), rows.length, predictor.classes);
  for (const [i, r] of rows.entries()) out[r] = classes[i]!;
  return out;
}

export interface ActivationReport {
  rule: string;
  decision: 'activated' | 'kept';
  reason: string;
  compared?: { rows: number; metric: 'accuracy'; new: number; active: { version: number; score: number } };
}

export type Activate = boolean | 'if_better';

export const ACTIVATION_RULE =
  "activate: if_better (the default) makes a new version active only when its out-of-fold accuracy on the task's examples beats the active version's honest accuracy on the same rows; true always; false never";

/**
 * The decision. `newPredicted`: the new version's out-of-fold class per example (−1: never held out), indexes
 * into `labels`, or undefined when it was not evaluated; `truth`: each example's class; `incumbent`: the active
 * version's prediction per example as a label (null where it has none honest); or `unscored` when there is an
 * active version with no honest predictions to compare (a multi-label one, one stored before its evaluation was),
 * and undefined when there is none.
 */
export function decideActivation(
  activate: Activate,
  labels: readonly string[],
  truth: Int32Array,
  newPredicted: Int32Array | undefined,
  incumbent: { number: number; predicted: Array<string | null> } | 'unscored' | undefined,
): { activate: boolean; report: ActivationReport } {
  if (activate !== 'if_better')
    return { activate, report: { rule: ACTIVATION_RULE, decision: activate ? 'activated' : 'kept', reason: `the request said activate: ${activate}` } };
  if (!incumbent) return { activate: true, report: { rule: ACTIVATION_RULE, decision: 'activated', reason: 'the task had no active version' } };
  if (incumbent === 'unscored')
    return {
      activate: true,
      report: {
        rule: ACTIVATION_RULE,
        decision: 'activated',
        reason: 'the active version keeps no out-of-fold predictions to compare with (multi-label, or stored before evaluations were): the new one takes over',
      },
    };
  if (!newPredicted)
    return { activate: false, report: { rule: ACTIVATION_RULE, decision: 'kept', reason: 'the new version has no evaluation to compare with the active one' } };
  let rows = 0;
  let mine = 0;
  let theirs = 0;
  for (let i = 0; i < truth.length; i++) {
    const active = incumbent.predicted[i];
    if (newPredicted[i]! < 0 || active === null || active === undefined) continue;
    rows++;
    if (newPredicted[i] === truth[i]) mine++;
    if (active === labels[truth[i]!]) theirs++;
  }
  if (rows === 0)
    return { activate: false, report: { rule: ACTIVATION_RULE, decision: 'kept', reason: 'no example has an honest prediction of both versions to compare' } };
  const compared = { rows, metric: 'accuracy' as const, new: mine / rows, active: { version: incumbent.number, score: theirs / rows } };
  const better = mine > theirs;
  return {
    activate: better,
    report: {
      rule: ACTIVATION_RULE,
      decision: better ? 'activated' : 'kept',
      reason: better
        ? `it beat version ${incumbent.number} on the same ${rows} examples`
        : `version ${incumbent.number} did as well or better on the same ${rows} examples`,
      compared,
    },
  };
}
