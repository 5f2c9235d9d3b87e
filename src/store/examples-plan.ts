/**
 * Decides what an upload of examples does to a task, given the labels already
 * stored for its texts. Pure: the rules read apart from the statements that
 * apply them (SqlStore.addExamples, inside its transaction).
 */
import type { AddExamplesResult, ConflictPolicy, NewExample } from './types.js';

export interface ExamplesPlan {
  insert: NewExample[];
  relabel: Array<{ textHash: string; label: string }>;
  result: AddExamplesResult;
}

/** Conflicts reported back are capped: the first few are enough to fix an upload. */
const MAX_REPORTED_CONFLICTS = 20;

export function planExamples(existing: ReadonlyMap<string, string>, incoming: NewExample[], policy: ConflictPolicy): ExamplesPlan {
  const result: AddExamplesResult = { inserted: 0, duplicates: 0, skipped: 0, relabelled: 0, conflicts: [] };
  // Within the upload, a text seen twice: same label is a duplicate; another label
  // is a conflict resolved like one with the stored label (replace: last wins).
  const fresh = new Map<string, NewExample>();
  const relabel = new Map<string, string>();
  let conflictCount = 0;
  const conflict = (text: string, existingLabel: string, newLabel: string) => {
    conflictCount++;
    if (result.conflicts.length < MAX_REPORTED_CONFLICTS) result.conflicts.push({ text, existingLabel, newLabel });
  };
  for (const ex of incoming) {
    const stored = relabel.get(ex.textHash) ?? existing.get(ex.textHash);
    const pending = fresh.get(ex.textHash);
    const current = pending?.label ?? stored;
    if (current === undefined) {
      fresh.set(ex.textHash, ex);
    } else if (current === ex.label) {
      result.duplicates++;
    } else if (policy === 'error') {
      conflict(ex.text, current, ex.label);
    } else if (policy === 'skip') {
      result.skipped++;
    } else if (pending) {
      fresh.set(ex.textHash, { ...pending, label: ex.label });
      result.duplicates++; // the earlier line of this upload is superseded, not stored twice
    } else {
      relabel.set(ex.textHash, ex.label);
    }
  }
  if (policy === 'error' && conflictCount > 0) {
    return { insert: [], relabel: [], result: { ...result, duplicates: 0, conflicts: result.conflicts } };
  }
  result.inserted = fresh.size;
  result.relabelled = relabel.size;
  return { insert: [...fresh.values()], relabel: [...relabel].map(([textHash, label]) => ({ textHash, label })), result };
}
