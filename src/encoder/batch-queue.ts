/**
 * The queue behind dynamic batching. Sequences wait in two lanes: interactive
 * (embeddings and predict calls) and bulk (training featurisation), and each
 * ONNX run takes one batch bounded by a padded-token budget.
 *
 * A batch is formed around the oldest waiting sequence of the busiest-priority
 * lane: the lane's first `window` sequences are sorted by length and the batch
 * is the contiguous run around the oldest one that fits the budget, reaching
 * for shorter neighbours first (they do not raise the padded length). Sorting
 * cuts padding; always including the oldest sequence means nothing starves.
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
  /** Largest batch × padded length. */
  maxTokens: number;
  /** Largest number of sequences in one batch. */
  maxSize: number;
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

  /** The next batch, shortest sequence first, or an empty array when nothing waits. */
  next(): T[] {
    const lane = this.lanes.interactive.size > 0 ? this.lanes.interactive : this.lanes.bulk;
    if (lane.size === 0) return [];
    const { maxTokens, maxSize } = this.limits;
    const window = lane.take(maxSize * 4);
    const oldest = window[0]!;
    const sorted = [...window].sort((a, b) => a.item.length - b.item.length || a.arrival - b.arrival);
    const pivot = sorted.indexOf(oldest);
    let lo = pivot;
    let hi = pivot;
    const fits = (from: number, to: number) => to - from + 1 <= maxSize && (to - from + 1) * sorted[to]!.item.length <= maxTokens;
    while (lo > 0 && fits(lo - 1, hi)) lo--;
    while (hi < sorted.length - 1 && fits(lo, hi + 1)) hi++;
    const batch = sorted.slice(lo, hi + 1);
    const chosen = new Set(batch);
    lane.giveBack(window.filter((e) => !chosen.has(e)));
    return batch.map((e) => e.item);
  }

  /** Removes everything (used when the encoder fails and every waiter must be told). */
  drain(): T[] {
    return [...this.lanes.interactive.drain(), ...this.lanes.bulk.drain()];
  }
}
