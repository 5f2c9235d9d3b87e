/**
 * A prototype head: one unit vector per label; a text's probabilities are
 * softmax(scale · cosine(features, prototype)). Zero-shot prediction builds
 * it from the label descriptions' features; trained on examples, each
 * prototype is the mean direction of its label's examples (a nearest-centroid
 * classifier). What serving needs, nothing of training.
 */
import type { Predictor } from '../head.js';

export interface PrototypeArtifact {
  format: 'prototype';
  classes: number;
  dim: number;
  /** classes × dim, row-major, each row of unit length. */
  prototypes: number[];
  /** Multiplies the cosines before the softmax: larger, sharper probabilities. */
  scale: number;
  /** Added to each label's scaled cosine before the softmax: the log of a label prior (zero-shot with an estimated prior); absent, none. */
  bias?: number[];
}

/** `rows` (n × dim) scaled to unit length in place (a zero row stays zero). */
export function normalizeRows(rows: Float32Array | Float64Array, n: number, dim: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += rows[i * dim + j]! ** 2;
    const norm = Math.sqrt(s);
    if (norm > 0) for (let j = 0; j < dim; j++) rows[i * dim + j]! /= norm;
  }
}

export class PrototypePredictor implements Predictor {
  readonly classes: number;
  private readonly dim: number;
  private readonly p: Float32Array;
  private readonly scale: number;
  private readonly bias: Float64Array;

  constructor(artifact: PrototypeArtifact) {
    if (artifact.format !== 'prototype') throw new Error(`not a prototype artifact: ${String(artifact.format)}`);
    if (artifact.prototypes.length !== artifact.classes * artifact.dim) throw new Error('prototype artifact: prototypes do not match classes × dim');
    if (artifact.bias && artifact.bias.length !== artifact.classes) throw new Error('prototype artifact: bias does not match classes');
    this.bias = Float64Array.from(artifact.bias ?? new Array<number>(artifact.classes).fill(0));
    this.classes = artifact.classes;
    this.dim = artifact.dim;
    this.p = Float32Array.from(artifact.prototypes);
    this.scale = artifact.scale;
  }

  predictProba(x: Float32Array, n: number): Float32Array {
    const { classes: k, dim: d, p, scale, bias } = this;
    const out = new Float32Array(n * k);
    const z = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      let norm = 0;
      for (let j = 0; j < d; j++) norm += x[i * d + j]! ** 2;
      norm = Math.sqrt(norm) || 1;
      let max = -Infinity;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += x[i * d + j]! * p[c * d + j]!;
        z[c] = (scale * s) / norm + bias[c]!;
        if (z[c]! > max) max = z[c]!;
      }
      let sum = 0;
      for (let c = 0; c < k; c++) sum += z[c] = Math.exp(z[c]! - max);
      for (let c = 0; c < k; c++) out[i * k + c] = z[c]! / sum;
    }
    return out;
  }
}

/** The prototype artifact of `rows` (k × dim, any length): each row normalized; `prior` (one per label), its log as the bias. */
export function prototypeArtifact(rows: Float32Array, classes: number, dim: number, scale: number, prior?: readonly number[]): PrototypeArtifact {
  const p = Float64Array.from(rows.subarray(0, classes * dim));
  normalizeRows(p, classes, dim);
  const artifact: PrototypeArtifact = { format: 'prototype', classes, dim, prototypes: Array.from(p, (v) => Math.fround(v)), scale };
  return prior ? { ...artifact, bias: prior.map((v) => Math.log(v)) } : artifact;
}
