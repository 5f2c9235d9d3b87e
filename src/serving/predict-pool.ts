/**
 * Worker threads that score features with trained heads. A request goes to a
 * worker that already holds its version when one is free enough, else to the
 * least busy one, which gets the artifact with the request.
 *
 * Each worker keeps the heads held-heads.ts allows (the most recently used,
 * within a count and a size), and the pool tracks what it holds by the same
 * rule, so the record stays as small as the worker's cache however many
 * versions pass through. Where the two disagree (calls overtaking each
 * other), the worker answers `missing` and the call is sent again with the
 * artifact.
 */
import { DomainError } from '../errors.js';
import { evenRanges } from '../lib/ranges.js';
import { WorkerChannel } from '../workers/channel.js';
import { HeldHeads } from '../lib/held-heads.js';
import type { PredictApi } from './predict-protocol.js';
import type { TypicalInput, TypicalPick } from './typical-picks.js';

interface Slot {
  channel: WorkerChannel<PredictApi>;
  busy: number;
  /** Versions this worker has loaded (or is loading), as far as this side knows. */
  holds: HeldHeads;
}

/** Below this many rows a part is not worth a message and a second worker's copy of the head. */
const MIN_ROWS_PER_PART = 128;

export interface PredictPoolOptions {
  threads: number;
  /** Predictors each worker keeps loaded. */
  maxPredictors: number;
  /** Uncompressed artifact bytes of the predictors each worker keeps loaded (default 256 MB); a loaded head takes once or twice its artifact's size. */
  maxPredictorBytes?: number;
  /** Longest predicted wait of a call's rows for a worker before it is refused as overloaded (0 or unset: never). */
  maxWaitMs?: number;
}

/** Versions whose cost per row is remembered (the most recently scored). */
const COST_ENTRIES = 1000;
/** Weight of a new observation in a version's cost per row. */
const COST_WEIGHT = 0.2;

const DEFAULT_PREDICTOR_BYTES = 256 * 1024 ** 2;

/**
 * Admission: heads differ a hundredfold in cost per row (a 77-class SVM
 * against a forest), so the pool learns each version's cost from the time its
 * worker took, keeps the predicted work of the calls in flight, and refuses a
 * call (429 `overloaded`, Retry-After) when the work ahead of it would keep it
 * waiting longer than `maxWaitMs`: the calls it takes keep a bounded latency
 * instead of all of them slowing down together.
 */
export class PredictPool {
  private readonly slots: Slot[] = [];
  private readonly msPerRow = new Map<string, number>();
  /** Predicted worker milliseconds of the calls admitted and not answered. */
  private pendingMs = 0;

