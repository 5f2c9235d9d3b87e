/**
 * AdamW between steps, in JavaScript over the weights' Float32Arrays, as
 * PyTorch's torch.optim.AdamW computes it (decoupled weight decay applied
 * first, bias-corrected moments, ε added to √v̂), with gradients clipped to a
 * global L2 norm first (torch.nn.utils.clip_grad_norm_: scaled by
 * max / (norm + 1e-6) when the norm is above max). Moments are fp32 like
 * PyTorch's; the sums of squares are fp64.
 */
import { ADAM } from './recipe.js';

export interface Moments {
  m: Float32Array;
  v: Float32Array;
}

/** Biases and LayerNorm parameters are not decayed (the usual BERT recipe). */
export function decays(name: string): boolean {
  return !(name.endsWith('.bias') || name.includes('LayerNorm'));
}

/** The global L2 norm of `grads`. */
export function globalNorm(grads: readonly Float32Array[]): number {
  let sum = 0;
  for (const g of grads) {
    // Four partial sums: fewer dependent adds in the loop, and a fixed order (the result is deterministic).
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const n = g.length - (g.length % 4);
    for (let i = 0; i < n; i += 4) {
      s0 += g[i]! * g[i]!;
      s1 += g[i + 1]! * g[i + 1]!;
      s2 += g[i + 2]! * g[i + 2]!;
      s3 += g[i + 3]! * g[i + 3]!;
    }
    for (let i = n; i < g.length; i++) s0 += g[i]! * g[i]!;
    sum += s0 + s1 + s2 + s3;
  }
  return Math.sqrt(sum);
}

/** The factor clip_grad_norm_ scales every gradient by: min(1, max / (norm + 1e-6)). */
export function clipFactor(norm: number, max: number): number {
  return Math.min(1, max / (norm + 1e-6));
}

/**
 * One AdamW update of `w` by `g` (scaled by `gradScale`, the clipping) at step `t` (1-based), learning
 * rate `lr`, decay `weightDecay` (0 for the parameters not decayed).
 */
export function adamwUpdate(w: Float32Array, g: Float32Array, moments: Moments, t: number, lr: number, weightDecay: number, gradScale: number): void {
  const { m, v } = moments;
  const { beta1, beta2, epsilon } = ADAM;
  const keep = 1 - lr * weightDecay;
  const stepSize = lr / (1 - beta1 ** t);
  const root = Math.sqrt(1 - beta2 ** t);
  const b1 = 1 - beta1;
  const b2 = 1 - beta2;
  for (let i = 0; i < w.length; i++) {
    const grad = g[i]! * gradScale;
    const mi = Math.fround(beta1 * m[i]! + b1 * grad);
    const vi = Math.fround(beta2 * v[i]! + b2 * grad * grad);
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i]! * keep - (stepSize * mi) / (Math.sqrt(vi) / root + epsilon);
  }
}
