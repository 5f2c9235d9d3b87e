/** What the job runner (main thread) and a job's training thread exchange. */
import type { FeatureSpec } from '../encoder/feature-spec.js';
import type { TrainingRequest } from './request.js';

/** One feature matrix the job may train on: the task's spec, or a layer-sweep candidate. */
export interface Candidate {
  spec: FeatureSpec;
  dim: number;
  /** n × dim in a SharedArrayBuffer: handed to the thread without a copy. */
  x: Float32Array;
}

export interface JobThreadInput {
  request: TrainingRequest;
  /** Class index → label. */
  labels: string[];
  /** Class index per example, SharedArrayBuffer-backed. */
  y: Int32Array;
  n: number;
  /** candidates[0] is the task's own spec; a layer sweep adds the others. */
  candidates: Candidate[];
  /** Threads the job may use for parallel fits. */
  threads: number;
  /**
   * Set to 1 by the runner to cancel. The thread checks it between fits and
   * ends itself: terminating a thread inside a native onnxruntime call would
   * abort the whole process.
   */
  cancel: Int32Array;
}

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
}

/** The training thread runs one job: its input arrives as workerData, so the call takes no argument. */
export type JobThreadApi = {
  run(args: null): Promise<JobThreadResult>;
};

export type JobThreadEvent = { type: 'progress'; phase: string; fraction: number };
