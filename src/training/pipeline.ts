/**
 * What a training job computes, given its feature matrices: an optional layer
 * sweep (hierarchical transfer: which hidden state suits this task), an
 * optional hyper-parameter search, an honest evaluation of the chosen head,
 * and the final fit. Every step validates on the same folds (seeded by the
 * request), so predictions made for one step are reused by the next.
 */
import { DomainError } from '../errors.js';
import type { FeatureSpec } from '../encoder/feature-spec.js';
import type { Dataset } from '../heads/dataset.js';
import { computeMetrics, foldSplit, type Metrics, type Scores, scoreOf, type Split, stratifiedFolds, stratifiedHoldout } from '../heads/evaluation.js';
import type { FoldPrediction, HeadJob, JobContext } from '../heads/head.js';
import { headOf, multiLabelArtifact } from '../heads/registry.js';
import { type ExampleMap, MAP_POINTS, pca2, sampleRows } from './example-map.js';
import { TrainingPool } from './pool/pool.js';
import type { JobThreadInput, JobThreadResult, PhaseTiming } from './protocol.js';
import { isAuto } from './request.js';
import { halvingRungs } from './search-plan.js';
import { estimateGain, subsampleSplit } from './learning-curve.js';
import { applyThresholds, chooseThresholds, type MultiLabelScores, multiLabelScores } from '../heads/multi-label.js';

type Params = Record<string, unknown>;
interface Config {
  type: string;
  params: Params;
}

interface Validation {
  /** Out-of-fold prediction of every validated row; -1 for rows never held out (hold-out training rows). Multi-label: none (see scores). */
  predicted: Int32Array;
  /** Multi-label: the version's metrics (cross-fitted thresholds), and the thresholds chosen on every out-of-fold row. */
  multiLabel?: { scores: MultiLabelScores; thresholds: Float32Array };
  /** Single-label: accuracy; multi-label: subset accuracy. */
  accuracy: number;
  macroF1: number;
  /** Accuracy on each fold (one entry for a hold-out). */
  perSplit: number[];
  /** Macro-F1 on each fold. */
  perSplitF1: number[];
  /** Worker time of the configuration's fits. */
  ms: number;
}

export type Progress = (phase: string, fraction: number) => void;

