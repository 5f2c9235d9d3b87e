/**
 * What a training job computes, given its feature matrices: an optional layer
 * sweep (hierarchical transfer: which hidden state suits this task), an
 * optional hyper-parameter search, an honest evaluation of the chosen head,
 * and the final fit. Every step validates on the same folds (seeded by the
 * request), so predictions made for one step are reused by the next.
 */
import { ADAPTERS, type FitContext, type HeadAdapter } from '../heads/adapters.js';
import { computeMetrics, foldSplit, stratifiedFolds, stratifiedHoldout, type Metrics, type Split } from '../heads/evaluation.js';
import type { Dataset } from '../heads/types.js';
import type { FeatureSpec } from '../encoder/feature-spec.js';
import type { JobThreadInput, JobThreadResult, PhaseTiming } from './protocol.js';
import { forestParamsSchema, svmParamsSchema, type HeadType } from './request.js';

type Params = Record<string, unknown>;
interface Config {
  type: HeadType;
  params: Params;
}

interface Validation {
  /** Out-of-fold prediction of every validated row; -1 for rows never held out (hold-out training rows). */
  predicted: Int32Array;
  accuracy: number;
  macroF1: number;
  /** Accuracy on each fold (one entry for a hold-out). */
  perSplit: number[];
  ms: number;
}

export type Progress = (phase: string, fraction: number) => void;

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * The given rows as a dataset. Training rows go to shared memory (parallel fits
 * hand them to worker threads without copying); rows only scored stay in an
 * ordinary buffer, which onnxruntime accepts as tensor data.
 */
