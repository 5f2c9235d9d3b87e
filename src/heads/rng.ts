/**
 * Seeded xoshiro128** generator: heads that draw at random (a forest's
 * bootstrap samples and split candidates, an MLP's initial weights and
 * batches) draw from it, so a head is reproducible from its seed alone,
 * whichever worker trains it.
 */

/** One step of splitmix32: a well-mixed 32-bit hash, also used to seed xoshiro. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Seed of tree `index` in a forest seeded with `seed`. */
export function treeSeed(seed: number, index: number): number {
  return mix32(mix32(seed) ^ index);
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // xoshiro must not start from the all-zero state; splitmix32 outputs of
    // four consecutive inputs are never all zero.
    this.a = mix32(seed);
    this.b = mix32(seed + 1);
    this.c = mix32(seed + 2);
    this.d = mix32(seed + 3);
  }

  /** Uniform unsigned 32-bit integer. */
  nextU32(): number {
    const b = this.b;
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    this.c ^= this.a;
    this.d ^= b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** The generator's whole state, to continue it later (`Rng.resume`): a resumed job draws what it would have drawn. */
  state(): [number, number, number, number] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  static resume(state: readonly [number, number, number, number]): Rng {
    const r = new Rng(0);
    [r.a, r.b, r.c, r.d] = state.map((x) => x | 0) as [number, number, number, number];
    return r;
  }

  /** Uniform integer in [0, k) for k ≤ 2^21 (the product stays exact in a double). */
  below(k: number): number {
    return Math.floor((this.nextU32() * k) / 4294967296);
  }
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}
