/**
 * Shared shapes for classification heads. Heads train on dense float32
 * features with labels given as class indexes 0..classes-1; the task's label
 * names live beside the artifact, never inside the numeric code.
 *
 * Everything here is plain data (typed arrays, numbers, strings), so it can
 * cross a worker-thread boundary by structured clone or SharedArrayBuffer.
 */

/** A row-major feature matrix with class-index labels. */
export interface Dataset {
  /** n × dim, row-major. May be backed by a SharedArrayBuffer. */
  x: Float32Array;
  n: number;
  dim: number;
  /** Class index of each row, 0..classes-1. */
  y: Int32Array;
  classes: number;
}

/** A trained head, ready to score feature rows. */
export interface Predictor {
  readonly classes: number;
  /** n × classes probabilities (rows sum to 1), row-major. */
  predictProba(x: Float32Array, n: number): Float32Array;
}