function subset(data: Dataset, rows: Int32Array, shared = true): Dataset {
  const bytes = (n: number) => (shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  const x = new Float32Array(bytes(rows.length * data.dim * 4));
  const y = new Int32Array(bytes(rows.length * 4));
  rows.forEach((r, i) => {
    x.set(data.x.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim);
    y[i] = data.y[r]!;
  });
  return { x, y, n: rows.length, dim: data.dim, classes: data.classes };
}

function describeSpec(spec: FeatureSpec) {
  return { layers: spec.layers, layer_combine: spec.layerCombine, pooling: spec.pooling, normalize: spec.normalize };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export async function runPipeline(input: JobThreadInput, progress: Progress): Promise<JobThreadResult> {
  const { request, labels, y, n } = input;
  const classes = labels.length;
  const datasets: Dataset[] = input.candidates.map((c) => ({ x: c.x, y, n, dim: c.dim, classes }));
  const ev = request.evaluation;
  const splits: Split[] = [];
  if (ev.method === 'cv') {
    const fold = stratifiedFolds(y, classes, ev.folds, request.seed);
    for (let f = 0; f < ev.folds; f++) splits.push(foldSplit(fold, f));
  } else splits.push(stratifiedHoldout(y, classes, ev.fraction, request.seed));
  const ctx: FitContext = { threads: input.threads, seed: request.seed, labels };
  const head = request.head;

  // The configurations a search tries, and the one a sweep probes with.
  const searched: Config[] =
    head.type === 'auto'
      ? head.candidates.flatMap((t) => (ADAPTERS[t] as HeadAdapter<Params>).grid(datasets[0]!).map((params) => ({ type: t, params })))
      : head.search
        ? (ADAPTERS[head.type] as HeadAdapter<Params>).grid(datasets[0]!).map((params) => ({ type: head.type, params }))
        : [];
  const fixed: Config =
    head.type === 'auto'
      ? { type: head.candidates[0]!, params: head.candidates[0] === 'svm' ? svmParamsSchema.parse({}) : forestParamsSchema.parse({}) }
      : { type: head.type, params: head.params as Params };

  // Progress counts fits: sweep, search and evaluation fits, plus the final fit weighed as a few of them.
  const sweepCount = request.layerSweep ? datasets.length : 0;
  const total = (sweepCount + searched.length + 1) * splits.length + 3 * splits.length;
  let done = 0;
  const checkCancel = () => {
    if (Atomics.load(input.cancel, 0) !== 0) throw new Cancelled();
  };
  const tick = (phase: string) => {
    checkCancel();
    progress(phase, Math.min(0.99, ++done / total));
  };

  const validations = new Map<string, Validation>();
  const validate = async (d: number, config: Config, phase: string): Promise<Validation> => {
    const key = `${d}|${config.type}|${JSON.stringify(config.params)}`;
    const known = validations.get(key);
    if (known) return known;
    const started = performance.now();
    const data = datasets[d]!;
    const predicted = new Int32Array(n).fill(-1);
    const perSplit: number[] = [];
    const adapter = ADAPTERS[config.type] as HeadAdapter<Params>;
    for (const split of splits) {
      checkCancel();
      const testX = subset(data, split.test, false).x;
      const pred = await adapter.fitPredict(subset(data, split.train), testX, split.test.length, config.params, ctx);
      let correct = 0;
      split.test.forEach((row, i) => {
        predicted[row] = pred[i]!;
        if (pred[i] === y[row]) correct++;
      });
      perSplit.push(correct / split.test.length);
      tick(phase);
    }
    const m = metricsOf(predicted);
    const v = { predicted, accuracy: m.accuracy, macroF1: m.macro_f1, perSplit, ms: performance.now() - started };
    validations.set(key, v);
    return v;
  };
  const metricsOf = (predicted: Int32Array): Metrics => {
    const rows = [...predicted.keys()].filter((i) => predicted[i]! >= 0);
    return computeMetrics(Int32Array.from(rows, (i) => y[i]!), Int32Array.from(rows, (i) => predicted[i]!), labels);
  };

  const timings: PhaseTiming[] = [];
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    progress(phase, done / total);
    const r = await fn();
    timings.push({ phase, ms: Math.round(performance.now() - started) });
    return r;
  };
  const report: Record<string, unknown> = {};

  // 1. Layer sweep: the probe on every candidate feature matrix; the best macro-F1 wins.
  let chosen = 0;
  if (request.layerSweep) {
    const results = await timed('layer_sweep', async () => {
      const out = [];
      for (let d = 0; d < datasets.length; d++) out.push({ d, v: await validate(d, fixed, 'layer_sweep') });
      return out;
    });
    chosen = results.reduce((best, r) => (r.v.macroF1 > results[best]!.v.macroF1 ? r.d : best), 0);
    report['layer_sweep'] = {
      probe: { head_type: fixed.type, params: fixed.params },
      results: results.map(({ d, v }) => ({ ...describeSpec(input.candidates[d]!.spec), accuracy: round(v.accuracy), macro_f1: round(v.macroF1), ms: Math.round(v.ms) })),
      chosen: describeSpec(input.candidates[chosen]!.spec),
    };
  }

  // 2. Search: every configuration of the grid on the chosen features.
  let best: Config = fixed;
  if (searched.length) {
    const results = await timed('search', async () => {
      const out = [];
      for (const config of searched) out.push({ config, v: await validate(chosen, config, 'search') });
      return out;
    });
    const winner = results.reduce((b, r) => (r.v.macroF1 > b.v.macroF1 ? r : b), results[0]!);
    best = winner.config;
    report['search'] = {
      metric: 'macro_f1',
      results: results.map(({ config, v }) => ({ head_type: config.type, params: config.params, accuracy: round(v.accuracy), macro_f1: round(v.macroF1), ms: Math.round(v.ms) })),
      chosen: { head_type: best.type, params: best.params },
    };
  }

  // 3. Evaluation of the chosen head (already done if the sweep or search validated it).
  const evaluation = await timed('evaluate', () => validate(chosen, best, 'evaluate'));
  const metrics = {
    ...metricsOf(evaluation.predicted),
    method: request.evaluation.method,
    ...(request.evaluation.method === 'cv' ? { folds: request.evaluation.folds, fold_accuracy: evaluation.perSplit.map(round) } : { holdout_fraction: request.evaluation.fraction }),
  };

  // 4. The final head, on every example.
  checkCancel();
  const artifact = await timed('fit', () => (ADAPTERS[best.type] as HeadAdapter<Params>).fit(datasets[chosen]!, best.params, ctx));
  progress('fit', 1);
  return { chosen, headType: best.type, params: best.params, artifact, metrics, report, timings };
}
