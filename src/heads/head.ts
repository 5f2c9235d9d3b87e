/**
 * What a head type is, as one interface: its parameters (schema and
 * defaults, the API's form), how its stored artifacts load into predictors,
 * and, imported only when training, its grid, cross-validation and fit. A
 * head type is one folder under heads/ that exports a HeadDefinition, and one
 * line in ./registry.ts; training, serving and the API read the registry.
 *
 * The definition is light on purpose: predict workers import it to load
 * predictors and never pull in the training code behind `trainer()`, nor the
 * ONNX export behind `onnx()`.
 */
import type { z } from 'zod';
import type { GraphBuilder } from '../onnx/graph.js';
import type { Dataset } from './dataset.js';
import type { Split } from './evaluation.js';
import type { TaskKind } from '../lib/task-kind.js';

/** A trained head, ready to score feature rows. */
export interface Predictor {
  readonly classes: number;
  /** n × classes probabilities, row-major: rows sum to 1, or (multi-label) each label's own probability. */
  predictProba(x: Float32Array, n: number): Float32Array;
  /** Multi-label heads: a label is predicted when its probability reaches its threshold. */
  readonly thresholds?: Float32Array;
}

export interface LoadOptions {
  /** onnxruntime threads a predictor may use (one in predict workers: the pool is the parallelism). */
  threads?: number;
}

/** What a request's parameters are checked against before a job is queued. */
export interface TaskShape {
  kind: TaskKind;
  /** Examples per label. */
  labels: ReadonlyMap<string, number>;
  /** The smallest feature dimension the job may train on. */
  dim: number;
}

export interface HeadDefinition<P extends object = Record<string, unknown>> {
  /** The API's name for the head type. */
  readonly type: string;
  /** What it is, in a line, for the API's list of head types (GET /v1/heads) and the console. */
  readonly description: string;
  /** The `format` field of its artifacts. */
  readonly format: string;
  /** Its artifact's other fields, in a line, for the API's documentation of GET …/versions/{n}/artifact. */
  readonly artifactDescription: string;
  /** Its parameters as a strict zod object whose fields all have defaults: `params.parse({})` is the default head. */
  readonly params: z.ZodType<P>;
  /** What `search: true` tries, for the API's documentation. */
  readonly searchDescription: string;
  /** Whether `auto` searches this head type when a request names no candidates. */
  readonly auto: boolean;
  /**
   * How it trains on multi-label tasks (data sets with `targets`: every label
   * its own probability): natively (every label at once), one-vs-rest (a fit
   * per label, ../one-vs-rest.ts), or not at all.
   */
  readonly multiLabel: 'native' | 'one-vs-rest' | false;
  /**
   * Throws a DomainError (`invalid_params`, `unknown_label`; `param` relative
   * to the params object) when the parameters cannot work on this task, so the
   * request fails at once instead of the job failing later.
   */
  check(params: P, task: TaskShape): void;
  /** A predictor for a stored artifact of this head type. */
  load(artifact: unknown, options: LoadOptions): Predictor;
  /** The training side, imported on first use. */
  trainer(): Promise<HeadTrainer<P>>;
  /**
   * The head as ONNX operators, for a version's export (`GET …/versions/{n}/export?format=onnx`),
   * imported on first use (from `./<type>/onnx.ts`). It is given this head type's own artifacts
   * only: a multi-label version's wrapper (thresholds) and one-vs-rest's label-by-label heads are
   * the export's to unwrap. A head type without it cannot be exported.
   */
  onnx?: () => Promise<OnnxHeadExport>;
}

/** What a head's ONNX export builds on: a graph that already computes the features the head was trained on. */
export interface OnnxHeadInput {
  /** The model being built: the encoder and the feature nodes are in it; the head adds its nodes and initializers. */
  graph: GraphBuilder;
  /** float32 [batch, dim]: each text's feature vector, as the service computes it under the version's feature spec. */
  features: string;
  dim: number;
  /** Columns of the probabilities: the artifact's classes (the version's labels; 2 for a one-vs-rest label's head). */
  classes: number;
  /** Prefix for the names of the initializers the head adds (the encoder's names are taken). */
  prefix: string;
}

export interface OnnxHeadOutput {
  /**
   * float32 [batch, classes]: what the head's predictor gives for the same
   * features (`predictProba`), column c = class c: a distribution, or each
   * label's own probability when the artifact is a multi-label fit (sigmoid outputs).
   */
  probabilities: string;
}

/** Adds a stored artifact's head to an export's graph and names its probabilities. */
export type OnnxHeadExport = (artifact: unknown, input: OnnxHeadInput) => OnnxHeadOutput;

/**
 * A split's held-out predictions, in the split's order: each row's class
 * (single-label), or rows × labels probabilities (a multi-label data set,
 * one whose `targets` are set).
 */
export type FoldPrediction = Int32Array | Float32Array;

/** A configuration's cross-validation: predictions of each split's test rows. */
export interface CvOutcome {
  predicted: FoldPrediction[];
  /** Worker time spent on the configuration's fits (they run concurrently, so not wall time). */
  ms: number;
}

/** What a training job gives a head type. */
export interface JobContext {
  /** The job's worker threads: every fit runs there. */
  pool: WorkerPool;
  seed: number;
  /** Class index → label. */
  labels: string[];
  /** Called as each configuration finishes a split; may throw to stop (cancellation). */
  onValidated?: () => void;
}

export interface HeadTrainer<P extends object> {
  /** The operations this head's fits run on the training pool's workers, by name. */
  readonly ops: WorkerOps;
  /** A head type's work within one job; state it keeps (shared kernel matrices) lives as long as the job. */
  start(job: JobContext): HeadJob<P>;
}

export interface HeadJob<P extends object> {
  /** Parameters a search tries, in the API's form. */
  grid(data: Dataset): P[];
  /**
   * Trains each configuration on each split's training rows (no probability
   * calibration) and predicts its test rows. Configurations and splits run
   * concurrently on the pool; results do not depend on the order.
   */
  crossValidate(data: Dataset, splits: Split[], configs: P[]): Promise<CvOutcome[]>;
  /** Trains the head that is stored and served; returns its artifact (plain JSON). */
  fit(data: Dataset, params: P): Promise<unknown>;
}

/** Functions a pool worker runs for a head; arguments and results are structured-clonable. */
export type WorkerOps = Record<string, (args: never) => unknown>;

export interface TaskOutcome<T> {
  result: T;
  /** Time the worker spent on the task. */
  ms: number;
}

/**
 * The training pool as a head sees it: runs one of a head's ops on a worker.
 * Results come back with their typed arrays transferred, and arguments in
 * SharedArrayBuffers are not copied.
 */
export interface WorkerPool {
  readonly size: number;
  run(head: string, op: string, args: unknown): Promise<TaskOutcome<unknown>>;
}

/** A typed view of `pool` for the ops of one head. */
export function opsOn<O extends WorkerOps>(pool: WorkerPool, head: string) {
  return {
    size: pool.size,
    run<K extends keyof O & string>(op: K, args: Parameters<O[K]>[0]): Promise<TaskOutcome<ReturnType<O[K]>>> {
      return pool.run(head, op, args) as Promise<TaskOutcome<ReturnType<O[K]>>>;
    },
  };
}
