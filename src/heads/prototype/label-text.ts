/**
 * The text that stands for a label: its description, or its name as words,
 * through a template. Zero-shot prototypes are its features, and a training
 * job takes descriptions as extra examples through it too.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SCALE } from './params.js';

/**
 * How a label's description (or, without one, its name) becomes the text
 * whose features stand for the label. Chosen by measurement in
 * bench:little-data over the shared data sets (every template tried is in
 * its table); `{}` is replaced by the description.
 */
export const ZERO_SHOT_TEMPLATE = '{}';

/** "card_arrival" → "card arrival": a name as words, for labels without a description. */
export function nameAsText(name: string): string {
  return name
    .replace(/[_\-.]+/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .trim();
}

/** The text that stands for a label. */
export function labelText(label: { name: string; description: string | null }, template = ZERO_SHOT_TEMPLATE): string {
  return template.replace('{}', label.description?.trim() || nameAsText(label.name) || label.name);
}

/** Fewest declared labels zero-shot prediction needs: one label is no choice. */
export const MIN_ZERO_SHOT_LABELS = 2;

/**
 * The declared labels a task's zero-shot version (number 0) predicts, or undefined where it has none: a
 * multi-label task (a threshold per label cannot be had without examples), or fewer than two labels.
 */
export function zeroShotLabels<L extends { name: string; description: string | null }>(task: { kind: string; labels: readonly L[] }): readonly L[] | undefined {
  return task.kind === 'single_label' && task.labels.length >= MIN_ZERO_SHOT_LABELS ? task.labels : undefined;
}

interface ZeroShotSource {
  id: string;
  spec: unknown;
  labels: ReadonlyArray<{ name: string; description: string | null }>;
}

/** A task's zero-shot version's id (without a prior): it changes when what the version is built from does. */
export function zeroShotId(task: ZeroShotSource): string {
  return `zs_${createHash('sha256')
    .update(JSON.stringify([task.id, task.spec, task.labels, ZERO_SHOT_TEMPLATE, DEFAULT_SCALE]))
    .digest('hex')
    .slice(0, 24)}`;
}

/**
 * The task's stored label prior if it was estimated for its zero-shot version as the task is now (the same
 * labels, descriptions and spec), else undefined: what serving applies, and what a job compares a new version with.
 */
export function currentPrior<P extends { version: string; labels: readonly string[] }>(task: ZeroShotSource & { labelPrior: P | null }): P | undefined {
  const p = task.labelPrior;
  return p && p.version === zeroShotId(task) && p.labels.join('\u0000') === task.labels.map((l) => l.name).join('\u0000') ? p : undefined;
}
