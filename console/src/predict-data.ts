/** Shapes predictions for the try-it box. Pure. */
import type { MultiPredictions, Prediction } from './api/responses.js';

/** Every label's probability, most probable first. */
export function rankedProbabilities(probabilities: Record<string, number>): Array<{ label: string; probability: number }> {
  return Object.entries(probabilities)
    .map(([label, probability]) => ({ label, probability }))
    .sort((a, b) => b.probability - a.probability || (a.label < b.label ? -1 : 1));
}

export interface AgreementRow {
  task: string;
  version: number;
  label: string;
  score: number;
  /** Whether this head's label is the reference's (the task's active version). */
  agrees: boolean;
}

/** One row per head asked, in request order, each compared with the reference label. */
export function agreementRows(multi: MultiPredictions, reference: string): AgreementRow[] {
  return multi.data.map((d) => {
    const p = d.predictions[0];
    const label = predictedName(p);
    return { task: d.task, version: d.version, label, score: p && 'score' in p ? p.score : 0, agrees: label === reference };
  });
}

/** What a prediction names: its label, or a multi-label prediction's set ("none" when empty). */
export function predictedName(p: Prediction | undefined): string {
  if (!p) return '';
  if ('labels' in p) return p.labels.length ? p.labels.join(', ') : 'none';
  return p.label;
}
