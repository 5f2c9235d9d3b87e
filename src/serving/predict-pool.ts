/**
 * Worker threads that score features with trained heads. A request goes to a
 * worker that already holds its version when one is free enough, else to the
 * least busy one, which gets the artifact with the request.
 */
import { evenRanges } from '../lib/ranges.js';
import { WorkerChannel } from '../workers/channel.js';
import type { PredictApi } from './predict-protocol.js';

interface Slot {
  channel: WorkerChannel<PredictApi>;
  busy: number;
  /** Versions this worker has loaded (or is loading), as far as this side knows. */
  holds: Set<string>;
}

/** Below this many rows a part is not worth a message and a second worker's copy of the head. */
const MIN_ROWS_PER_PART = 128;

export interface PredictPoolOptions {
  threads: number;
  /** Predictors each worker keeps loaded. */
  maxPredictors: number;
}

export class PredictPool {
  private readonly slots: Slot[] = [];

  constructor(private readonly options: PredictPoolOptions) {
    for (let i = 0; i < Math.max(1, options.threads); i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const channel = new WorkerChannel<PredictApi>({
      url: new URL('./predict-worker.js', import.meta.url),
      name: 'predict worker',
      workerData: { maxPredictors: this.options.maxPredictors },
      restartDelayMs: 0,
    });
    const slot: Slot = { channel, busy: 0, holds: new Set() };
    // A replacement worker holds nothing.
    channel.on('exit', () => slot.holds.clear());
    return slot;
  }

  private choose(versionId: string, spread: boolean): Slot {
    const least = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const holder = this.slots.filter((s) => s.holds.has(versionId)).reduce<Slot | undefined>((a, b) => (!a || b.busy < a.busy ? b : a), undefined);
    // Loading an artifact costs more than waiting behind one request, but the parts of a split batch must run side by side.
    return holder && holder.busy <= least.busy + (spread ? 0 : 1) ? holder : least;
  }

  /**
   * n × classes probabilities for `x` under `versionId`; `artifact` supplies the
   * stored bytes when a worker needs them. A large batch is split over the
   * workers so that one big request uses every core.
   */
  async predict(versionId: string, artifact: () => Promise<Uint8Array>, x: Float32Array, n: number): Promise<Float32Array> {
    const parts = Math.min(this.slots.length, Math.floor(n / MIN_ROWS_PER_PART));
    if (parts < 2) return this.predictPart(versionId, artifact, x, n, false);
    const dim = x.length / n;
    const ranges = evenRanges(n, parts);
    const results = await Promise.all(ranges.map(([from, to]) => this.predictPart(versionId, artifact, x.slice(from * dim, to * dim), to - from, true)));
    const width = results[0]!.length / (ranges[0]![1] - ranges[0]![0]);
    const out = new Float32Array(width * n);
    for (const [i, r] of results.entries()) out.set(r, ranges[i]![0] * width);
    return out;
  }

  private predictPart(versionId: string, artifact: () => Promise<Uint8Array>, x: Float32Array, n: number, spread: boolean): Promise<Float32Array> {
    const run = async (forceArtifact: boolean): Promise<Float32Array> => {
      const slot = this.choose(versionId, spread);
      // Marked before the artifact is read: the other parts of a split batch choose other workers, and
      // requests arriving meanwhile queue behind this load instead of parsing the same head on another worker
      // (one that overtakes it is answered 'missing' and retried with the artifact).
      slot.busy++;
      const held = slot.holds.has(versionId);
      slot.holds.add(versionId);
      let bytes: Uint8Array | undefined;
      try {
        bytes = forceArtifact || !held ? await artifact() : undefined;
      } catch (err) {
        slot.busy--;
        if (!held) slot.holds.delete(versionId);
        throw err;
      }
      let r: Awaited<ReturnType<typeof slot.channel.call<'predict'>>>;
      try {
        r = await slot.channel.call('predict', { versionId, x, n, ...(bytes ? { artifact: bytes } : {}) });
      } finally {
        slot.busy--;
      }
      return 'missing' in r ? run(true) : r.probabilities;
    };
    return run(false);
  }

  /** Forgets which workers hold a version (after it was deleted); workers evict it as they load others. */
  forget(versionId: string): void {
    for (const s of this.slots) s.holds.delete(versionId);
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.channel.stop()));
  }
}