  constructor(private readonly options: PredictPoolOptions) {
    for (let i = 0; i < Math.max(1, options.threads); i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const limits = { count: this.options.maxPredictors, bytes: this.options.maxPredictorBytes ?? DEFAULT_PREDICTOR_BYTES };
    const channel = new WorkerChannel<PredictApi>({
      url: new URL('./predict-worker.js', import.meta.url),
      name: 'predict worker',
      workerData: limits,
      restartDelayMs: 0,
    });
    const slot: Slot = { channel, busy: 0, holds: new HeldHeads(limits) };
    // A replacement worker holds nothing.
    channel.on('exit', () => slot.holds.clear());
    return slot;
  }

  /** The versions each worker is believed to hold, least recently used first (for tests and diagnostics). */
  held(): string[][] {
    return this.slots.map((s) => s.holds.ids());
  }

  private choose(versionId: string, spread: boolean): Slot {
    const least = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const holder = this.slots.filter((s) => s.holds.has(versionId)).reduce<Slot | undefined>((a, b) => (!a || b.busy < a.busy ? b : a), undefined);
    // Loading an artifact costs more than waiting behind one request, but the parts of a split batch must run side by side.
    return holder && holder.busy <= least.busy + (spread ? 0 : 1) ? holder : least;
  }

  /**
   * n × classes probabilities for `x` under `versionId`; `artifact` supplies the
   * stored bytes when a worker needs them, and `size` is their uncompressed
   * size (VersionRecord.artifactBytes), by which workers bound what they keep.
   * A large batch is split over the workers so that one big request uses every core.
   */
  async predict(versionId: string, artifact: () => Promise<Uint8Array>, x: Float32Array, n: number, size = 0): Promise<Float32Array> {
    const work = n * (this.msPerRow.get(versionId) ?? 0);
    const wait = (this.pendingMs + work) / this.slots.length;
    const maxWaitMs = this.options.maxWaitMs ?? 0;
    // Nothing in flight: the call is taken whatever it costs (refusing it would not make it cheaper).
    if (maxWaitMs > 0 && this.pendingMs > 0 && wait > maxWaitMs) {
      throw new DomainError('overloaded', `the heads are busy: this call would wait about ${Math.round(wait)} ms (the limit is ${maxWaitMs} ms)`).retryAfter(
        (wait - maxWaitMs) / 1000,
      );
    }
    this.pendingMs += work;
    try {
      return await this.predictSplit(versionId, artifact, x, n, size);
    } finally {
      this.pendingMs -= work;
    }
  }

  /** Learns a version's cost per row from a worker's time for `rows` of it. */
  private observe(versionId: string, rows: number, ms: number): void {
    if (rows <= 0) return;
    const perRow = ms / rows;
    const known = this.msPerRow.get(versionId);
    this.msPerRow.delete(versionId);
    this.msPerRow.set(versionId, known === undefined ? perRow : known + COST_WEIGHT * (perRow - known));
    if (this.msPerRow.size > COST_ENTRIES) this.msPerRow.delete(this.msPerRow.keys().next().value!);
  }

  private async predictSplit(versionId: string, artifact: () => Promise<Uint8Array>, x: Float32Array, n: number, size: number): Promise<Float32Array> {
    const parts = Math.min(this.slots.length, Math.floor(n / MIN_ROWS_PER_PART));
    if (parts < 2) return this.predictPart(versionId, artifact, x, n, false, size);
    const dim = x.length / n;
    const ranges = evenRanges(n, parts);
    const results = await Promise.all(ranges.map(([from, to]) => this.predictPart(versionId, artifact, x.slice(from * dim, to * dim), to - from, true, size)));
    const width = results[0]!.length / (ranges[0]![1] - ranges[0]![0]);
    const out = new Float32Array(width * n);
    for (const [i, r] of results.entries()) out.set(r, ranges[i]![0] * width);
    return out;
  }

  private predictPart(
    versionId: string,
    artifact: () => Promise<Uint8Array>,
    x: Float32Array,
    n: number,
    spread: boolean,
    size: number,
  ): Promise<Float32Array> {
    const run = async (forceArtifact: boolean): Promise<Float32Array> => {
      const slot = this.choose(versionId, spread);
      // Marked before the artifact is read: the other parts of a split batch choose other workers, and
      // requests arriving meanwhile queue behind this load instead of parsing the same head on another worker
      // (one that overtakes it is answered 'missing' and retried with the artifact).
      slot.busy++;
      const held = slot.holds.has(versionId);
      slot.holds.use(versionId, size);
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
      if ('missing' in r) return run(true);
      this.observe(versionId, n, r.ms);
      return r.probabilities;
    };
    return run(false);
  }

  /** The labels' prior on n texts from a head's n × k probabilities on them, estimated by the least busy worker. */
  async estimatePrior(probabilities: Float32Array, n: number, k: number): Promise<{ prior: Float64Array; iterations: number }> {
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    try {
      return await slot.channel.call('estimatePrior', { probabilities, n, k });
    } finally {
      slot.busy--;
    }
  }

  /** Suggestions by typicality and coverage, on the least busy worker (clustering 2,000 texts takes about a second). */
  async selectTypical(input: TypicalInput, count: number): Promise<TypicalPick[]> {
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    try {
      return await slot.channel.call('selectTypical', { input, count });
    } finally {
      slot.busy--;
    }
  }

  /** Deleted versions: no worker holds them any longer, and the workers free their predictors now. */
  forget(versionIds: string[]): void {
    if (versionIds.length === 0) return;
    for (const s of this.slots) {
      for (const id of versionIds) s.holds.delete(id);
      // Every worker is told, not only the believed holders: the record here may have let go of a version first.
      // A worker that died or stops holds nothing anyway.
      s.channel.call('forget', { versionIds }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.channel.stop()));
  }
}
