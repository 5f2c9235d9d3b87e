/**
 * One run of the pipeline, as its stages share it: the job's data sets and
 * splits, each head type's work in the job, the fits done so far, progress
 * and timings. Every stage validates on the same splits (seeded by the
 * request) through this object, so a configuration's folds are fitted once
 * whichever stage asks first.
 */
import { DomainError } from '../../errors.js';
import type { Dataset } from '../../heads/dataset.js';
import { type Scores, scoreOf, type Split } from '../../heads/evaluation.js';
import type { FoldPrediction, HeadJob, JobContext } from '../../heads/head.js';
import { applyThresholds, chooseThresholds, type MultiLabelScores, multiLabelScores } from '../../heads/multi-label.js';
import { headOf } from '../../heads/registry.js';
import type { TrainingPool } from '../pool/pool.js';
import type { JobThreadInput, PhaseTiming } from '../job-protocol.js';
import { type EvaluationPlan, planEvaluation } from '../evaluation-plan.js';
import { isAuto } from '../request.js';

export type Params = Record<string, unknown>;

/** A head type with parameters: what a stage fits. */
export interface Config {
  type: string;
  params: Params;
}

/** A configuration's scores over every split of one candidate. */
export interface Validation {
  /** Out-of-fold prediction of every validated row; -1 for rows never held out (hold-out training rows). Multi-label: none (see scores). */
  predicted: Int32Array;
  /**
   * Multi-label: the version's metrics (cross-fitted thresholds), the thresholds chosen on every out-of-fold row,
   * and each held-out row's cross-fitted set (multi-hot, n × labels; `held` marks the rows that were held out).
   */
  multiLabel?: { scores: MultiLabelScores; thresholds: Float32Array; decided: Uint8Array; held: Uint8Array };
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

export const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** A validation's scores as reports list them: accuracy and macro-F1, or (multi-label) subset accuracy, micro- and macro-F1. */
export function scoreFields(v: Validation): Record<string, number> {
  if (!v.multiLabel) return { accuracy: round(v.accuracy), macro_f1: round(v.macroF1) };
  return { subset_accuracy: round(v.accuracy), micro_f1: round(v.multiLabel.scores.micro_f1), macro_f1: round(v.macroF1) };
}

function definition(type: string) {
  const h = headOf(type);
  if (!h) throw new DomainError('invalid_params', `unknown head type ${type}`, 'head.type');
  return h;
}

export class PipelineRun {
  /** One data set per candidate feature matrix, the label descriptions' rows after the examples. */
  readonly datasets: Dataset[];
  /** The evaluation's splits of the examples; every training side also holds the extra rows. None: nothing evaluated. */
  readonly splits: Split[];
  /** How the evaluation was made, as the version's metrics say it. */
  readonly evaluation: EvaluationPlan['describe'];
  readonly allSplits: number[];
  /** The head types a search tries, on the features it searches. */
  readonly searchedTypes: string[];
  /** The configuration a sweep probes with, and the head when nothing is searched: the request's head, or auto's first candidate with its defaults. */
  readonly probe: Config;
  readonly timings: PhaseTiming[] = [];
  /** Rows past the examples (label descriptions' features): trained on in every fit, never held out. */
  private readonly extra: Int32Array;
  /** Each head type's work in this job, started once: its state (an SVM's kernel matrices) serves every stage. */
  private readonly jobs = new Map<string, HeadJob<Params>>();
  /** Each (candidate, configuration, split)'s held-out predictions, so a configuration's folds are fitted once whatever stage asks. */
  private readonly folds = new Map<string, { predicted: FoldPrediction; ms: number }>();
  /** Each (candidate, configuration)'s scores over every split, once its folds are all done. */
  private readonly validations = new Map<string, Validation>();
  private total = 1;
  private done = 0;
  private phase = 'layer_sweep';

