/**
 * A small TREC set for the browser suite, drawn at run time from the shared
 * data set (../shared/datasets, which the project reads and never copies):
 * `perLabel` questions of each coarse label, seeded, in a seeded order so the
 * upload is not grouped by label. Written to a temporary JSON Lines file,
 * since the browser uploads a file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadJsonl, shuffled } from '../../bench/lib/datasets.js';
import { onFileEnd } from './file-end.js';

export function trecSubset(perLabel: number, seed = 10): { path: string; rows: Array<{ text: string; label: string }> } {
  const byLabel = new Map<string, Array<{ text: string; label: string }>>();
  for (const e of loadJsonl('trec.train.jsonl')) byLabel.set(e.label, [...(byLabel.get(e.label) ?? []), { text: e.text, label: e.label }]);
  const picked = [...byLabel.keys()].sort().flatMap((label, i) => shuffled(byLabel.get(label)!, seed + i).slice(0, perLabel));
  const rows = shuffled(picked, seed);
  const dir = mkdtempSync(join(tmpdir(), 'transferd-trec-'));
  onFileEnd(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, `trec-${perLabel}-per-label.jsonl`);
  writeFileSync(path, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return { path, rows };
}
