/**
 * The queue behind dynamic batching. Sequences wait in two lanes: interactive
 * (embeddings and predict calls) and bulk (training featurisation), and each
 * ONNX run takes one batch bounded by a padded-token budget.
 *
 * A batch is formed around the oldest waiting sequence of the busiest-priority
 * lane. Always including the oldest sequence means nothing starves.
 *
 * Packed (a graph that takes several sequences a row, ./packing.ts): a run pays
 * for its tokens, not for its padding, so the batch is simply the lane's oldest
 * sequences up to the limits (the worker's token limit for packed runs is
 * PACKED_RUN_TOKENS: larger runs are slower per token; docs/benchmarks/embed.md).
 *
 * Padded (one sequence a row): the lane's first `window` sequences are sorted by
 * length and split into contiguous runs that minimise the total padded tokens
 * plus a fixed cost per ONNX run; the batch is the run that holds the oldest
 * sequence, and the rest go back to the queue. Padding is paid in full by every
 * matrix product, while one more run costs only a few tokens' worth.
 */
export interface QueuedSequence {
  /** Number of tokens, special tokens included. */
  length: number;
}

export type Lane = 'interactive' | 'bulk';

interface Entry<T> {
  item: T;
  arrival: number;
}

class FifoLane<T extends QueuedSequence> {
  /** Sequences returned from a window that were not batched; oldest first. */
  private carry: Entry<T>[] = [];
  private readonly main: Entry<T>[] = [];
  private head = 0;

  get size(): number {
    return this.carry.length + this.main.length - this.head;
  }

  push(e: Entry<T>): void {
    this.main.push(e);
  }

  /** Removes and returns up to `n` of the oldest entries. */
  take(n: number): Entry<T>[] {
    const out = this.carry.splice(0, n);
    while (out.length < n && this.head < this.main.length) out.push(this.main[this.head++]!);
    // Compact now and then so the backing array does not grow without bound.
    if (this.head > 4096 && this.head * 2 > this.main.length) {
      this.main.splice(0, this.head);
      this.head = 0;
    }
    return out;
  }

  /** Puts entries back at the front, keeping arrival order. */
  giveBack(entries: Entry<T>[]): void {
    this.carry = entries.concat(this.carry).sort((a, b) => a.arrival - b.arrival);
  }

  drain(): T[] {
    const all = this.take(this.size).map((e) => e.item);
    return all;
  }
}

export interface BatchLimits {
  /** Largest batch × padded length; packed, the batch's tokens. */
  maxTokens: number;
  /** Largest number of sequences in one batch. */
  maxSize: number;
  /**
   * Fixed cost of one ONNX run, in padded tokens (about 8–10 for
   * all-MiniLM-L6-v2 on 2 threads); the default leans a little towards fewer,
   * larger runs.
   */
  runCostTokens?: number;
  /** Sequences share rows (see the header). */
  packed?: boolean;
}

export class BatchQueue<T extends QueuedSequence> {
  private readonly lanes: Record<Lane, FifoLane<T>> = { interactive: new FifoLane<T>(), bulk: new FifoLane<T>() };
  private arrivals = 0;

  constructor(private readonly limits: BatchLimits) {}

  get size(): number {
    return this.lanes.interactive.size + this.lanes.bulk.size;
  }

  laneSize(lane: Lane): number {
    return this.lanes[lane].size;
  }

  push(item: T, lane: Lane): void {
    this.lanes[lane].push({ item, arrival: this.arrivals++ });
  }

  /** The next batch (padded: shortest sequence first; packed: oldest first), or an empty array when nothing waits. */
  next(): T[] {
    const lane = this.lanes.interactive.size > 0 ? this.lanes.interactive : this.lanes.bulk;
    if (lane.size === 0) return [];
    if (this.limits.packed) return this.oldest(lane);
    const window = lane.take(this.limits.maxSize * 4);
    const oldest = window[0]!;
    const sorted = [...window].sort((a, b) => a.item.length - b.item.length || a.arrival - b.arrival);
    const [lo, hi] = this.runAround(sorted, sorted.indexOf(oldest));
    const batch = sorted.slice(lo, hi + 1);
    const chosen = new Set(batch);
    lane.giveBack(window.filter((e) => !chosen.has(e)));
    return batch.map((e) => e.item);
  }

  /** The lane's oldest sequences within the limits, in arrival order; a single over-long sequence still runs alone. */
  private oldest(lane: FifoLane<T>): T[] {
    const taken = lane.take(this.limits.maxSize);
    let tokens = 0;
    let n = 0;
    while (n < taken.length && (n === 0 || tokens + taken[n]!.item.length <= this.limits.maxTokens)) tokens += taken[n++]!.item.length;
    lane.giveBack(taken.slice(n));
    return taken.slice(0, n).map((e) => e.item);
  }

  /**
   * Splits length-sorted entries into contiguous runs that fit the limits and
   * minimise Σ(size × longest + runCost), by dynamic programming over prefixes
   * (the window is at most 4 × maxSize long), and returns the run holding `pivot`.
   */
  private runAround(sorted: Entry<T>[], pivot: number): [number, number] {
    const { maxTokens, maxSize, runCostTokens = 16 } = this.limits;
    const n = sorted.length;
    const best = new Float64Array(n + 1).fill(Infinity);
    const start = new Int32Array(n + 1);
    best[0] = 0;
    for (let j = 1; j <= n; j++) {
      const longest = sorted[j - 1]!.item.length;
      for (let i = j - 1; i >= 0; i--) {
        const size = j - i;
        // A single over-long sequence still runs alone; anything larger must fit.
        if (size > 1 && (size > maxSize || size * longest > maxTokens)) break;
        const cost = best[i]! + size * longest + runCostTokens;
        if (cost < best[j]!) {
          best[j] = cost;
          start[j] = i;
        }
      }
    }
    for (let j = n; j > 0; j = start[j]!) if (start[j]! <= pivot) return [start[j]!, j - 1];
    return [pivot, pivot];
  }

  /** Removes everything (used when the encoder fails and every waiter must be told). */
  drain(): T[] {
    return [...this.lanes.interactive.drain(), ...this.lanes.bulk.drain()];
  }
}
