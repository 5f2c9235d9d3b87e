/** A trained softmax-linear head: its stored form and its predictor (what serving needs, nothing of training). */
import type { Predictor } from '../head.js';

export interface LogisticArtifact {
  format: 'softmax-linear';
  classes: number;
  dim: number;
  /** classes × dim, row-major: class c's weights are weights[c·dim, (c+1)·dim). */
  weights: number[];
  bias: number[];
  /** softmax (the default: one label per text) or sigmoid (multi-label: every label its own probability). */
  output?: 'softmax' | 'sigmoid';
}

export class LogisticPredictor implements Predictor {
  readonly classes: number;
  private readonly dim: number;
  private readonly w: Float32Array;
  private readonly b: Float32Array;
  private readonly sigmoid: boolean;

  constructor(artifact: LogisticArtifact) {
    if (artifact.format !== 'softmax-linear') throw new Error(`not a softmax-linear artifact: ${String(artifact.format)}`);
    const { classes, dim } = artifact;
    if (artifact.weights.length !== classes * dim || artifact.bias.length !== classes)
      throw new Error('softmax-linear artifact: weights do not match classes × dim');
    this.classes = classes;
    this.dim = dim;
    this.w = Float32Array.from(artifact.weights);
    this.b = Float32Array.from(artifact.bias);
    this.sigmoid = artifact.output === 'sigmoid';
  }

  predictProba(x: Float32Array, n: number): Float32Array {
    const { classes: k, dim: d, w, b } = this;
    const out = new Float32Array(n * k);
    const z = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      if (!this.sigmoid) softmaxRow(x, i * d, d, w, b, k, z, out, i * k);
      else
        for (let c = 0; c < k; c++) {
          let s = b[c]!;
          for (let j = 0; j < d; j++) s += w[c * d + j]! * x[i * d + j]!;
          out[i * k + c] = 1 / (1 + Math.exp(-s));
        }
    }
    return out;
  }
}

/**
 * softmax(W·x + b) of the row of `x` at `offset`, written to out[at, at + k).
 * `z` is scratch of length k. Cross-validation predicts held-out rows through it too, so it scores what serving predicts.
 */
export function softmaxRow(
  x: ArrayLike<number>,
  offset: number,
  d: number,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  k: number,
  z: Float64Array,
  out: { [i: number]: number },
  at: number,
): void {
  let max = -Infinity;
  for (let c = 0; c < k; c++) {
    let s = b[c]!;
    const row = c * d;
    for (let j = 0; j < d; j++) s += w[row + j]! * x[offset + j]!;
    z[c] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp(z[c]! - max);
    z[c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c++) out[at + c] = z[c]! / sum;
}