  private constructor(
    readonly input: JobThreadInput,
    private readonly progress: Progress,
  ) {
    const { request, labels, y, n, targets } = input;
    const classes = labels.length;
    this.extra = Int32Array.from({ length: input.extraRows ?? 0 }, (_, i) => n + i);
    this.datasets = input.candidates.map((c) => ({ x: c.x, y, n: n + this.extra.length, dim: c.dim, classes, ...(targets ? { targets } : {}) }));
    const plan = planEvaluation(y.subarray(0, n), classes, request.evaluation, request.seed);
    for (const split of plan.splits) split.train = this.withExtra(split.train);
    this.splits = plan.splits;
    this.evaluation = plan.describe;
    this.allSplits = this.splits.map((_, s) => s);
    const head = request.head;
    this.searchedTypes = isAuto(head) ? head.candidates : head.search ? [head.type] : [];
    this.probe = isAuto(head)
      ? { type: head.candidates[0]!, params: definition(head.candidates[0]!).params.parse({}) }
      : { type: head.type, params: head.params };
  }

  /** The run with every head type it may fit started on `pool`, and its progress measured out. */
  static async start(input: JobThreadInput, progress: Progress, pool: TrainingPool): Promise<PipelineRun> {
    const run = new PipelineRun(input, progress);
    const ctx: JobContext = {
      pool,
      seed: input.request.seed,
      labels: input.labels,
      onValidated: () => {
        run.checkCancel();
        progress(run.phase, Math.min(0.99, ++run.done / run.total));
      },
    };
    for (const type of new Set([run.probe.type, ...run.searchedTypes])) run.jobs.set(type, (await definition(type).trainer()).start(ctx));
    // Progress counts fits: sweep, search and evaluation fits, plus the final fit weighed as a few of them.
    const { request } = input;
    const sweepCount = request.layerSweep ? run.datasets.length : 0;
    // Without an evaluation only the final fit runs: it is the whole job.
    const k = Math.max(1, run.splits.length);
    run.total = run.splits.length ? (sweepCount + run.searchGrid(0).length + 1 + (request.learningCurve?.length ?? 0)) * k + 3 * k : 3;
    return run;
  }

  checkCancel(): void {
    if (Atomics.load(this.input.cancel, 0) !== 0) throw new DomainError('cancelled', 'cancelled');
  }

  /** Runs a stage as the phase `name`, and records its wall time. */
  async timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    this.phase = name;
    this.progress(name, this.done / this.total);
    const r = await fn();
    this.timings.push({ phase: name, ms: Math.round(performance.now() - started) });
    return r;
  }

  /** The end of the job. */
  finished(): void {
    this.progress('fit', 1);
  }

  jobOf(type: string): HeadJob<Params> {
    return this.jobs.get(type)!;
  }

  /** Every configuration a search tries on candidate d, in grid order. */
  searchGrid(d: number): Config[] {
    return this.searchedTypes.flatMap((type) =>
      this.jobOf(type)
        .grid(this.datasets[d]!)
        .map((params) => ({ type, params })),
    );
  }

  /** Training rows with the extra rows (label descriptions) added. */
  withExtra(rows: Int32Array): Int32Array {
    return this.extra.length ? Int32Array.from([...rows, ...this.extra]) : rows;
  }

  /** Mean count of examples (extra rows not counted) the splits train on. */
  meanTrainExamples(splits: Split[]): number {
    return splits.reduce((a, x) => a + x.train.length - this.extra.length, 0) / splits.length;
  }

  private keyOf(d: number, config: Config): string {
    return `${d}|${config.type}|${JSON.stringify(config.params)}`;
  }

