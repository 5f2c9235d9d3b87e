/**
 * Main-thread side of one model's encoder: sends texts to the worker thread
 * that owns the ONNX session (through a WorkerChannel) and resolves each call
 * with its features. Interactive texts waiting beyond a bound fail fast as
 * overloaded; a worker that dies fails its calls and is restarted.
 *
 * Fine-tuned versions' stacks: the worker says which it holds (an event each
 * time that changes), and a call carries the stored bytes of those its specs
 * need that it does not; where the record was behind (calls overtaking each
 * other), the worker answers `missing` and the call is sent again with them.
 */
import { EventEmitter } from 'node:events';
import { DomainError } from '../errors.js';
import { WorkerChannel } from '../workers/channel.js';
import { QueueAdmission } from './admission.js';
import type { Lane } from './batch-queue.js';
import type { FeatureSpec } from './feature-spec.js';
import type { ModelManifest } from './manifest.js';
import type { BatchStats, EncoderApi, EncoderEvent, WorkerInit } from './encoder-protocol.js';

/** What the worker is started with, and the main thread's own bounds. */
export interface EncoderOptions extends WorkerInit {
  /** Interactive texts allowed to wait at once; beyond it calls fail fast as overloaded. */
  maxQueuedTexts: number;
  /** Longest predicted wait of an interactive call's texts before it fails fast as overloaded (0: only the text bound). */
  maxQueueWaitMs?: number;
}

export interface EncodeOptions {
  lane?: Lane;
  /** Cut over-long inputs (default) or fail with `input_too_long`. */
  truncate?: boolean;
  /** Aborting drops the texts that have not run yet. */
  signal?: AbortSignal;
  /** A fine-tuned version's stored stack (encodeTunedStack's bytes), for the specs that name one the worker does not hold. */
  stack?: (version: string) => Promise<Uint8Array>;
}

export interface EncodeResult {
  /** One array per spec: texts × dimensions, row-major. */
  features: Float32Array[];
  /** Tokens per text after truncation, special tokens included. */
  tokenCounts: Int32Array;
  tokens: number;
}

export interface EncoderEvents {
  batch: [BatchStats];
  restart: [string];
  /** The versions whose stacks the worker holds now. */
  stacks: [string[]];
}

/** A worker that cannot load its model is retried after this pause, so it does not spin. */
const RESTART_DELAY_MS = 1000;

export class Encoder extends EventEmitter<EncoderEvents> {
  private readonly channel: WorkerChannel<EncoderApi, EncoderEvent>;
  private readonly waiting: Record<Lane, number> = { interactive: 0, bulk: 0 };
  private readonly admission: QueueAdmission;
  /** Fine-tuned versions whose stacks the worker holds, as it last said. */
  private heldStacks = new Set<string>();

  private constructor(private readonly options: EncoderOptions) {
    super();
    const { maxQueuedTexts: _, maxQueueWaitMs: __, ...init } = options;
    this.channel = new WorkerChannel({
      url: new URL('./encoder-worker.js', import.meta.url),
      name: `encoder ${options.manifest.name}`,
      workerData: init satisfies WorkerInit,
      restartDelayMs: RESTART_DELAY_MS,
    });
    this.admission = new QueueAdmission({ maxQueuedTexts: options.maxQueuedTexts, maxWaitMs: options.maxQueueWaitMs ?? 0 });
    this.channel.on('event', (e) => {
      if (e.type === 'stacks') {
        this.heldStacks = new Set(e.held);
        this.emit('stacks', e.held);
        return;
      }
      this.admission.observe(e.stats.size, e.stats.inferenceMs);
      this.emit('batch', e.stats);
    });
    this.channel.on('exit', (reason) => {
      // A replacement worker holds no stacks.
      this.heldStacks = new Set();
      this.emit('restart', reason);
    });
  }

  /** Starts the worker and resolves once the model is loaded and warmed up. */
  static async start(options: EncoderOptions): Promise<Encoder> {
    const encoder = new Encoder(options);
    try {
      await encoder.channel.whenReady();
    } catch (err) {
      await encoder.close();
      throw err;
    }
    return encoder;
  }

  get manifest(): ModelManifest {
    return this.options.manifest;
  }

  /** The imported model's folder (onnx/model.onnx, tokenizer.json). */
  get modelDir(): string {
    return this.options.modelDir;
  }

  get ready(): boolean {
    return this.channel.ready;
  }

  /** Fine-tuned versions whose stacks the worker holds, least recently used first (as the worker last said). */
  get stacks(): string[] {
    return [...this.heldStacks];
  }

  /** Texts submitted and not yet answered, all lanes. */
  get queuedTexts(): number {
    return this.waiting.interactive + this.waiting.bulk;
  }

  async encode(texts: string[], specs: FeatureSpec[], options: EncodeOptions = {}): Promise<EncodeResult> {
    const lane = options.lane ?? 'interactive';
    const name = this.manifest.name;
    if (!this.channel.ready) throw new DomainError('encoder_unavailable', `encoder ${name} is not ready`);
    if (lane === 'interactive') {
      const admission = this.admission.admit(this.waiting.interactive, texts.length);
      if (!admission.admitted) {
        throw new DomainError('overloaded', `encoder ${name} is busy: ${admission.reason}; try again shortly`).retryAfter(admission.retryAfterMs / 1000);
      }
    }
    if (texts.length === 0) return { features: specs.map(() => new Float32Array(0)), tokenCounts: new Int32Array(0), tokens: 0 };
    this.waiting[lane] += texts.length;
    try {
      const versions = [...new Set(specs.flatMap((s) => (s.tuned ? [s.tuned.version] : [])))];
      const call = async (send: string[]) => {
        const stacks: Record<string, Uint8Array> = {};
        for (const v of send) {
          if (!options.stack) throw new Error(`fine-tuned version ${v}'s stack was not given`);
          stacks[v] = await options.stack(v);
        }
        const args = { texts, specs, truncate: options.truncate ?? true, lane, ...(send.length ? { stacks } : {}) };
        return this.channel.call('encode', args, options.signal ? { signal: options.signal } : {});
      };
      let r = await call(versions.filter((v) => !this.heldStacks.has(v)));
      if ('missing' in r) r = await call(r.missing);
      if ('missing' in r) throw new Error(`the encoder worker lost the stacks of ${r.missing.join(', ')} it was sent`);
      let tokens = 0;
      for (const c of r.tokenCounts) tokens += c;
      return { features: r.features, tokenCounts: r.tokenCounts, tokens };
    } catch (err) {
      // A dead or restarting worker is this model being unavailable, whichever way it went.
      if (err instanceof DomainError && (err.code === 'worker_crashed' || err.code === 'shutdown')) {
        throw new DomainError('encoder_unavailable', `encoder ${name} is unavailable: ${err.message}`);
      }
      throw err;
    } finally {
      this.waiting[lane] -= texts.length;
    }
  }

  /** Deleted fine-tuned versions: the worker drops their stacks (a run using one finishes first). */
  forgetStacks(versions: string[]): void {
    if (versions.length === 0) return;
    for (const v of versions) this.heldStacks.delete(v);
    // Told even when the record says it holds none: the record may be behind. A dead worker holds nothing anyway.
    this.channel.call('forgetStacks', { versions }).catch(() => undefined);
  }

  /**
   * Stops the worker after its current run. Calls still waiting fail as
   * unavailable; the worker exits by itself.
   */
  close(): Promise<void> {
    return this.channel.stop();
  }
}
