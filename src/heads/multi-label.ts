/**
 * Multi-label tasks, the numeric side: a row carries any number of labels
 * (a multi-hot row of `targets`), a head gives every label its own
 * probability, and a label is predicted when its probability reaches the
 * label's threshold. Thresholds are chosen per label to maximise that label's
 * F1 on out-of-fold probabilities; the scores a version reports are
 * cross-fitted (each fold's rows thresholded by values chosen on the other
 * folds), so choosing thresholds does not flatter them.
 *
 * Metrics follow scikit-learn: micro-F1 pools every (row, label) decision,
 * macro-F1 averages the labels' F1, subset accuracy counts rows whose whole
 * set is right, Hamming loss is the share of wrong (row, label) decisions.
 */

export interface MultiLabelLabelMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
  threshold: number;
}

export interface MultiLabelScores {
  micro_f1: number;
  macro_f1: number;
  subset_accuracy: number;
  hamming_loss: number;
  per_label: MultiLabelLabelMetrics[];
  n: number;
}

/** The threshold at which a label's probability is not trusted either way: the usual one, and the start of the search. */
export const DEFAULT_THRESHOLD = 0.5;

/** Row `row` of a multi-hot n × k matrix has label c. */
const has = (targets: Uint8Array, k: number, row: number, c: number) => targets[row * k + c] === 1;

/**
 * Per label, the threshold maximising F1 over `rows` (probabilities `proba`
 * indexed like `targets`, n × k). Candidates are the midpoints between
 * consecutive distinct probabilities, so the choice does not depend on how
 * finely a grid was drawn; ties go to the threshold closest to 0.5. A label
 * without a positive row keeps 0.5.
 */
export function chooseThresholds(proba: Float32Array, targets: Uint8Array, k: number, rows: ArrayLike<number>): Float32Array {
  const thresholds = new Float32Array(k).fill(DEFAULT_THRESHOLD);
  const m = rows.length;
  const order = new Int32Array(m);
  for (let c = 0; c < k; c++) {
    let positives = 0;
    for (let i = 0; i < m; i++) if (has(targets, k, rows[i]!, c)) positives++;
    if (positives === 0) continue;
    for (let i = 0; i < m; i++) order[i] = i;
    const p = (i: number) => proba[rows[i]! * k + c]!;
    order.sort((a, b) => p(b) - p(a));
    // Walking down the sorted probabilities, predicting the first j rows positive.
    let tp = 0;
    let bestF1 = 0;
    let best = DEFAULT_THRESHOLD;
    for (let j = 1; j <= m; j++) {
      if (has(targets, k, rows[order[j - 1]!]!, c)) tp++;
      const here = p(order[j - 1]!);
      const below = j < m ? p(order[j]!) : 0;
      if (j < m && below === here) continue; // a threshold cannot split equal probabilities
      const f1 = (2 * tp) / (j + positives);
      const threshold = (here + below) / 2;
      if (f1 > bestF1 + 1e-12 || (Math.abs(f1 - bestF1) <= 1e-12 && Math.abs(threshold - DEFAULT_THRESHOLD) < Math.abs(best - DEFAULT_THRESHOLD))) {
        bestF1 = f1;
        best = threshold;
      }
    }
    thresholds[c] = best;
  }
  return thresholds;
}

/** The label sets that thresholds give: multi-hot, like targets. */
export function applyThresholds(proba: Float32Array, n: number, thresholds: Float32Array): Uint8Array {
  const k = thresholds.length;
  const out = new Uint8Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = proba[i * k + c]! >= thresholds[c]! ? 1 : 0;
  return out;
}

/** Scores of predicted label sets against the true ones over `rows` (both multi-hot n × k). */
export function multiLabelScores(
  truth: Uint8Array,
  predicted: Uint8Array,
  labels: readonly string[],
  rows: ArrayLike<number>,
  thresholds: Float32Array,
): MultiLabelScores {
  const k = labels.length;
  const tp = new Float64Array(k);
  const predictedAs = new Float64Array(k);
  const support = new Float64Array(k);
  let exact = 0;
  let wrong = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    let same = true;
    for (let c = 0; c < k; c++) {
      const t = truth[r * k + c] === 1;
      const p = predicted[r * k + c] === 1;
      if (t) support[c]!++;
      if (p) predictedAs[c]!++;
      if (t && p) tp[c]!++;
      if (t !== p) {
        same = false;
        wrong++;
      }
    }
    if (same) exact++;
  }
  let tpAll = 0;
  let predictedAll = 0;
  let supportAll = 0;
  let f1Sum = 0;
  const perLabel = labels.map((label, c) => {
    tpAll += tp[c]!;
    predictedAll += predictedAs[c]!;
    supportAll += support[c]!;
    const precision = predictedAs[c]! ? tp[c]! / predictedAs[c]! : 0;
    const recall = support[c]! ? tp[c]! / support[c]! : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    f1Sum += f1;
    return { label, precision, recall, f1, support: support[c]!, threshold: thresholds[c]! };
  });
  const n = rows.length;
  return {
    micro_f1: predictedAll + supportAll ? (2 * tpAll) / (predictedAll + supportAll) : 0,
    macro_f1: k ? f1Sum / k : 0,
    subset_accuracy: n ? exact / n : 0,
    hamming_loss: n && k ? wrong / (n * k) : 0,
    per_label: perLabel,
    n,
  };
}

/**
 * Stratification for multi-label rows: each row is dealt by its rarest
 * label (rows with no label by a class of their own, index k), so folds see
 * every label however rare.
 */
export function rarestLabel(targets: Uint8Array, n: number, k: number): Int32Array {
  const counts = new Float64Array(k);
  for (let i = 0; i < n * k; i++) if (targets[i] === 1) counts[i % k]!++;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = k;
    for (let c = 0; c < k; c++) if (targets[i * k + c] === 1 && (best === k || counts[c]! < counts[best]!)) best = c;
    out[i] = best;
  }
  return out;
}
