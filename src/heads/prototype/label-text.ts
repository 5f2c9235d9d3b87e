/**
 * The text that stands for a label: its description, or its name as words,
 * through a template. Zero-shot prototypes are its features, and a training
 * job takes descriptions as extra examples through it too.
 */

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
