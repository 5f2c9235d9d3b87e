/**
 * A confusion matrix as heatmap cells. Cells are coloured by their share of
 * the true label's examples rather than by count: a big label's diagonal
 * would otherwise wash every error out of the colour scale. Pure.
 */
import type { ConfusionMatrix } from '../api/responses.js';

export interface ConfusionCell {
  /** Column: the predicted label's index. */
  predicted: number;
  /** Row: the true label's index. */
  actual: number;
  count: number;
  /** count / examples of the true label. */
  share: number;
}

export interface ConfusionData {
  labels: string[];
  /** Every cell of a dense matrix; only the non-zero ones of a sparse one. */
  cells: ConfusionCell[];
  rowTotals: number[];
  errors: number;
}

export function confusionData(cm: ConfusionMatrix): ConfusionData {
  const n = cm.labels.length;
  const triples: Array<[number, number, number]> =
    'matrix' in cm ? cm.matrix.flatMap((row, r) => row.map((count, c): [number, number, number] => [r, c, count])) : cm.cells;
  const rowTotals = new Array<number>(n).fill(0);
  for (const [r, , count] of triples) rowTotals[r] = (rowTotals[r] ?? 0) + count;
  let errors = 0;
  const cells = triples.map(([r, c, count]) => {
    if (r !== c) errors += count;
    const total = rowTotals[r] ?? 0;
    return { predicted: c, actual: r, count, share: total > 0 ? count / total : 0 };
  });
  return { labels: cm.labels, cells, rowTotals, errors };
}

/** The off-diagonal cell with the most examples: where the head is most confused. */
export function worstConfusion(data: ConfusionData): ConfusionCell | undefined {
  let worst: ConfusionCell | undefined;
  for (const cell of data.cells) if (cell.actual !== cell.predicted && cell.count > 0 && (!worst || cell.count > worst.count)) worst = cell;
  return worst;
}
