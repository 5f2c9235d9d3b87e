/**
 * Zero-shot prediction: a task that has declared its labels (names, and
 * better, one-line descriptions) but has no trained version yet predicts by
 * the similarity of a text's features to each label's text, put through a
 * template (a prototype head, heads/prototype/). The version it serves is
 * number 0, built from the task's declared labels and feature spec: it
 * changes when they do, and goes as soon as a trained version is active.
 *
 * With a label prior estimated on the task's pool (./prior-estimates.ts) for
 * these very labels, version 0 applies it: its head adds the prior's log to
 * each label's score, p'(y|x) ∝ p(y|x)·π̂(y)/π(y) with π uniform.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SCALE } from '../heads/prototype/params.js';
import type { TaskRecord, VersionRecord } from '../store/types.js';
import { currentPrior, labelText, ZERO_SHOT_TEMPLATE, zeroShotId, zeroShotLabels } from '../heads/prototype/label-text.js';

/** What version 0 says of the prior it applies (its params' `prior`). */
export interface AppliedPrior {
  labels: Record<string, number>;
  pool_texts: number;
}

const hash = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 24);

/** The zero-shot version of a task without any prior: what a prior is estimated from. */
export function baseZeroShotVersion(task: TaskRecord): VersionRecord | undefined {
  const declared = zeroShotLabels(task);
  if (!declared) return undefined;
  const texts = declared.map((l) => labelText(l));
  return {
    id: zeroShotId(task),
    clientId: task.clientId,
    taskId: task.id,
    number: 0,
    jobId: null,
    createdAt: task.updatedAt,
    artifactBytes: 0,
    tuned: null,
    headType: 'prototype',
    params: { zero_shot: true, template: ZERO_SHOT_TEMPLATE, scale: DEFAULT_SCALE, label_texts: texts },
    spec: task.spec,
    labels: task.labels.map((l) => l.name),
    metrics: { kind: 'zero_shot' },
    report: {},
    exampleCount: 0,
    trainingMs: 0,
  };
}

/** The zero-shot version of a task that has declared enough labels (with its stored prior, if one applies), or undefined. */
export function zeroShotVersion(task: TaskRecord): VersionRecord | undefined {
  const base = baseZeroShotVersion(task);
  const prior = currentPrior(task);
  if (!base || !prior) return base;
  const applied: AppliedPrior = { labels: Object.fromEntries(prior.labels.map((l, i) => [l, prior.prior[i]!])), pool_texts: prior.poolTexts };
  // Its own id: the predict workers hold heads by version id, and this head is not the base's.
  return { ...base, id: `${base.id}_${hash(prior.prior)}`, params: { ...(base.params as object), prior: applied } };
}

/** A zero-shot version's label texts, in label order. */
export const zeroShotTexts = (version: VersionRecord): string[] => (version.params as { label_texts: string[] }).label_texts;

/** The prior a zero-shot version applies, or undefined (none, or not a zero-shot version). */
export function appliedPrior(version: VersionRecord): AppliedPrior | undefined {
  return version.number === 0 ? (version.params as { prior?: AppliedPrior }).prior : undefined;
}

/** The prior a zero-shot version applies, as responses report it (shares to six places), or undefined. */
export function priorJson(version: VersionRecord): AppliedPrior | undefined {
  const prior = appliedPrior(version);
  if (!prior) return undefined;
  return { labels: Object.fromEntries(Object.entries(prior.labels).map(([l, p]) => [l, Math.round(p * 1e6) / 1e6])), pool_texts: prior.pool_texts };
}
