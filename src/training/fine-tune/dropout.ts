/**
 * Dropout masks from the job's seeded generator, so that a step is a pure
 * function of its inputs and a job of its seed. Each 32-bit draw decides two
 * entries by its halves: an entry is dropped when its 16 bits fall below
 * round(p · 65536), so the rate is p to within 2^-17 and the kept entries
 * are scaled by 1 / (1 − that rate).
 */
import type { Rng } from '../../heads/rng.js';

export class DropoutMasks {
  private readonly threshold: number;
  /** The value a kept entry holds. */
  readonly scale: number;

  constructor(
    p: number,
    private readonly rng: Rng,
  ) {
    this.threshold = Math.round(p * 65536);
    this.scale = 1 / (1 - this.threshold / 65536);
  }

  /** Fills `out` with 0 (dropped) or `scale` (kept). */
  fill(out: Float32Array): void {
    const { threshold, scale, rng } = this;
    const n = out.length;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const r = rng.nextU32();
      out[i] = (r & 0xffff) < threshold ? 0 : scale;
      out[i + 1] = r >>> 16 < threshold ? 0 : scale;
    }
    if (i < n) out[i] = (rng.nextU32() & 0xffff) < threshold ? 0 : scale;
  }
}
