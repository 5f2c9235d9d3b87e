/**
 * Synchronous onnxruntime-node sessions for small numeric graphs.
 *
 * onnxruntime-node's public InferenceSession.run() returns a Promise, but it
 * only defers a call into a native session object whose run() is
 * synchronous (dist/binding.js, typed in dist/binding.d.ts). Calling that
 * object directly lets numeric code (Gram matrices, predictors) stay
 * synchronous; it blocks the calling thread for the duration of the run, so
 * long runs belong in worker threads.
 */
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import type { Binding } from 'onnxruntime-node/dist/binding.js';

type NativeModule = typeof import('onnxruntime-node/dist/binding.js');

export interface SyncOrt {
  Tensor: typeof Ort.Tensor;
  /** A session for the ONNX model `bytes`; threads = 0 means one per core. */
  createSession(bytes: Uint8Array, threads: number): Binding.InferenceSession;
}

let cached: SyncOrt | null | undefined;

/** The synchronous ORT API, or null when onnxruntime-node cannot load here. */
export function syncOrt(): SyncOrt | null {
  if (cached === undefined) cached = load();
  return cached;
}

function load(): SyncOrt | null {
  const require = createRequire(import.meta.url);
  let ort: typeof Ort;
  let native: NativeModule;
  try {
    ort = require('onnxruntime-node') as typeof Ort;
    native = require('onnxruntime-node/dist/binding.js') as NativeModule;
  } catch {
    return null;
  }
  return {
    Tensor: ort.Tensor,
    createSession(bytes, threads) {
      native.initOrt();
      const session = new native.binding.InferenceSession();
      session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      return session;
    },
  };
}

/** The native binding rejects SharedArrayBuffer-backed arrays ("Invalid argument"). */
export function isShared(x: Float32Array): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && x.buffer instanceof SharedArrayBuffer;
}

/** `x`, or a private copy of it when it lives in a SharedArrayBuffer. */
export function unshared(x: Float32Array): Float32Array {
  return isShared(x) ? x.slice() : x;
}
