/**
 * The two kinds of task: single_label (one label per text; a head's
 * probabilities sum to 1 over the labels) and multi_label (any number; every
 * label its own probability and threshold). Heads, the store and the API all
 * speak of it, so it lives below them.
 */
export type TaskKind = 'single_label' | 'multi_label';
