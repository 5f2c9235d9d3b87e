/**
 * Turns hidden states into one feature vector per sequence: pool tokens within
 * each chosen layer, combine the layers, then optionally L2-normalise.
 *
 * Hidden states are [rows, width, hidden] row-major; a sequence's real tokens
 * are `length` consecutive positions from its first (./packing.ts lays them out).
 */
import type { FeatureSpec } from './feature-spec.js';

/** Pools one sequence of one layer into `out[offset .. offset+H)`, adding `weight ×` the pooled value. */
function poolInto(
  out: Float32Array,
  offset: number,
  states: Float32Array,
  seqBase: number,
  length: number,
  H: number,
  pooling: FeatureSpec['pooling'],
  weight: number,
): void {
  if (pooling === 'cls') {
    for (let h = 0; h < H; h++) out[offset + h]! += weight * states[seqBase + h]!;
    return;
  }
  if (pooling === 'max') {
    for (let h = 0; h < H; h++) {
      let m = -Infinity;
      for (let t = 0, p = seqBase + h; t < length; t++, p += H) if (states[p]! > m) m = states[p]!;
      out[offset + h]! += weight * m;
    }
    return;
  }
  // Mean over real tokens; accumulate in float64 so long sequences lose nothing.
  const acc = new Float64Array(H);
  for (let t = 0, p = seqBase; t < length; t++) for (let h = 0; h < H; h++, p++) acc[h]! += states[p]!;
  const scale = weight / length;
  for (let h = 0; h < H; h++) out[offset + h]! += acc[h]! * scale;
}

/** L2-normalises `v[offset .. offset+n)` in place; a zero vector stays zero. */
export function l2normalize(v: Float32Array, offset = 0, n = v.length - offset): void {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += v[offset + i]! * v[offset + i]!;
  if (sum === 0) return;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < n; i++) v[offset + i]! *= inv;
}

/**
 * Writes the feature of the sequence of `length` real tokens starting at token
 * `first` (row × width + column) under `spec` into `out` at `offset`.
 * `states[layer]` holds that layer's [rows, width, H] output.
 */
export function featureOf(
  states: ReadonlyMap<number, Float32Array>,
  first: number,
  H: number,
  length: number,
  spec: FeatureSpec,
  out: Float32Array,
  offset: number,
): void {
  const dim = spec.layerCombine === 'concat' ? H * spec.layers.length : H;
  out.fill(0, offset, offset + dim);
  const seqBase = first * H;
  spec.layers.forEach((layer, i) => {
    const s = states.get(layer);
    if (!s) throw new Error(`hidden state ${layer} was not computed`);
    if (spec.layerCombine === 'concat') poolInto(out, offset + i * H, s, seqBase, length, H, spec.pooling, 1);
    else poolInto(out, offset, s, seqBase, length, H, spec.pooling, 1 / spec.layers.length);
  });
  if (spec.normalize) l2normalize(out, offset, dim);
}
