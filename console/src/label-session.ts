/**
 * What the labelling page decides without the browser: which labels its
 * buttons offer and in what order, the texts of the pool box, the queue of suggested texts as fresh
 * suggestions arrive, and a retrained version's score beside the one it was
 * compared with. Pure: unit-tested under Node.
 */
import type { Suggestion, Task, Version, VersionSummary } from './api/responses.js';
import { accuracyOf } from './format.js';

/**
 * The labels a text can be given, in an order that stays put while a person labels (their keys with it): the
 * declared ones as declared, then those of the examples, then those only the head knows, each group by name.
 */
export function buttonLabels(task: Pick<Task, 'labels' | 'label_counts'>, headLabels: Iterable<string>): string[] {
  const out = task.labels.map((l) => l.name);
  const seen = new Set(out);
  const add = (labels: Iterable<string>) => {
    for (const l of [...labels].sort()) {
      if (seen.has(l)) continue;
      seen.add(l);
      out.push(l);
    }
  };
  add(Object.keys(task.label_counts ?? {}));
  add(headLabels);
  return out;
}

/** An order kept while labels come and go: the labels it had stay where they were (their keys with them), new ones go last. */
export function extendOrder(order: readonly string[], labels: readonly string[]): string[] {
  const known = new Set(order);
  const added = labels.filter((l) => !known.has(l));
  return added.length ? [...order, ...added] : (order as string[]);
}

/**
 * The queue once fresh suggestions arrive. The text shown stays first (a key pressed for it must not label
 * another); after it, the fresh ones in their order, less the texts already labelled or skipped this session and
 * those the session holds for an undo.
 */
export function refilled(shown: Suggestion | undefined, fresh: readonly Suggestion[], passed: ReadonlySet<number>): Suggestion[] {
  const rest = fresh.filter((s) => s.pool_id !== undefined && !passed.has(s.pool_id) && s.pool_id !== shown?.pool_id);
  return shown ? [shown, ...rest] : rest;
}

/** The texts of the pool box: one a line, trimmed, blank lines left out. */
export const poolLines = (s: string) =>
  s
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** How many suggestions to ask for: a batch beyond those the session will leave out, never more than the pool holds. */
export function suggestionCount(batch: number, leftOut: number, pool: number): number {
  return Math.max(0, Math.min(batch + leftOut, pool));
}

export interface ScoreComparison {
  version: number;
  /** Its accuracy (multi-label: subset accuracy); null without an evaluation. */
  score: number | null;
  /** The version it is compared with and that one's score on the same footing; null when there is none. */
  previous: { version: number; score: number } | null;
  /** Examples both were scored on, when the job compared them itself (activate: if_better). */
  rows: number | null;
  decision: 'activated' | 'kept' | null;
  /** Why it was activated or kept, or why it has no score. */
  reason: string | null;
}

/**
 * A new version's score beside the last one's. The job's own comparison when it made one (both versions on the
 * same examples, version 0 included); otherwise its evaluation beside the latest earlier version that has a score.
 */
export function retrainComparison(version: Version, versions: readonly VersionSummary[]): ScoreComparison {
  const activation = version.report.activation;
  const decision = activation?.decision ?? null;
  const compared = activation?.compared;
  if (compared) return { version: version.version, score: compared.new, previous: compared.active, rows: compared.rows, decision, reason: activation.reason };
  const m = version.metrics;
  if (m.method === 'none') return { version: version.version, score: null, previous: null, rows: null, decision, reason: m.reason };
  const earlier = versions
    .filter((v) => v.version < version.version && v.metrics.method !== 'none')
    .sort((a, b) => b.version - a.version)
    .map((v) => ({ version: v.version, score: accuracyOf(v.metrics as { accuracy?: number; subset_accuracy?: number }) }));
  return {
    version: version.version,
    score: accuracyOf(m as { accuracy?: number; subset_accuracy?: number }),
    previous: earlier[0] ?? null,
    rows: null,
    decision,
    reason: activation?.reason ?? null,
  };
}
