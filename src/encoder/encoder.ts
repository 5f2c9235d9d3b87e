/**
 * Main-thread side of one model's encoder: sends texts to the worker thread
 * that owns the ONNX session and resolves each call with its features.
 * A worker that dies fails its in-flight calls and is restarted.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { DomainError } from '../errors.js';
import type { Lane } from './batch-queue.js';
import type { FeatureSpec } from './feature-spec.js';
import type { ModelManifest } from './import/importer.js';
import type { BatchStats, FromWorker, ToWorker, WorkerInit } from './protocol.js';

export interface EncoderOptions {
  modelDir: string;
  manifest: ModelManifest;
  threads: number;
  spin: boolean;
  maxBatchTokens: number;
  maxBatchSize: number;
  /** Interactive texts allowed to wait at once; beyond it calls fail fast as overloaded. */
  maxQueuedTexts: number;
}

export interface EncodeOptions {
  lane?: Lane;
  /** Cut over-long inputs (default) or fail with `input_too_long`. */
  truncate?: boolean;
  /** Aborting drops the texts that have not run yet. */
  signal?: AbortSignal;
}

export interface EncodeResult {
  /** One array per spec: texts × dimensions, row-major. */
  features: Float32Array[];
  /** Tokens per text after truncation, special tokens included. */
  tokenCounts: Int32Array;
  tokens: number;
}

interface Pending {
  resolve: (r: EncodeResult) => void;
  reject: (e: Error) => void;
  texts: number;
  lane: Lane;
  cleanup: () => void;
}

export interface EncoderEvents {
  batch: [BatchStats];
  restart: [string];
}

export class Encoder extends EventEmitter<EncoderEvents> {
  private worker!: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private interactiveQueued = 0;
  private isReady = false;
  private closing = false;
  private startup!: Promise<void>;

  private constructor(private readonly options: EncoderOptions) {
    super();
  }

  /** Starts the worker and resolves once the model is loaded and warmed up. */
  static async start(options: EncoderOptions): Promise<Encoder> {
    const encoder = new Encoder(options);
    encoder.spawn();
    await encoder.startup;
    return encoder;
  }

  get manifest(): ModelManifest {
    return this.options.manifest;
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Texts submitted and not yet answered, all lanes. */
  get queuedTexts(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.texts;
    return n;
  }

  private spawn(): void {
    const init: WorkerInit = {
      modelDir: this.options.modelDir,
      manifest: this.options.manifest,
      threads: this.options.threads,
      spin: this.options.spin,
      maxBatchTokens: this.options.maxBatchTokens,
      maxBatchSize: this.options.maxBatchSize,
    };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    this.worker = worker;
    this.startup = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          this.isReady = true;
          resolve();
        } else this.onMessage(m);
      });
      const fail = (reason: string) => {
        if (this.worker !== worker) return;
        this.isReady = false;
        this.failAll(new DomainError('encoder_unavailable', `encoder ${this.manifest.name} stopped: ${reason}`));
        reject(new Error(reason));
        if (!this.closing) {
          this.emit('restart', reason);
          // Restart after a pause so a model that cannot load does not spin.
          setTimeout(() => !this.closing && this.spawn(), 1000).unref();
        }
      };
      worker.on('error', (err) => fail(err.message));
      worker.on('exit', (code) => fail(`worker exited with code ${code}`));
    });
    this.startup.catch(() => undefined); // a restart's failure is reported through `restart`, not as an unhandled rejection
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'batch') {
      this.emit('batch', m.stats);
      return;
    }
    if (m.type === 'fatal') {
      this.failAll(new DomainError('encoder_unavailable', m.message));
      return;
    }
    if (m.type === 'ready') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.settle(m.id, p);
    if (m.type === 'result') {
      let tokens = 0;
      for (const c of m.tokenCounts) tokens += c;
      p.resolve({ features: m.features, tokenCounts: m.tokenCounts, tokens });
    } else p.reject(new DomainError(m.code, m.message, m.index === undefined ? null : `input[${m.index}]`));
  }

  private settle(id: number, p: Pending): void {
    this.pending.delete(id);
    if (p.lane === 'interactive') this.interactiveQueued -= p.texts;
    p.cleanup();
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      this.settle(id, p);
      p.reject(err);
    }
  }

  encode(texts: string[], specs: FeatureSpec[], options: EncodeOptions = {}): Promise<EncodeResult> {
    const lane = options.lane ?? 'interactive';
    if (!this.isReady) return Promise.reject(new DomainError('encoder_unavailable', `encoder ${this.manifest.name} is not ready`));
    if (lane === 'interactive' && this.interactiveQueued + texts.length > this.options.maxQueuedTexts) {
      return Promise.reject(new DomainError('overloaded', `encoder ${this.manifest.name} has ${this.interactiveQueued} texts waiting; try again shortly`));
    }
    if (texts.length === 0) return Promise.resolve({ features: specs.map(() => new Float32Array(0)), tokenCounts: new Int32Array(0), tokens: 0 });
    if (options.signal?.aborted) return Promise.reject(new DomainError('client_closed_request', 'the client closed the request'));
    const id = this.nextId++;
    return new Promise<EncodeResult>((resolve, reject) => {
      const onAbort = () => {
        const p = this.pending.get(id);
        if (!p) return;
        this.settle(id, p);
        this.post({ type: 'cancel', id });
        reject(new DomainError('client_closed_request', 'the client closed the request'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => options.signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, { resolve, reject, texts: texts.length, lane, cleanup });
      if (lane === 'interactive') this.interactiveQueued += texts.length;
      this.post({ type: 'encode', id, texts, specs, truncate: options.truncate ?? true, lane });
    });
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  /**
   * Stops the worker after its current run. Calls still waiting fail as
   * unavailable. The worker exits by itself: terminating a thread inside an
   * onnxruntime call aborts the whole process.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.isReady = false;
    this.failAll(new DomainError('encoder_unavailable', 'encoder is shutting down'));
    const exited = new Promise<void>((ok) => this.worker.once('exit', () => ok()));
    this.post({ type: 'shutdown' });
    await exited;
  }
}
