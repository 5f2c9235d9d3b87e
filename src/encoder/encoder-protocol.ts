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
  /** Bytes of fine-tuned versions' stacks kept loaded (their fp32 weights), the least recently used dropped first (default 256 MB). */
  maxStackBytes?: number;
}

export const DEFAULT_STACK_BYTES = 256 * 1024 ** 2;

export interface EncodeArgs {
  texts: string[];
  specs: FeatureSpec[];
  /** Cut over-long inputs, or fail with `input_too_long`. */
  truncate: boolean;
  lane: Lane;
  /** Tuned stacks of the specs' fine-tuned versions (encodeTunedStack's bytes) by version id: those the worker may not hold. */
  stacks?: Record<string, Uint8Array>;
}

export interface Encoded {
  /** One array per spec: texts × dimensions, row-major. */
  features: Float32Array[];
  /** Tokens per text after truncation, special tokens included. */
  tokenCounts: Int32Array;
}

/** The worker holds no stack for these versions and was sent none: send the call again with them. */
export interface MissingStacks {
  missing: string[];
}

export type EncoderApi = {
  encode(args: EncodeArgs, call: CallContext): Promise<Reply<Encoded> | MissingStacks>;
  /** Drops the stacks of deleted versions now (a run using one finishes first). */
  forgetStacks(args: { versions: string[] }): void;
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
  /** Fine-tuned versions' stacks run after the shared pass, each on the batch's texts that need it (inferenceMs includes them). */
  stacks: number;
}

/** `stacks`: the versions whose stacks the worker holds now (after a load, an eviction or a forget). */
export type EncoderEvent = { type: 'batch'; stats: BatchStats } | { type: 'stacks'; held: string[] };
