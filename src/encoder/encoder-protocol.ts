/** The encoder worker's API (see ../workers/channel.ts) and what it is started with. */
import type { CallContext, Reply } from '../workers/protocol.js';
import type { Lane } from './batch-queue.js';
import type { FeatureSpec } from './feature-spec.js';
import type { ModelManifest } from './manifest.js';

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

export interface EncodeArgs {
  texts: string[];
  specs: FeatureSpec[];
  /** Cut over-long inputs, or fail with `input_too_long`. */
  truncate: boolean;
  lane: Lane;
}

export interface Encoded {
  /** One array per spec: texts × dimensions, row-major. */
  features: Float32Array[];
  /** Tokens per text after truncation, special tokens included. */
  tokenCounts: Int32Array;
}

export type EncoderApi = {
  encode(args: EncodeArgs, call: CallContext): Promise<Reply<Encoded>>;
};

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

export type EncoderEvent = { type: 'batch'; stats: BatchStats };
