/** Messages between the predict pool and its worker threads. */
export type ToPredictWorker =
  | {
      type: 'predict';
      id: number;
      versionId: string;
      /** The gzip-compressed artifact, sent when the worker may not hold this version. */
      artifact?: Uint8Array;
      x: Float32Array;
      n: number;
    }
  /** Exit between requests (never terminated mid-request: that would abort inside onnxruntime). */
  | { type: 'shutdown' };

export type FromPredictWorker =
  | { type: 'result'; id: number; probabilities: Float32Array; classes: number }
  | { type: 'missing'; id: number }
  | { type: 'error'; id: number; message: string };
