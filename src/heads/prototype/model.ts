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

  constructor(artifact: PrototypeArtifact) {
    if (artifact.format !== 'prototype') throw new Error(`not a prototype artifact: ${String(artifact.format)}`);
    if (artifact.prototypes.length !== artifact.classes * artifact.dim) throw new Error('prototype artifact: prototypes do not match classes × dim');
    this.classes = artifact.classes;
    this.dim = artifact.dim;
    this.p = Float32Array.from(artifact.prototypes);
    this.scale = artifact.scale;
  }

  predictProba(x: Float32Array, n: number): Float32Array {
    const { classes: k, dim: d, p, scale } = this;
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
        z[c] = (scale * s) / norm;
        if (z[c]! > max) max = z[c]!;
      }
      let sum = 0;
      for (let c = 0; c < k; c++) sum += z[c] = Math.exp(z[c]! - max);
      for (let c = 0; c < k; c++) out[i * k + c] = z[c]! / sum;
    }
    return out;
  }
}

/** The prototype artifact of `rows` (k × dim, any length): each row normalized. */
export function prototypeArtifact(rows: Float32Array, classes: number, dim: number, scale: number): PrototypeArtifact {
  const p = Float64Array.from(rows.subarray(0, classes * dim));
  normalizeRows(p, classes, dim);
  return { format: 'prototype', classes, dim, prototypes: Array.from(p, (v) => Math.fround(v)), scale };
}