  /**
   * Fits the configurations on the splits `which` of candidate d, where not
   * done yet. Head types run concurrently: their fits interleave on the pool,
   * so one type's pauses (an SVM waiting for its next kernel matrix) keep no
   * worker idle.
   */
  async runFolds(d: number, configs: Config[], which: number[]): Promise<void> {
    this.checkCancel();
    const missing = (c: Config) => which.filter((s) => !this.folds.has(`${this.keyOf(d, c)}#${s}`));
    const pending = configs.filter((c, i) => missing(c).length > 0 && configs.findIndex((o) => this.keyOf(d, o) === this.keyOf(d, c)) === i);
    // Configurations missing the same splits are cross-validated together (the SVM shares kernel matrices among them).
    const groups = new Map<string, Config[]>();
    for (const c of pending) {
      const key = `${c.type}|${missing(c).join(',')}`;
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    await Promise.all(
      [...groups.values()].map(async (mine) => {
        const todo = missing(mine[0]!);
        const outcomes = await this.jobOf(mine[0]!.type).crossValidate(
          this.datasets[d]!,
          todo.map((s) => this.splits[s]!),
          mine.map((c) => c.params),
        );
        for (const [i, c] of mine.entries()) {
          const { predicted, ms } = outcomes[i]!;
          for (const [j, s] of todo.entries()) this.folds.set(`${this.keyOf(d, c)}#${s}`, { predicted: predicted[j]!, ms: ms / todo.length });
        }
      }),
    );
  }

  /** Cross-validates the configurations on every split of candidate d (what is done already is reused). */
  async validate(d: number, configs: Config[]): Promise<Validation[]> {
    await this.runFolds(d, configs, this.allSplits);
    return configs.map((c) => {
      const key = this.keyOf(d, c);
      let v = this.validations.get(key);
      if (!v) {
        const done = this.allSplits.map((s) => this.folds.get(`${key}#${s}`)!);
        v = this.validationOf(
          done.map((f) => f.predicted),
          done.reduce((a, f) => a + f.ms, 0),
        );
        this.validations.set(key, v);
      }
      return v;
    });
  }

  /** Single-label: macro-F1 of a configuration over the held-out rows of the splits `which` only (those folds must be done). */
  partialF1(d: number, c: Config, which: number[]): number {
    const { y, labels } = this.input;
    const truth: number[] = [];
    const predicted: number[] = [];
    for (const s of which) {
      const p = this.folds.get(`${this.keyOf(d, c)}#${s}`)!.predicted as Int32Array;
      for (const [i, row] of this.splits[s]!.test.entries()) {
        truth.push(y[row]!);
        predicted.push(p[i]!);
      }
    }
    return scoreOf(Int32Array.from(truth), Int32Array.from(predicted), labels).macro_f1;
  }

  /** The scores of held-out predictions of every split (their test rows in the splits' order). */
  validationOf(perSplit: FoldPrediction[], ms: number): Validation {
    const { targets } = this.input;
    return targets ? this.multiLabelValidation(perSplit as Float32Array[], targets, ms) : this.singleLabelValidation(perSplit as Int32Array[], ms);
  }

  /** Scores (or, for the version, full metrics) of the rows that were held out. */
  measureHeldOut<M extends Scores>(predicted: Int32Array, measure: (truth: Int32Array, predicted: Int32Array, labels: string[]) => M): M {
    const { y, labels } = this.input;
    const rows = [...predicted.keys()].filter((i) => predicted[i]! >= 0);
    return measure(
      Int32Array.from(rows, (i) => y[i]!),
      Int32Array.from(rows, (i) => predicted[i]!),
      labels,
    );
  }

  private singleLabelValidation(perSplitPredicted: Int32Array[], ms: number): Validation {
    const { y, n, labels } = this.input;
    const predicted = new Int32Array(n).fill(-1);
    const perSplit = this.splits.map((split, s) => {
      let correct = 0;
      split.test.forEach((row, i) => {
        predicted[row] = perSplitPredicted[s]![i]!;
        if (predicted[row] === y[row]) correct++;
      });
      return correct / split.test.length;
    });
    const perSplitF1 = this.splits.map(
      (split, s) =>
        scoreOf(
          Int32Array.from(split.test, (row) => y[row]!),
          perSplitPredicted[s]!,
          labels,
        ).macro_f1,
    );
    const m = this.measureHeldOut(predicted, scoreOf);
    return { predicted, accuracy: m.accuracy, macroF1: m.macro_f1, perSplit, perSplitF1, ms };
  }

  /**
   * Multi-label: every label's out-of-fold probabilities, thresholded per
   * label. A fold's rows are thresholded by values chosen on the other folds'
   * rows (with a single hold-out split there are none: its own rows choose),
   * so the scores do not flatter the thresholds.
   */
  private multiLabelValidation(perSplitProba: Float32Array[], truth: Uint8Array, ms: number): Validation {
    const { n, labels } = this.input;
    const { splits } = this;
    const classes = labels.length;
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
    const held = new Uint8Array(n);
    for (const row of heldRows) held[row] = 1;
    return {
      predicted: new Int32Array(n).fill(-1),
      multiLabel: { scores, thresholds, decided, held },
      accuracy: scores.subset_accuracy,
      macroF1: scores.macro_f1,
      perSplit,
      perSplitF1,
      ms,
    };
  }
}
