/** Helpers of bench:heads: labelled splits as class indexes, and scoring a trained head. */
import { computeMetrics, argmaxRows } from '../../src/heads/evaluation.js';
import type { Predictor } from '../../src/heads/head.js';
import type { PredictPool } from '../../src/serving/predict-pool.js';
import { median } from './stats.js';
import { loadJsonl } from './datasets.js';

export interface LabelledSplits {
  labels: string[];
  train: { texts: string[]; y: Int32Array };
  test: { texts: string[]; y: Int32Array };
}

/** A data set's train and test files; labels sorted by name, as the service orders a task's labels. */
export function loadSplits(name: string): LabelledSplits {
  const train = loadJsonl(`${name}.train.jsonl`);
  const test = loadJsonl(`${name}.test.jsonl`);
  const labels = [...new Set(train.map((e) => e.label))].sort();
  const index = new Map(labels.map((l, i) => [l, i]));
  const part = (rows: typeof train) => ({ texts: rows.map((e) => e.text), y: Int32Array.from(rows, (e) => index.get(e.label) ?? -1) });
  return { labels, train: part(train), test: part(test) };
}

export interface Scores {
  accuracy: number;
  macroF1: number;
  /** predictProba rows per second over the test set, in batches. */
  rowsPerS: number;
  /** Median predictProba time for one row. */
  oneRowMs: number;
}

/** Test metrics of `predictor` on x (n × dim), its batch throughput (median of 3 passes) and single-row latency. */
export function score(predictor: Predictor, x: Float32Array, n: number, y: Int32Array, labels: string[], batch = 256): Scores {
  const dim = x.length / n;
  const pass = () => {
    const started = performance.now();
    const proba = new Float32Array(n * predictor.classes);
    for (let r = 0; r < n; r += batch) {
      const rows = Math.min(batch, n - r);
      proba.set(predictor.predictProba(x.subarray(r * dim, (r + rows) * dim), rows), r * predictor.classes);
    }
    return { proba, ms: performance.now() - started };
  };
  const passes = [pass(), pass(), pass()];
  const m = computeMetrics(y, argmaxRows(passes[0]!.proba, n, predictor.classes), labels);
  const single: number[] = [];
  for (let i = 0; i < Math.min(n, 200); i++) {
    const started = performance.now();
    predictor.predictProba(x.subarray(i * dim, (i + 1) * dim), 1);
    single.push(performance.now() - started);
  }
  return { accuracy: m.accuracy, macroF1: m.macro_f1, rowsPerS: n / (median(passes.map((p) => p.ms)) / 1000), oneRowMs: median(single) };
}

/**
 * Rows per second through the service's predict pool (median of 3 passes over
 * x): requests of `batch` rows, `inflight` at a time, as concurrent predict
 * calls on cached features arrive.
 */
export async function poolRowsPerS(
  pool: PredictPool,
  versionId: string,
  artifact: Uint8Array,
  x: Float32Array,
  n: number,
  batch = 256,
  inflight = 4,
): Promise<number> {
  const dim = x.length / n;
  const pass = async () => {
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        // Each request takes the next unclaimed range of rows.
        for (let r = next; r < n; r = next) {
          next += batch;
          const rows = Math.min(batch, n - r);
          await pool.predict(versionId, async () => artifact, x.slice(r * dim, (r + rows) * dim), rows);
        }
      }),
    );
    return performance.now() - started;
  };
  await pass(); // every worker loads the head
  const ms = [await pass(), await pass(), await pass()];
  return n / (median(ms) / 1000);
}
