/**
 * Zero-shot prediction: a task that has declared its labels (names, and
 * better, one-line descriptions) but has no trained version yet predicts by
 * the similarity of a text's features to each label's text, put through a
 * template (a prototype head, heads/prototype/). The version it serves is
 * number 0, built from the task's declared labels and feature spec: it
 * changes when they do, and goes as soon as a trained version is active.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SCALE } from '../heads/prototype/params.js';
import type { TaskRecord, VersionRecord } from '../store/types.js';
import { labelText, ZERO_SHOT_TEMPLATE } from '../heads/prototype/label-text.js';

/** Fewest declared labels zero-shot prediction needs: one label is no choice. */
export const MIN_ZERO_SHOT_LABELS = 2;

/** The zero-shot version of a task that has declared enough labels, or undefined. */
export function zeroShotVersion(task: TaskRecord): VersionRecord | undefined {
  // One label per text: the prototype head's softmax picks one (a multi-label task would need a threshold per label to learn).
  if (task.kind !== 'single_label' || task.labels.length < MIN_ZERO_SHOT_LABELS) return undefined;
  const texts = task.labels.map((l) => labelText(l));
  const id = createHash('sha256')
    .update(JSON.stringify([task.id, task.spec, task.labels, ZERO_SHOT_TEMPLATE, DEFAULT_SCALE]))
    .digest('hex')
    .slice(0, 24);
  return {
    id: `zs_${id}`,
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

/** A zero-shot version's label texts, in label order. */
export const zeroShotTexts = (version: VersionRecord): string[] => (version.params as { label_texts: string[] }).label_texts;
