/**
 * The data a head trains on: dense float32 features with labels as class
 * indexes 0..classes-1; the task's label names live beside the artifact,
 * never inside the numeric code. Everything here is plain data (typed arrays,
 * numbers), so it crosses a worker boundary by structured clone or, in a
 * SharedArrayBuffer, without a copy.
 */

/** A row-major feature matrix with class-index labels. */
export interface Dataset {
  /** n × dim, row-major. May be backed by a SharedArrayBuffer. */
  x: Float32Array;
  n: number;
  dim: number;
  /** Class index of each row, 0..classes-1 (multi-label: the row's rarest label, for stratified splits). */
  y: Int32Array;
  classes: number;
  /** Multi-label tasks only: n × classes, 1 where the row has the label. Heads fit every label's probability on it. */
  targets?: Uint8Array;
}

/** `data` with its rows and labels in shared memory (copied once unless already there), so pool tasks post it without a copy. */
export function sharedDataset(data: Dataset): Dataset {
  const isShared = (a: ArrayBufferView) => a.buffer instanceof SharedArrayBuffer;
  if (isShared(data.x) && isShared(data.y) && (!data.targets || isShared(data.targets))) return data;
  const x = new Float32Array(new SharedArrayBuffer(data.n * data.dim * 4));
  x.set(data.x.subarray(0, data.n * data.dim));
  const y = new Int32Array(new SharedArrayBuffer(data.n * 4));
  y.set(data.y.subarray(0, data.n));
  if (!data.targets) return { ...data, x, y };
  const targets = new Uint8Array(new SharedArrayBuffer(data.n * data.classes));
  targets.set(data.targets.subarray(0, data.n * data.classes));
  return { ...data, x, y, targets };
}

/** The rows `rows` of `data` as a data set of their own. */
export function takeRows(data: Dataset, rows: Int32Array): Dataset {
  const { dim, classes, targets } = data;
  const x = new Float32Array(rows.length * dim);
  const y = new Int32Array(rows.length);
  const taken = targets ? new Uint8Array(rows.length * classes) : undefined;
  rows.forEach((r, i) => {
    x.set(data.x.subarray(r * dim, (r + 1) * dim), i * dim);
    y[i] = data.y[r]!;
    taken?.set(targets!.subarray(r * classes, (r + 1) * classes), i * classes);
  });
  return { x, y, n: rows.length, dim, classes, ...(taken ? { targets: taken } : {}) };
}
