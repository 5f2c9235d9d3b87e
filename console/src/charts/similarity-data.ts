/**
 * Cosine similarity of two texts at every hidden state, from one embeddings
 * call that concatenates every layer un-normalised: the vector is the layers'
 * pooled states end to end, so each block of `hidden` numbers is one layer's.
 * Pure.
 */

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = from; i < to; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** One cosine per block of `hidden` dimensions. */
export function layerCosines(a: ArrayLike<number>, b: ArrayLike<number>, hidden: number): number[] {
  if (a.length !== b.length || a.length % hidden !== 0) throw new Error(`vectors of ${a.length} and ${b.length} numbers are not whole layers of ${hidden}`);
  return Array.from({ length: a.length / hidden }, (_, k) => cosine(a, b, k * hidden, (k + 1) * hidden));
}
