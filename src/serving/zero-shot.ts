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
import { labelText, ZERO_SHOT_TEMPLATE, zeroShotLabels } from '../heads/prototype/label-text.js';

/** The zero-shot version of a task that has declared enough labels, or undefined. */
export function zeroShotVersion(task: TaskRecord): VersionRecord | undefined {
  const declared = zeroShotLabels(task);
  if (!declared) return undefined;
  const texts = declared.map((l) => labelText(l));
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
