/**
 * Decides what an upload of examples does to a task, given the labels already
 * stored for its texts. Pure: the rules read apart from the statements that
 * apply them (SqlStore.addExamples, inside its transaction).
 *
 * First the upload on its own, one example per text: a text repeated with the
 * same label is a duplicate; with another label set, in a multi-label task, it
 * takes the union of its sets (each record one annotator's labels); with
 * another label, in a single-label task, the policy decides (error: refused,
 * naming both records; skip: the first stays; replace: the last wins). Then
 * each text against the task: a text stored with another label is refused,
 * kept or relabelled as the policy says.
 */
import { labelSetKey, labelsOfKey } from './label-set.js';
import type { TaskKind } from '../lib/task-kind.js';
import type { AddExamplesResult, ConflictPolicy, NewExample } from './types.js';

export interface ExamplesPlan {
  insert: NewExample[];
  relabel: Array<{ textHash: string; label: string }>;
  result: AddExamplesResult;
}

/** Conflicts reported back are capped (each kind): the first few are enough to fix an upload. */
const MAX_REPORTED_CONFLICTS = 20;

/** Where a record came from, for a message. */
const whereOf = (example: NewExample, index: number) => example.at ?? `record ${index + 1}`;

export function planExamples(existing: ReadonlyMap<string, string>, incoming: NewExample[], policy: ConflictPolicy, kind: TaskKind): ExamplesPlan {
  const result: AddExamplesResult = { inserted: 0, duplicates: 0, merged: 0, skipped: 0, relabelled: 0, conflicts: [], repeats: [] };
  let refused = 0;

  const texts = new Map<string, { example: NewExample; index: number }>();
  for (const [index, example] of incoming.entries()) {
    const seen = texts.get(example.textHash);
    if (!seen) {
      texts.set(example.textHash, { example, index });
    } else if (seen.example.label === example.label) {
      result.duplicates++;
    } else if (kind === 'multi_label') {
      seen.example = { ...seen.example, label: labelSetKey([...labelsOfKey(seen.example.label), ...labelsOfKey(example.label)]) };
      result.merged++;
    } else if (policy === 'error') {
      refused++;
      if (result.repeats.length < MAX_REPORTED_CONFLICTS) {
        const first = seen.example;
        result.repeats.push({
          text: example.text,
          firstLabel: first.label,
          firstAt: whereOf(first, seen.index),
          label: example.label,
          at: whereOf(example, index),
        });
      }
    } else if (policy === 'skip') {
      result.skipped++;
    } else {
      seen.example = { ...seen.example, label: example.label };
      result.duplicates++; // the earlier record is superseded, not stored twice
    }
  }

  const insert: NewExample[] = [];
  const relabel: Array<{ textHash: string; label: string }> = [];
  for (const { example } of texts.values()) {
    const stored = existing.get(example.textHash);
    if (stored === undefined) insert.push(example);
    else if (stored === example.label) result.duplicates++;
    else if (policy === 'error') {
      refused++;
      if (result.conflicts.length < MAX_REPORTED_CONFLICTS) result.conflicts.push({ text: example.text, existingLabel: stored, newLabel: example.label });
    } else if (policy === 'skip') result.skipped++;
    else relabel.push({ textHash: example.textHash, label: example.label });
  }

  if (refused > 0) {
    const none = { inserted: 0, duplicates: 0, merged: 0, skipped: 0, relabelled: 0 };
    return { insert: [], relabel: [], result: { ...none, conflicts: result.conflicts, repeats: result.repeats } };
  }
  result.inserted = insert.length;
  result.relabelled = relabel.length;
  return { insert, relabel, result };
}
