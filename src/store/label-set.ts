/**
 * How a multi-label example's labels are stored: in the same `label` column
 * as a single label, as one canonical string, the JSON array of its labels
 * sorted and without repeats. The same set always has the same key, so the
 * upload plan's rules (same text and label: a duplicate; another label: a
 * conflict) hold for sets unchanged, and both stores keep one schema. A task's
 * kind says how its column reads.
 */
import type { TaskKind } from '../lib/task-kind.js';

/** The stored key of a label set. */
export function labelSetKey(labels: readonly string[]): string {
  return JSON.stringify([...new Set(labels)].sort());
}

/** The labels a stored key holds. */
export function labelsOfKey(key: string): string[] {
  const parsed = JSON.parse(key) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((l) => typeof l === 'string')) throw new Error(`not a label set: ${key.slice(0, 80)}`);
  return parsed;
}

/** The labels an example of a task of `kind` carries, from its stored column. */
export function labelsOf(kind: TaskKind, stored: string): string[] {
  return kind === 'multi_label' ? labelsOfKey(stored) : [stored];
}

/** Examples per label, from examples per stored value (a set's examples count once for each of its labels), sorted by label. */
export function countsByLabel(kind: TaskKind, stored: ReadonlyMap<string, number>): Map<string, number> {
  if (kind === 'single_label') return new Map(stored);
  const counts = new Map<string, number>();
  for (const [key, n] of stored) for (const label of labelsOfKey(key)) counts.set(label, (counts.get(label) ?? 0) + n);
  return new Map([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
