/**
 * The wire format between a WorkerChannel (main side) and `serve` (worker
 * side), and the types that let a worker's handlers declare its API once for
 * both sides.
 */
import type { ErrorCode } from '../errors.js';

/** A handler's value with buffers to move to the caller instead of copying (they must not be used afterwards). */
export class Reply<T> {
  constructor(
    readonly value: T,
    readonly transfer: ArrayBuffer[],
  ) {}
}

/** A worker's API: each method takes one structured-clonable argument. */
export type Api = Record<string, (args: never, call: CallContext) => unknown>;

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** Aborted when the caller gave up on the call (its signal fired). */
  signal: AbortSignal;
}

export type ArgsOf<A extends Api, M extends keyof A> = Parameters<A[M]>[0];
/** What the caller gets: the handler's value, out of its Reply if it has one (distributes over unions). */
type Unreply<R> = R extends Reply<infer T> ? T : R;
export type ResultOf<A extends Api, M extends keyof A> = Unreply<Awaited<ReturnType<A[M]>>>;

/** An error as it crosses the thread boundary: a DomainError keeps its code and param. */
export interface WireError {
  message: string;
  code?: ErrorCode;
  param?: string | null;
  stack?: string;
}

export type ToWorker =
  | { kind: 'call'; id: number; method: string; args: unknown }
  /** The caller gave up on call `id`. */
  | { kind: 'cancel'; id: number }
  /** Finish or abandon what is running (the worker's onStop), then exit. */
  | { kind: 'stop' };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: WireError }
  | { kind: 'event'; data: unknown };
