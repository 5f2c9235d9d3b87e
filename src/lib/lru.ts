/** A least-recently-used map bounded by the total size of its values. Map keeps insertion order, so the first key is the oldest. */
export class LruCache<V> {
  private readonly map = new Map<string, V>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly capacity: number,
    private readonly sizeOf: (v: V) => number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.used;
  }

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.used -= this.sizeOf(old);
      this.map.delete(key);
    }
    const size = this.sizeOf(value);
    if (size > this.capacity) return;
    this.map.set(key, value);
    this.used += size;
    for (const [k, v] of this.map) {
      if (this.used <= this.capacity) break;
      this.map.delete(k);
      this.used -= this.sizeOf(v);
    }
  }

  delete(key: string): void {
    const v = this.map.get(key);
    if (v === undefined) return;
    this.used -= this.sizeOf(v);
    this.map.delete(key);
  }

  /** Removes every entry whose key starts with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const k of [...this.map.keys()]) if (k.startsWith(prefix)) this.delete(k);
  }
}
