/**
 * Fine-tuned versions' stored stacks on the main thread: read from the store
 * when an encoder worker needs one it does not hold (../encoder/encoder.ts
 * asks), kept as stored (compressed) within a byte bound, and read once
 * however many calls want the same one at once. A deleted version's stack is
 * dropped here and from every encoder worker (PredictionService calls
 * `forget` on the store's change notices, so on every replica).
 */
import { DomainError } from '../errors.js';
import type { ModelRegistry } from '../encoder/registry.js';
import { LruCache } from '../lib/lru.js';
import type { VersionStore } from '../store/types.js';

export class TunedStackCache {
  private readonly cached: LruCache<Uint8Array>;
  private readonly reading = new Map<string, Promise<Uint8Array>>();
  /** Bumped by every forget: a read that started before one does not cache what it read. */
  private generation = 0;

  constructor(
    private readonly store: Pick<VersionStore, 'getTunedStack'>,
    private readonly models: ModelRegistry,
    maxBytes: number,
  ) {
    this.cached = new LruCache(maxBytes, (b) => b.byteLength);
  }

  /** Bytes of stacks kept here now. */
  get bytes(): number {
    return this.cached.bytes;
  }

  /** The stored stack of `client`'s fine-tuned version `version`. */
  load(client: string, version: string): Promise<Uint8Array> {
    const key = `${version}|${client}`;
    const cached = this.cached.get(key);
    if (cached) return Promise.resolve(cached);
    let reading = this.reading.get(key);
    if (!reading) {
      const generation = this.generation;
      reading = (async () => {
        try {
          const bytes = await this.store.getTunedStack(client, version);
          if (!bytes) throw new DomainError('version_not_found', 'the fine-tuned version was deleted', 'version');
          if (generation === this.generation) this.cached.set(key, bytes);
          return bytes;
        } finally {
          this.reading.delete(key);
        }
      })();
      this.reading.set(key, reading);
    }
    return reading;
  }

  /** Deleted versions: their stacks go from here and from every encoder worker. */
  forget(versions: readonly string[]): void {
    if (versions.length === 0) return;
    this.generation++;
    for (const v of versions) this.cached.deletePrefix(`${v}|`);
    for (const encoder of this.models.all()) encoder.forgetStacks([...versions]);
  }
}
