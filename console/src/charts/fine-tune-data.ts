/**
 * Fine-tuning's epochs as chart series, its run as table rows, and a job's
 * step as a line of text: for the version page (the report's history) and
 * the job page (epochs done so far). Pure.
 */
import type { FineTuneProgress, FineTuneReport } from '../api/responses.js';
import { pct, score } from '../format.js';

type Epoch = FineTuneReport['history'][number];

export interface EpochSeries {
  /** Epoch numbers, 1 … E: the x axis. */
  epochs: number[];
  /** Mean training loss per epoch; null for an epoch not finished (or not run by this attempt). */
  loss: Array<number | null>;
  /** The hold-out score after each epoch; null where there is none. */
  heldOut: Array<number | null>;
  /** What heldOut holds; null when no epoch was scored (nothing held out). */
  metric: 'accuracy' | 'macro_f1' | null;
}

const heldOutOf = (e: Epoch): number | null => (e.held_out ? ('accuracy' in e.held_out ? e.held_out.accuracy : e.held_out.macro_f1) : null);

/** One point per epoch from 1 to `total` (default: the last epoch done), in epoch order; epochs not done yet are gaps. */
export function epochSeries(done: readonly Epoch[], total?: number): EpochSeries {
  const last = Math.max(total ?? 0, ...done.map((e) => e.epoch));
  const epochs = Array.from({ length: last }, (_, i) => i + 1);
  const byEpoch = new Map(done.map((e) => [e.epoch, e]));
  const scored = done.find((e) => e.held_out);
  return {
    epochs,
    loss: epochs.map((n) => byEpoch.get(n)?.loss ?? null),
    heldOut: epochs.map((n) => {
      const e = byEpoch.get(n);
      return e ? heldOutOf(e) : null;
    }),
    metric: scored?.held_out ? ('accuracy' in scored.held_out ? 'accuracy' : 'macro_f1') : null,
  };
}

/** How a hold-out score reads: accuracy as a percentage, macro-F1 to three decimals. */
export const heldOutText = (metric: EpochSeries['metric'], value: number | null) => (value === null ? '—' : metric === 'macro_f1' ? score(value) : pct(value));

const seconds = (s: number) => (s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

const bytes = (n: number) => (n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);

/** "layer 6 (the top one)", "layers 5–6 (the top 2)": layers 0-based as the report gives them, shown as the encoder counts its hidden states (1-based). */
export function tunedLayersText({ first, last }: FineTuneReport['tuned_layers']): string {
  const n = last - first + 1;
  return first === last ? `layer ${first + 1} (the top one)` : `layers ${first + 1}–${last + 1} (the top ${n})`;
}

/** The run's facts, as [what, value] rows of a small table. */
export function fineTuneRows(report: FineTuneReport): Array<[string, string]> {
  const s = report.stats;
  return [
    ['tuned layers', tunedLayersText(report.tuned_layers)],
    ['rows trained', String(report.trained_rows)],
    ['rows held out', String(report.held_out_rows)],
    ['epochs', String(report.history.length)],
    ['steps', String(s.steps)],
    ['tokens trained', String(s.trained_tokens)],
    ['tokens / s', s.tokens_per_second.toFixed(0)],
    ['frozen layers computed in', seconds(s.frozen_seconds)],
    ['trained in', seconds(s.train_seconds)],
    ['evaluated in', seconds(s.evaluate_seconds)],
    ['frozen states', `${bytes(s.frozen_bytes)}${s.spilled ? ', spilled to disk' : ''}`],
    ...(report.resumed_after_epoch !== undefined ? [['resumed', `after epoch ${report.resumed_after_epoch}`] as [string, string]] : []),
  ];
}

/** A fine-tuning job's last step: "step 12/40 · epoch 2/3 · running loss 0.412". */
export function stepText(p: FineTuneProgress): string {
  return `step ${p.step}/${p.steps} · epoch ${Math.min(p.epoch, p.epochs)}/${p.epochs} · running loss ${p.running_loss.toFixed(3)}`;
}
