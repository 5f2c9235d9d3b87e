/**
 * Which heads a predict worker keeps loaded: the most recently used, within
 * a count and a size (the artifacts' uncompressed JSON bytes: a loaded head
 * takes once or twice that, its support vectors and onnxruntime's copy of
 * them). The worker applies this rule to its
 * predictors, and the pool applies the same rule to its record of each worker,
 * so the two agree on what the worker holds. The newest head always stays,
 * however large: it is the one a request is waiting for. An encoder worker
 * keeps fine-tuned versions' stacks by the same rule (../encoder/loaded-stacks.ts).
 */
export interface HeldLimits {
  count: number;
  bytes: number;
}

export class HeldHeads {
  /** Version id → size; Map order is recency, least recent first. */
  private readonly sizes = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: HeldLimits) {}

  has(versionId: string): boolean {
    return this.sizes.has(versionId);
  }

  get bytes(): number {
    return this.total;
  }

  /** Least recently used first. */
  ids(): string[] {
    return [...this.sizes.keys()];
  }

  /** Records a use of `versionId` (of `size` bytes; a held one keeps its size); returns the ids pushed out to make room. */
  use(versionId: string, size: number): string[] {
    const held = this.sizes.get(versionId);
    this.delete(versionId);
    this.sizes.set(versionId, held ?? size);
    this.total += held ?? size;
    const evicted: string[] = [];
    for (const [id, bytes] of this.sizes) {
      if (this.sizes.size <= 1 || (this.sizes.size <= this.limits.count && this.total <= this.limits.bytes)) break;
      this.sizes.delete(id);
      this.total -= bytes;
      evicted.push(id);
    }
    return evicted;
  }

  delete(versionId: string): boolean {
    const size = this.sizes.get(versionId);
    if (size === undefined) return false;
    this.sizes.delete(versionId);
    this.total -= size;
    return true;
  }

  clear(): void {
    this.sizes.clear();
    this.total = 0;
  }
}
