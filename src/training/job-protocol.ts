/** What the job runner (main thread) and a job's training process exchange. */
import type { FeatureSpec } from '../encoder/feature-spec.js';
import type { NewTunedStack } from '../store/types.js';
import type { EpochRecord } from './fine-tune/checkpoint.js';
import type { StepProgress } from './fine-tune/fine-tune.js';
import type { FineTuneRecipe } from './fine-tune/recipe.js';
import type { CallContext } from '../workers/protocol.js';
import type { IncumbentInput } from './activation.js';
import type { ExampleMap } from './example-map.js';
import type { TrainingRequest } from './request.js';

/** One feature matrix the job may train on: the task's spec, or a layer-sweep candidate. */
export interface Candidate {
  spec: FeatureSpec;
  dim: number;
  /** n × dim, row-major; in a SharedArrayBuffer inside the training process, so its pool threads share it. */
  x: Float32Array;
}

export interface JobThreadInput {
  request: TrainingRequest;
  /** Class index → label. */
  labels: string[];
  /** Class index per example (multi-label: its rarest label, for stratified folds); SharedArrayBuffer-backed inside the training process. */
  y: Int32Array;
  /** Multi-label tasks: n × labels, 1 where the example has the label. */
  targets?: Uint8Array;
  /**
   * Rows after the n examples (in y and every candidate's x): label
   * descriptions as extra examples, trained on in every fit, never held out
   * or scored.
   */
  extraRows?: number;
  n: number;
  /** candidates[0] is the task's own spec; a layer sweep adds the others. */
  candidates: Candidate[];
  /** Threads the job may use for parallel fits. */
  threads: number;
  /** The task's active version, for the job to score on the same rows as the new one (./activation.ts). */
  incumbent?: IncumbentInput;
  /**
   * Single-label tasks with few examples a label and described labels: the prototype artifact of every label's text
   * (in `labels` order) on candidates[0]'s features, which the chosen head may be blended with (./stages/blend.ts).
   */
  prior?: unknown;
  /** A job that fine-tunes (its head, or among auto's candidates): what the run needs beside the features. */
  fineTune?: FineTuneJob;
  /**
   * Set to 1 to cancel (the training process does, when the runner drops its
   * call). The pipeline checks it between fits and pool tasks and ends
   * itself: stopping a thread inside a native onnxruntime call would abort
   * the whole process.
   */
  cancel: Int32Array;
}

/** What a fine-tuning job's training process needs beside the features (./stages/fine-tune.ts). */
export interface FineTuneJob {
  /** The task's imported model (manifest with `trainable`, graph, layers, tokenizer). */
  modelDir: string;
  /** Every row's text, in the rows' order: the examples, then the label descriptions trained on. */
  texts: string[];
  recipe: FineTuneRecipe;
  /** The checkpoint an earlier attempt of this job left (encodeCheckpoint's bytes): the run continues after its epoch. */
  checkpoint?: Uint8Array;
}

/** What the runner sends: the input without its cancel flag, which lives in the training process. */
export type JobArgs = Omit<JobThreadInput, 'cancel'>;

export interface PhaseTiming {
  phase: string;
  ms: number;
}

export interface JobThreadResult {
  /** Index into candidates of the features the head was trained on. */
  chosen: number;
  headType: string;
  /** The parameters actually used, in the API's snake_case form. */
  params: Record<string, unknown>;
  artifact: unknown;
  metrics: unknown;
  report: Record<string, unknown>;
  timings: PhaseTiming[];
  /** A fine-tuned version's features (its tuned layers' output), where they are not candidates[chosen]'s; the store names the version in it. */
  spec?: FeatureSpec;
  /** A fine-tuned version's tuned layers, compressed for the store. */
  tunedStack?: NewTunedStack;
  /** The active version's honest class index per example (−1: none), when the input named one. */
  incumbent?: Int32Array;
  /** What the version's evaluation is made of, row by row: the console shows it. */
  evaluation: {
    /** Out-of-fold prediction (class index) of every row; -1 for a row never held out. */
    predicted: Int32Array;
    /** Multi-label: every row's out-of-fold label set (multi-hot, n × labels), and which rows were held out. */
    sets?: { decided: Uint8Array; held: Uint8Array };
    map: ExampleMap;
  };
}

/** One task of a multi-task job (see ./multitask.ts). */
export interface MultitaskTask {
  taskId: string;
  /** Class index → label. */
  labels: string[];
  y: Int32Array;
  n: number;
  spec: FeatureSpec;
  dim: number;
  x: Float32Array;
}

export interface MultitaskInput {
  /** Its head is `mlp` with the parameters every task's network uses. */
  request: TrainingRequest;
  tasks: MultitaskTask[];
  threads: number;
  cancel: Int32Array;
}

/** Per task, what a single-task job returns (chosen is always 0: the task's own spec). */
export interface MultitaskResult {
  tasks: JobThreadResult[];
}

/** A multi-task job's input without its cancel flag. */
export type MultitaskArgs = Omit<MultitaskInput, 'cancel'>;

/** The training process runs one job; dropping the call (its signal) cancels it. */
export type JobThreadApi = {
  run(args: JobArgs, call: CallContext): Promise<JobThreadResult>;
  runMultitask(args: MultitaskArgs, call: CallContext): Promise<MultitaskResult>;
};

export type JobThreadEvent =
  | { type: 'progress'; phase: string; fraction: number }
  /** A fine-tuning step done. */
  | ({ type: 'step' } & StepProgress)
  /** A fine-tuning epoch done: the checkpoint to resume from (encodeCheckpoint's bytes). */
  | { type: 'checkpoint'; epoch: number; bytes: Uint8Array; record: EpochRecord };
