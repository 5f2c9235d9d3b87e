/**
 * One-vs-rest, for head types that fit one label per text (the SVM, the
 * forest) on a multi-label task: each label becomes a yes/no problem of its
 * own, fitted with the head's usual fit (the SVM's Platt-calibrated
 * probabilities included), and its probability of "yes" is the label's. A
 * fold of cross-validation fits every label on the fold's training rows and
 * predicts its held-out rows, so thresholds are chosen on honest
 * probabilities. Costs a fit per label (and per fold): for many labels or
 * many rows, logistic regression's joint fit is the practical choice.
 */
import { DomainError } from '../errors.js';
import { type Dataset, sharedDataset, takeRows } from './dataset.js';
import type { HeadJob, JobContext, LoadOptions, Predictor } from './head.js';

/** A multi-label head made of one two-class head per label: label c's probability is heads[c]'s probability of class 1. */
export interface OneVsRestArtifact {
  format: 'one-vs-rest';
  heads: unknown[];
}

/** The fields of a one-vs-rest artifact, in a line, for the API's documentation. */
export const ONE_VS_REST_FIELDS =
  "heads (one two-class artifact per label, in the version's label order: a label's probability is its head's probability of class 1).";

/** Label c's (called `name`) yes/no problem over every row: class 1 where the row has the label. */
function binaryOf(data: Dataset, c: number, name: string): Dataset {
  const k = data.classes;
  const y = new Int32Array(new SharedArrayBuffer(data.n * 4));
  let positives = 0;
  for (let i = 0; i < data.n; i++) positives += y[i] = data.targets![i * k + c]!;
  if (positives === 0 || positives === data.n)
    throw new DomainError(
      'invalid_value',
      `label "${name}" is on ${positives === 0 ? 'no' : 'every'} training example: one-vs-rest needs examples with and without it`,
    );
  return { x: data.x, y, n: data.n, dim: data.dim, classes: 2 };
}

/** `inner` as it is for single-label data sets, and one-vs-rest over it for multi-label ones. */
export function oneVsRest<P extends object>(inner: HeadJob<P>, job: JobContext, load: (artifact: unknown) => Predictor): HeadJob<P> {
  const labels = (data: Dataset) => Array.from({ length: data.classes }, (_, c) => c);
  return {
    grid: (data) => inner.grid(data),
    async crossValidate(data, splits, configs) {
      if (!data.targets) return inner.crossValidate(data, splits, configs);
      const k = data.classes;
      // Each split's rows once, in shared memory: every configuration and label fits on the same training rows.
      const parts = splits.map((split) => ({ train: sharedDataset(takeRows(data, split.train)), held: takeRows(data, split.test) }));
      return Promise.all(
        configs.map(async (params) => {
          const started = performance.now();
          const predicted = await Promise.all(
            parts.map(async ({ train, held }) => {
              const proba = new Float32Array(held.n * k);
              await Promise.all(
                labels(data).map(async (c) => {
                  const p = load(await inner.fit(binaryOf(train, c, job.labels[c]!), params)).predictProba(held.x, held.n);
                  for (let i = 0; i < held.n; i++) proba[i * k + c] = p[i * 2 + 1]!;
                }),
              );
              job.onValidated?.();
              return proba;
            }),
          );
          return { predicted, ms: performance.now() - started };
        }),
      );
    },
    async fit(data, params) {
      if (!data.targets) return inner.fit(data, params);
      const shared = sharedDataset(data);
      const heads = await Promise.all(labels(data).map(async (c) => inner.fit(binaryOf(shared, c, job.labels[c]!), params)));
      return { format: 'one-vs-rest', heads } satisfies OneVsRestArtifact;
    },
  };
}

/** The predictor of a one-vs-rest artifact, its per-label heads loaded by `load`. */
export function oneVsRestPredictor(artifact: OneVsRestArtifact, load: (artifact: unknown, options: LoadOptions) => Predictor, options: LoadOptions): Predictor {
  const heads = artifact.heads.map((h) => load(h, options));
  if (heads.some((h) => h.classes !== 2)) throw new Error('one-vs-rest artifact: every head must have two classes');
  const k = heads.length;
  return {
    classes: k,
    predictProba(x, n) {
      const out = new Float32Array(n * k);
      heads.forEach((h, c) => {
        const p = h.predictProba(x, n);
        for (let i = 0; i < n; i++) out[i * k + c] = p[i * 2 + 1]!;
      });
      return out;
    },
  };
}
