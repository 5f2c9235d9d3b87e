/** Messages between the encoder's main-thread client and its worker thread. */
import type { FeatureSpec } from './feature-spec.js';
import type { Lane } from './batch-queue.js';
import type { ModelManifest } from './import/importer.js';

export interface WorkerInit {
  modelDir: string;
  manifest: ModelManifest;
  /** onnxruntime intra-op threads. */
  threads: number;
  /** Let idle onnxruntime threads spin-wait for work (lower latency alone, but they burn CPU others need). */
  spin: boolean;
  maxBatchTokens: number;
  maxBatchSize: number;
}

export type ToWorker =
  | { type: 'encode'; id: number; texts: string[]; specs: FeatureSpec[]; truncate: boolean; lane: Lane }
  | { type: 'cancel'; id: number }
  /** Finish the current run, then exit (terminating a thread inside onnxruntime aborts the process). */
  | { type: 'shutdown' };

export interface BatchStats {
  size: number;
  /** batch × padded length. */
  paddedTokens: number;
  /** Tokens that were real input. */
  tokens: number;
  inferenceMs: number;
  /** Sequences still waiting after this batch was taken. */
  queued: number;
}

export type FromWorker =
  | { type: 'ready'; warmupMs: number }
  | { type: 'result'; id: number; features: Float32Array[]; tokenCounts: Int32Array }
  | { type: 'error'; id: number; code: 'input_too_long' | 'inference_failed'; message: string; index?: number }
  | { type: 'batch'; stats: BatchStats }
  | { type: 'fatal'; message: string };
