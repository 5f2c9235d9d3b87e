/**
 * Honest evaluation: stratified k-fold and held-out splits, and the metrics a
 * version carries (accuracy, macro-F1, per-label precision/recall/F1/support,
 * confusion matrix). Macro averages follow scikit-learn: over the labels that
 * occur in the truth or the predictions.
 *
 * Scoring needs only each label's true positives, predictions and support:
 * O(n + k) however many labels there are, which is what every fold and
 * configuration of a search uses (scoreOf). The confusion matrix is built
 * once, for the metrics a version or an evaluation reports (computeMetrics):
 * dense up to DENSE_CONFUSION_LABELS labels, beyond that as its non-zero cells
 * (10,000 labels would make 10⁸ cells, almost all of them zero).
 */
export interface LabelMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Above this many labels the confusion matrix is reported sparse. */
export const DENSE_CONFUSION_LABELS = 200;

/**
 * Rows: true label, columns: predicted label, both in `labels` order. Dense:
 * every cell. Sparse: `cells` lists the non-zero ones as [row, column, count],
 * by row then column.
 */
export type ConfusionMatrix = { labels: string[]; matrix: number[][] } | { labels: string[]; format: 'sparse'; cells: Array<[number, number, number]> };

export interface Scores {
  accuracy: number;
  macro_f1: number;
  per_label: LabelMetrics[];
  n: number;
}

export interface Metrics extends Scores {
  confusion_matrix: ConfusionMatrix;
}

/** Accuracy, macro-F1 and per-label scores from per-label counts alone: no confusion matrix. */
export function scoreOf(truth: Int32Array, predicted: Int32Array, labels: string[]): Scores {
  const k = labels.length;
  const tp = new Float64Array(k);
  const support = new Float64Array(k);
  const predictedAs = new Float64Array(k);
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    support[t]!++;
    predictedAs[p]!++;
    if (t === p) {
      tp[t]!++;
      correct++;
    }
  }
  const perLabel: LabelMetrics[] = [];
  let f1Sum = 0;
  let counted = 0;
  for (let c = 0; c < k; c++) {
    const precision = predictedAs[c]! ? tp[c]! / predictedAs[c]! : 0;
    const recall = support[c]! ? tp[c]! / support[c]! : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perLabel.push({ label: labels[c]!, precision, recall, f1, support: support[c]! });
    if (support[c]! > 0 || predictedAs[c]! > 0) {
      f1Sum += f1;
      counted++;
    }
  }
  return { accuracy: truth.length ? correct / truth.length : 0, macro_f1: counted ? f1Sum / counted : 0, per_label: perLabel, n: truth.length };
}

/** The confusion matrix of a prediction: dense for up to DENSE_CONFUSION_LABELS labels, sparse beyond. */
export function confusionMatrix(truth: Int32Array, predicted: Int32Array, labels: string[]): ConfusionMatrix {
  const k = labels.length;
  if (k <= DENSE_CONFUSION_LABELS) {
    const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (let i = 0; i < truth.length; i++) matrix[truth[i]!]![predicted[i]!]!++;
    return { labels, matrix };
  }
  const counts = new Map<number, number>();
  for (let i = 0; i < truth.length; i++) {
    const cell = truth[i]! * k + predicted[i]!;
    counts.set(cell, (counts.get(cell) ?? 0) + 1);
  }
  const cells = [...counts].sort((a, b) => a[0] - b[0]).map(([cell, count]): [number, number, number] => [Math.floor(cell / k), cell % k, count]);
  return { labels, format: 'sparse', cells };
}

/** Everything a version or an evaluation reports: the scores and the confusion matrix. */
export function computeMetrics(truth: Int32Array, predicted: Int32Array, labels: string[]): Metrics {
  const { accuracy, macro_f1, per_label, n } = scoreOf(truth, predicted, labels);
  return { accuracy, macro_f1, per_label, confusion_matrix: confusionMatrix(truth, predicted, labels), n };
}

/** Seeded PRNG (mulberry32): splits are reproducible given the job's seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(xs: number[], rand: () => number): number[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

function rowsByClass(y: Int32Array, classes: number, rand: () => number): number[][] {
  const by = Array.from({ length: classes }, () => [] as number[]);
  for (const [i, c] of y.entries()) by[c]!.push(i);
  return by.map((rows) => shuffle(rows, rand));
}

/**
 * Fold index of every row: each class is shuffled and dealt round-robin, so
 * every fold holds ⌊n_c/k⌋ or ⌈n_c/k⌉ rows of class c. The deal continues
 * across classes, so small classes do not all land in fold 0.
 */
export function stratifiedFolds(y: Int32Array, classes: number, k: number, seed: number): Int32Array {
  const fold = new Int32Array(y.length);
  let next = 0;
  for (const rows of rowsByClass(y, classes, rng(seed))) {
    for (const r of rows) fold[r] = next++ % k;
  }
  return fold;
}

export interface Split {
  train: Int32Array;
  test: Int32Array;
}

export function foldSplit(fold: Int32Array, f: number): Split {
  const train: number[] = [];
  const test: number[] = [];
  for (const [i, v] of fold.entries()) (v === f ? test : train).push(i);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

/** A stratified held-out split: about `fraction` of each class, at least one row, never all of a class. */
export function stratifiedHoldout(y: Int32Array, classes: number, fraction: number, seed: number): Split {
  const train: number[] = [];
  const test: number[] = [];
  for (const rows of rowsByClass(y, classes, rng(seed))) {
    const t = rows.length < 2 ? 0 : Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * fraction)));
    test.push(...rows.slice(0, t));
    train.push(...rows.slice(t));
  }
  return { train: Int32Array.from(train.sort((a, b) => a - b)), test: Int32Array.from(test.sort((a, b) => a - b)) };
}

/** Index of the largest value in each row of an n × k matrix. */
export function argmaxRows(p: Float32Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + best]!) best = c;
    out[i] = best;
  }
  return out;
}
