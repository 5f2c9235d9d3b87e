/**
 * The fine-tuned versions' stacks an encoder worker keeps loaded: each a
 * session of its own over the version's tuned layers (./tuned-stack-graph.ts,
 * fused attention like the shared graph), kept by HeldHeads's rule: the most
 * recently used within a byte bound (their fp32 weights), the newest always.
 *
 * A stack is counted in use by every request that needs it and by the run
 * that runs it; one pushed out (or forgotten) while in use goes when the last
 * of them lets go, so a run never loses its session.
 */
import * as ort from 'onnxruntime-node';
import { DomainError } from '../errors.js';
import { HeldHeads } from '../lib/held-heads.js';
import type { LayerDims } from './import/layer-stack.js';
import type { ModelManifest } from './manifest.js';
import { decodeTunedStack, tunedStackBytes } from './tuned-stack.js';
import { tunedStackGraph } from './tuned-stack-graph.js';

export interface LoadedStack {
  readonly version: string;
  readonly first: number;
  readonly last: number;
  readonly session: ort.InferenceSession;
  /** Requests and runs using it now. */
  users: number;
  /** No longer held: released when its last user lets go. */
  dropped: boolean;
}

interface Loading {
  promise: Promise<LoadedStack>;
  /** Requests waiting for it: each is a user once it is loaded. */
  waiters: number;
}

export interface LoadedStacksOptions {
  manifest: ModelManifest;
  /** The model's layer dimensions (its config.json), read when the first stack loads. */
  dims: () => LayerDims;
  maxBytes: number;
  session: ort.InferenceSession.SessionOptions;
  /** Called with the versions held whenever that changes. */
  onChange: (held: string[]) => void;
}

export class LoadedStacks {
  private readonly stacks = new Map<string, LoadedStack>();
  private readonly loading = new Map<string, Loading>();
  private readonly held: HeldHeads;
  private dims: LayerDims | undefined;

  constructor(private readonly options: LoadedStacksOptions) {
    this.held = new HeldHeads({ count: Number.POSITIVE_INFINITY, bytes: options.maxBytes });
  }

  /** Held or being loaded: a request for it needs no bytes. */
  has(version: string): boolean {
    return this.stacks.has(version) || this.loading.has(version);
  }

  /** The versions held, least recently used first. */
  versions(): string[] {
    return this.held.ids();
  }

  /**
   * The stack of `version`, a use counted until `release`: the one held, the
   * one being loaded, or one loaded from `bytes`. Held ones are taken at once
   * (before any other call can push them out).
   */
  acquire(version: string, bytes: Uint8Array | undefined): LoadedStack | Promise<LoadedStack> {
    const held = this.stacks.get(version);
    if (held) {
      const recent = this.held.ids().at(-1) === version;
      this.held.use(version, 0);
      held.users++;
      // The order is news too: the main side's record of what is held stays in the worker's order.
      if (!recent) this.options.onChange(this.versions());
      return held;
    }
    let loading = this.loading.get(version);
    if (!loading) {
      if (!bytes) throw new Error(`stack of version ${version} is neither held nor given`);
      loading = this.load(version, bytes);
    }
    loading.waiters++;
    return loading.promise;
  }

  /** Marks a use for a run (of a stack a request already holds). */
  retain(stack: LoadedStack): void {
    stack.users++;
  }

  release(stack: LoadedStack): void {
    if (--stack.users === 0 && stack.dropped) void stack.session.release();
  }

  /** Deleted versions: dropped now, or when their last user lets go. */
  forget(versions: readonly string[]): void {
    let changed = false;
    for (const v of versions) {
      const s = this.stacks.get(v);
      if (!s) continue;
      this.held.delete(v);
      this.drop(s);
      changed = true;
    }
    if (changed) this.options.onChange(this.versions());
  }

  private drop(s: LoadedStack): void {
    this.stacks.delete(s.version);
    s.dropped = true;
    if (s.users === 0) void s.session.release();
  }

  private layerDims(): LayerDims {
    this.dims ??= this.options.dims();
    return this.dims;
  }

  private load(version: string, bytes: Uint8Array): Loading {
    const entry = { waiters: 0 } as Loading;
    // In the map before the load starts: its end (even a failure before its first await) takes it out.
    this.loading.set(version, entry);
    entry.promise = (async () => {
      try {
        const stack = decodeTunedStack(bytes);
        const { manifest } = this.options;
        if (stack.model.name !== manifest.name || stack.model.sourceSha256 !== manifest.sourceSha256) {
          throw new DomainError(
            'model_unavailable',
            `the fine-tuned version's layers were tuned on another import of ${stack.model.name} than the one loaded (${manifest.name}): load the model it was tuned on`,
          );
        }
        if (stack.last >= manifest.layers) throw new Error(`tuned stack layers [${stack.first}, ${stack.last}] outside the model's ${manifest.layers}`);
        const session = await ort.InferenceSession.create(tunedStackGraph(stack, this.layerDims()), this.options.session);
        const loaded: LoadedStack = { version, first: stack.first, last: stack.last, session, users: entry.waiters, dropped: false };
        this.stacks.set(version, loaded);
        for (const gone of this.held.use(version, tunedStackBytes(stack))) this.drop(this.stacks.get(gone)!);
        this.options.onChange(this.versions());
        return loaded;
      } finally {
        this.loading.delete(version);
      }
    })();
    return entry;
  }

  /** Releases every stack not in use (the worker stops). */
  clear(): void {
    for (const s of [...this.stacks.values()]) this.drop(s);
    this.held.clear();
  }
}