function describeSpec(spec: FeatureSpec) {
  return { layers: spec.layers, layer_combine: spec.layerCombine, pooling: spec.pooling, normalize: spec.normalize };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** A validation's scores as reports list them: accuracy and macro-F1, or (multi-label) subset accuracy, micro- and macro-F1. */
function scoreFields(v: Validation): Record<string, number> {
  if (!v.multiLabel) return { accuracy: round(v.accuracy), macro_f1: round(v.macroF1) };
  return { subset_accuracy: round(v.accuracy), micro_f1: round(v.multiLabel.scores.micro_f1), macro_f1: round(v.macroF1) };
}

/**
 * Whether a candidate's per-fold scores trail the best's by no more than one
 * standard error of the paired differences (Breiman's one-standard-error
 * rule). On Banking77 the 1,152-dimension top-layer concatenation beat the
 * last layer by 0.001 macro-F1 in cross-validation and lost on the test set,
 * while predicting 3× slower; differences that small are fold noise. With a
 * single hold-out split there is no error estimate, and nothing is "close".
 */
export function withinOneStandardError(candidate: number[], best: number[]): boolean {
  const k = best.length;
  if (k < 2) return false;
  const diff = best.map((b, i) => b - candidate[i]!);
  const mean = diff.reduce((a, b) => a + b, 0) / k;
  const variance = diff.reduce((a, b) => a + (b - mean) ** 2, 0) / (k - 1);
  return mean <= Math.sqrt(variance / k);
}

/**
 * Runs the job on a pool of `input.threads` worker threads that lives for the
 * whole pipeline; every fit is a task on it (see ./pool/pool.ts).
 */
export async function runPipeline(input: JobThreadInput, progress: Progress): Promise<JobThreadResult> {
  const pool = new TrainingPool(Math.max(1, input.threads), () => Atomics.load(input.cancel, 0) !== 0);
  try {
    return await pipeline(input, progress, pool);
  } finally {
    await pool.close();
  }
}

async function pipeline(input: JobThreadInput, progress: Progress, pool: TrainingPool): Promise<JobThreadResult> {
  const { request, labels, y, n, targets } = input;
  const classes = labels.length;
  // Rows past the examples (label descriptions' features) are trained on in every fit and never held out.
  const extra = Int32Array.from({ length: input.extraRows ?? 0 }, (_, i) => n + i);
  const withExtra = (rows: Int32Array) => (extra.length ? Int32Array.from([...rows, ...extra]) : rows);
  const datasets: Dataset[] = input.candidates.map((c) => ({ x: c.x, y, n: n + extra.length, dim: c.dim, classes, ...(targets ? { targets } : {}) }));
  const ev = request.evaluation;
  const examplesY = y.subarray(0, n);
  const splits: Split[] = [];
  if (ev.method === 'cv') {
    const fold = stratifiedFolds(examplesY, classes, ev.folds, request.seed);
    for (let f = 0; f < ev.folds; f++) splits.push(foldSplit(fold, f));
  } else splits.push(stratifiedHoldout(examplesY, classes, ev.fraction, request.seed));
  for (const split of splits) split.train = withExtra(split.train);
  const head = request.head;
  const definition = (type: string) => {
    const h = headOf(type);
    if (!h) throw new DomainError('invalid_params', `unknown head type ${type}`, 'head.type');
    return h;
  };

  // The configurations a search tries (on the features it searches), and the one a sweep probes with:
  // auto's first candidate with its defaults.
  const searchedTypes = isAuto(head) ? head.candidates : head.search ? [head.type] : [];
  const fixed: Config = isAuto(head)
    ? { type: head.candidates[0]!, params: definition(head.candidates[0]!).params.parse({}) }
    : { type: head.type, params: head.params };

  let total = 1;
  let done = 0;
  let phase = 'layer_sweep';
  const checkCancel = () => {
    if (Atomics.load(input.cancel, 0) !== 0) throw new DomainError('cancelled', 'cancelled');
  };
  const ctx: JobContext = {
    pool,
    seed: request.seed,
    labels,
    onValidated: () => {
      checkCancel();
      progress(phase, Math.min(0.99, ++done / total));
    },
  };
  // Each head type's work in this job, started once: its state (an SVM's kernel matrices) serves every step.
  const jobs = new Map<string, HeadJob<Params>>();
  for (const type of new Set([fixed.type, ...searchedTypes])) jobs.set(type, (await definition(type).trainer()).start(ctx));
  const jobOf = (type: string) => jobs.get(type)!;
  const searchedOn = (data: Dataset): Config[] =>
    searchedTypes.flatMap((type) =>
      jobOf(type)
        .grid(data)
        .map((params) => ({ type, params })),
    );
  // Progress counts fits: sweep, search and evaluation fits, plus the final fit weighed as a few of them.
  const sweepCount = request.layerSweep ? datasets.length : 0;
  total = (sweepCount + searchedOn(datasets[0]!).length + 1 + (request.learningCurve?.length ?? 0)) * splits.length + 3 * splits.length;

  /** Each (candidate, configuration, split)'s held-out predictions, so a configuration's folds are fitted once whatever step asks. */
  const folds = new Map<string, { predicted: FoldPrediction; ms: number }>();
  const keyOf = (d: number, config: Config) => `${d}|${config.type}|${JSON.stringify(config.params)}`;
  const allSplits = splits.map((_, s) => s);
  /**
   * Fits the configurations on the splits `which` of candidate d, where not
   * done yet. Head types run concurrently: their fits interleave on the pool,
   * so one type's pauses (an SVM waiting for its next kernel matrix) keep no
   * worker idle.
   */
  const runFolds = async (d: number, configs: Config[], which: number[]): Promise<void> => {
    checkCancel();
    const missing = (c: Config) => which.filter((s) => !folds.has(`${keyOf(d, c)}#${s}`));
    const pending = configs.filter((c, i) => missing(c).length > 0 && configs.findIndex((o) => keyOf(d, o) === keyOf(d, c)) === i);
    // Configurations missing the same splits are cross-validated together (the SVM shares kernel matrices among them).
    const groups = new Map<string, Config[]>();
    for (const c of pending) {
      const key = `${c.type}|${missing(c).join(',')}`;
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    await Promise.all(
      [...groups.values()].map(async (mine) => {
        const todo = missing(mine[0]!);
        const outcomes = await jobOf(mine[0]!.type).crossValidate(
          datasets[d]!,
          todo.map((s) => splits[s]!),
          mine.map((c) => c.params),
        );
        for (const [i, c] of mine.entries()) {
          const { predicted, ms } = outcomes[i]!;
          for (const [j, s] of todo.entries()) folds.set(`${keyOf(d, c)}#${s}`, { predicted: predicted[j]!, ms: ms / todo.length });
        }
      }),
    );
  };
  /** Each (candidate, configuration)'s scores over every split, once its folds are all done. */
  const validations = new Map<string, Validation>();
  /** Cross-validates the configurations on every split of candidate d (what is done already is reused). */
  const validate = async (d: number, configs: Config[]): Promise<Validation[]> => {
    await runFolds(d, configs, allSplits);
    return configs.map((c) => {
      const key = keyOf(d, c);
      let v = validations.get(key);
      if (!v) {
        const done = allSplits.map((s) => folds.get(`${key}#${s}`)!);
        const ms = done.reduce((a, f) => a + f.ms, 0);
        const predicted = done.map((f) => f.predicted);
        v = targets ? multiLabelValidation(predicted as Float32Array[], targets, ms) : validation(predicted as Int32Array[], ms);
        validations.set(key, v);
      }
      return v;
    });
  };
  /** Single-label: macro-F1 of a configuration over the held-out rows of the splits `which` only (those folds must be done). */
  const partialF1 = (d: number, c: Config, which: number[]): number => {
    const truth: number[] = [];
    const predicted: number[] = [];
    for (const s of which) {
      const p = folds.get(`${keyOf(d, c)}#${s}`)!.predicted as Int32Array;
      for (const [i, row] of splits[s]!.test.entries()) {
        truth.push(y[row]!);
        predicted.push(p[i]!);
      }
    }
    return scoreOf(Int32Array.from(truth), Int32Array.from(predicted), labels).macro_f1;
  };
  const validation = (perSplitPredicted: Int32Array[], ms: number): Validation => {
    const predicted = new Int32Array(n).fill(-1);
    const perSplit = splits.map((split, s) => {
      let correct = 0;
      split.test.forEach((row, i) => {
        predicted[row] = perSplitPredicted[s]![i]!;
        if (predicted[row] === y[row]) correct++;
      });
      return correct / split.test.length;
    });
    const perSplitF1 = splits.map(
      (split, s) =>
        scoreOf(
          Int32Array.from(split.test, (row) => y[row]!),
          perSplitPredicted[s]!,
          labels,
        ).macro_f1,
    );
    const m = validated(predicted, scoreOf);
    return { predicted, accuracy: m.accuracy, macroF1: m.macro_f1, perSplit, perSplitF1, ms };
  };
  /**
   * Multi-label: every label's out-of-fold probabilities, thresholded per
   * label. A fold's rows are thresholded by values chosen on the other folds'
   * rows (with a single hold-out split there are none: its own rows choose),
   * so the scores do not flatter the thresholds.
   */
  const multiLabelValidation = (perSplitProba: Float32Array[], truth: Uint8Array, ms: number): Validation => {
    const proba = new Float32Array(n * classes);
    const decided = new Uint8Array(n * classes);
    const heldRows: number[] = [];
    for (const [s, split] of splits.entries())
      for (const [i, row] of split.test.entries()) proba.set(perSplitProba[s]!.subarray(i * classes, (i + 1) * classes), row * classes);
    const perSplit: number[] = [];
    const perSplitF1: number[] = [];
    splits.forEach((split, s) => {
      const others = splits.length > 1 ? splits.flatMap((o, j) => (j === s ? [] : [...o.test])) : [...split.test];
      const thresholds = chooseThresholds(proba, truth, classes, others);
      const sets = applyThresholds(proba, n, thresholds);
      for (const row of split.test) decided.set(sets.subarray(row * classes, (row + 1) * classes), row * classes);
      const scores = multiLabelScores(truth, sets, labels, split.test, thresholds);
      perSplit.push(scores.subset_accuracy);
      perSplitF1.push(scores.macro_f1);
      heldRows.push(...split.test);
    });
    heldRows.sort((a, b) => a - b);
    const thresholds = chooseThresholds(proba, truth, classes, heldRows);
    const scores = multiLabelScores(truth, decided, labels, heldRows, thresholds);
    return {
      predicted: new Int32Array(n).fill(-1),
      multiLabel: { scores, thresholds },
      accuracy: scores.subset_accuracy,
      macroF1: scores.macro_f1,
      perSplit,
      perSplitF1,
      ms,
    };
  };
  /** Scores (or, for the version, full metrics) of the rows that were held out. */
  const validated = <M extends Scores>(predicted: Int32Array, measure: (truth: Int32Array, predicted: Int32Array, labels: string[]) => M): M => {
    const rows = [...predicted.keys()].filter((i) => predicted[i]! >= 0);
    return measure(
      Int32Array.from(rows, (i) => y[i]!),
      Int32Array.from(rows, (i) => predicted[i]!),
      labels,
    );
  };

  const timings: PhaseTiming[] = [];
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    phase = name;
    progress(name, done / total);
    const r = await fn();
    timings.push({ phase: name, ms: Math.round(performance.now() - started) });
    return r;
  };
  const report: Record<string, unknown> = {};

  // 1. Layer sweep: the probe on every candidate feature matrix. The best
  // macro-F1 wins unless a candidate with fewer dimensions is within one
  // standard error of it (see withinOneStandardError): then the smaller one does.
  let chosen = 0;
  if (request.layerSweep) {
    const results = await timed('layer_sweep', async () => {
      const out = [];
      for (let d = 0; d < datasets.length; d++) out.push({ d, v: (await validate(d, [fixed]))[0]! });
      return out;
    });
    const best = results.reduce((b, r) => (r.v.macroF1 > b.v.macroF1 ? r : b), results[0]!);
    const close = results.filter((r) => r === best || withinOneStandardError(r.v.perSplitF1, best.v.perSplitF1));
    const dim = (r: { d: number }) => datasets[r.d]!.dim;
    chosen = close.reduce((b, r) => (dim(r) < dim(b) || (dim(r) === dim(b) && r.v.macroF1 > b.v.macroF1) ? r : b), best).d;
    report.layer_sweep = {
      probe: { head_type: fixed.type, params: fixed.params },
      rule: 'best macro-F1; a candidate with fewer dimensions within one standard error of it (paired over folds) is preferred',
      results: results.map(({ d, v }) => ({
        ...describeSpec(input.candidates[d]!.spec),
        dimensions: datasets[d]!.dim,
        ...scoreFields(v),
        within_one_se: close.some((r) => r.d === d),
        ms: Math.round(v.ms),
      })),
      chosen: describeSpec(input.candidates[chosen]!.spec),
    };
  }

  // 2. Search: the grid on the chosen features (the first best wins ties, in grid order). Successive halving
  // (./search-plan.ts) scores every configuration on one fold, the best third on more, and only the last few on all.
  let best: Config = fixed;
  const searched = searchedOn(datasets[chosen]!);
  if (searched.length) {
    const rungs = request.searchStrategy === 'grid' || targets ? [] : halvingRungs(searched.length, splits.length);
    const dropped = await timed('search', async () => {
      let alive = searched;
      const out: Array<{ config: Config; folds: number; f1: number }> = [];
      for (const rung of rungs) {
        const which = allSplits.slice(0, rung.folds);
        await runFolds(chosen, alive, which);
        const ranked = alive.map((config) => ({ config, f1: partialF1(chosen, config, which) })).sort((a, b) => b.f1 - a.f1);
        for (const r of ranked.slice(rung.keep)) out.push({ config: r.config, folds: rung.folds, f1: r.f1 });
        const kept = new Set(ranked.slice(0, rung.keep).map((r) => r.config));
        alive = alive.filter((c) => kept.has(c));
      }
      await runFolds(chosen, alive, allSplits);
      return out;
    });
    const finished = searched.filter((c) => !dropped.some((x) => x.config === c));
    const validated = await validate(chosen, finished);
    const results = finished.map((config, i) => ({ config, v: validated[i]! }));
    const winner = results.reduce((b, r) => (r.v.macroF1 > b.v.macroF1 ? r : b), results[0]!);
    best = winner.config;
    report.search = {
      metric: 'macro_f1',
      strategy: rungs.length ? 'successive halving over folds' : 'full grid',
      ...(rungs.length ? { rungs: rungs.map((r) => ({ folds: r.folds, kept: r.keep })) } : {}),
      results: searched.map((config) => {
        const early = dropped.find((x) => x.config === config);
        if (early) return { head_type: config.type, params: config.params, macro_f1: round(early.f1), folds: early.folds, dropped: true };
        const v = results.find((r) => r.config === config)!.v;
        return { head_type: config.type, params: config.params, ...scoreFields(v), folds: splits.length, ms: Math.round(v.ms) };
      }),
      chosen: { head_type: best.type, params: best.params },
    };
  }

  // 3. Evaluation of the chosen head (already done if the sweep or search validated it).
  const evaluation = (await timed('evaluate', () => validate(chosen, [best])))[0]!;
  // The one confusion matrix of the job: every fold and configuration before was scored from per-label counts.
  const metrics = {
    ...(evaluation.multiLabel ? { kind: 'multi_label', ...evaluation.multiLabel.scores } : validated<Metrics>(evaluation.predicted, computeMetrics)),
    method: request.evaluation.method,
    ...(request.evaluation.method === 'cv'
      ? { folds: request.evaluation.folds, fold_accuracy: evaluation.perSplit.map(round) }
      : { holdout_fraction: request.evaluation.fraction }),
  };

  // 3b. The learning curve: the chosen head on growing shares of each fold's training rows, the same held-out rows.
  if (request.learningCurve) {
    const fractions = request.learningCurve;
    const meanTrain = (s: Split[]) => s.reduce((a, x) => a + x.train.length - extra.length, 0) / s.length;
    const metric = targets ? 'macro_f1' : 'accuracy';
    const scoreOf = (v: Validation) => (targets ? v.macroF1 : v.accuracy);
    const points = await timed('learning_curve', async () => {
      const out = [];
      for (const fraction of fractions) {
        const part = splits.map((s, i) => {
          const sub = subsampleSplit({ train: s.train.filter((r) => r < n), test: s.test }, y, fraction, request.seed + 7919 * (i + 1));
          return { train: withExtra(sub.train), test: sub.test };
        });
        const [outcome] = await jobOf(best.type).crossValidate(datasets[chosen]!, part, [best.params]);
        const v = targets
          ? multiLabelValidation(outcome!.predicted as Float32Array[], targets, outcome!.ms)
          : validation(outcome!.predicted as Int32Array[], outcome!.ms);
        out.push({ fraction, examples: round(meanTrain(part)), ...scoreFields(v), score: scoreOf(v) });
      }
      out.push({ fraction: 1, examples: round(meanTrain(splits)), ...scoreFields(evaluation), score: scoreOf(evaluation) });
      return out;
    });
    const estimate = estimateGain(points);
    report.learning_curve = {
      metric,
      points: points.map(({ score: _, ...p }) => p),
      estimate: estimate && {
        metric,
        rule: '1 − score ≈ a · examples^(−b), fitted to the points by least squares in log–log space; an extrapolation',
        a: round(estimate.a),
        b: round(estimate.b),
        examples: estimate.examples,
        [`${metric}_fitted_now`]: round(estimate.score_now),
        doubled_examples: estimate.doubled,
        [`${metric}_at_double`]: round(estimate.score_doubled),
      },
    };
  }

  // 4. The map of the examples, on the features the head is trained on: the console draws it beside the evaluation.
  checkCancel();
  const map: ExampleMap = await timed('map', async () =>
    pca2(datasets[chosen]!.x, datasets[chosen]!.dim, sampleRows(n, MAP_POINTS, request.seed), request.seed),
  );

  // 5. The final head, on every example.
  checkCancel();
  const fitted = await timed('fit', () => jobOf(best.type).fit(datasets[chosen]!, best.params));
  const artifact = evaluation.multiLabel ? multiLabelArtifact(fitted, evaluation.multiLabel.thresholds) : fitted;
  progress('fit', 1);
  return { chosen, headType: best.type, params: best.params, artifact, metrics, report, timings, evaluation: { predicted: evaluation.predicted, map } };
}
