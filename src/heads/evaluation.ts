/**
 * Honest evaluation: stratified k-fold and held-out splits, and the metrics a
 * version carries (accuracy, macro-F1, per-label precision/recall/F1/support,
 * confusion matrix). Macro averages follow scikit-learn: over the labels that
 * occur in the truth or the predictions.
 */
export interface LabelMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Metrics {
  accuracy: number;
  macro_f1: number;
  per_label: LabelMetrics[];
  /** Rows: true label, columns: predicted label, both in `labels` order. */
  confusion_matrix: { labels: string[]; matrix: number[][] };
  n: number;
}

export function computeMetrics(truth: Int32Array, predicted: Int32Array, labels: string[]): Metrics {
  const k = labels.length;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    matrix[truth[i]!]![predicted[i]!]!++;
    if (truth[i] === predicted[i]) correct++;
  }
  const perLabel: LabelMetrics[] = [];
  let f1Sum = 0;
  let counted = 0;
  for (let c = 0; c < k; c++) {
    const tp = matrix[c]![c]!;
    const support = matrix[c]!.reduce((a, b) => a + b, 0);
    const predictedAs = matrix.reduce((a, row) => a + row[c]!, 0);
    const precision = predictedAs ? tp / predictedAs : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perLabel.push({ label: labels[c]!, precision, recall, f1, support });
    if (support > 0 || predictedAs > 0) {
      f1Sum += f1;
      counted++;
    }
  }
  return {
    accuracy: truth.length ? correct / truth.length : 0,
    macro_f1: counted ? f1Sum / counted : 0,
    per_label: perLabel,
    confusion_matrix: { labels, matrix },
    n: truth.length,
  };
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
