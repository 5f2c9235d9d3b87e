/**
 * Per-client rate limits over every replica: requests per minute, and
 * encoder tokens per minute. Each replica keeps its own token buckets and
 * sizes them by how many replicas are alive (each replica writes a heartbeat
 * to the store and reads the count back): with N replicas alive a replica
 * lets a client have 1/N of its rate. Whatever the load balancer does, the
 * replicas together then never admit more than the client's rate (plus each
 * bucket's burst); with traffic spread evenly (least-connections does), a
 * client gets its whole rate. A database round trip per request would have
 * cost more than every other part of serving a cached prediction.
 *
 * Tokens are charged after the encoder ran (only then is the count known):
 * a request is refused while the client's token bucket is in debt.
 */
import { DomainError } from '../errors.js';
import type { DefaultLimits } from '../store/sql-store.js';
import type { ReplicaStore, ClientLimits, ClientStore } from '../store/types.js';

/** A token bucket refilled continuously; it may go into debt (charged after the fact), and then admits nothing until repaid. */
export class TokenBucket {
  private level: number;
  private at: number;

  constructor(
    /** Tokens added per millisecond. */
    private ratePerMs: number,
    /** Most tokens it holds (the burst). */
    private capacity: number,
    now: number,
  ) {
    this.level = capacity;
    this.at = now;
  }

  /** Changes rate and capacity (the replica count changed), keeping the level within the new capacity. */
  resize(ratePerMs: number, capacity: number, now: number): void {
    this.refill(now);
    this.ratePerMs = ratePerMs;
    this.capacity = capacity;
    this.level = Math.min(this.level, capacity);
  }

  private refill(now: number): void {
    this.level = Math.min(this.capacity, this.level + (now - this.at) * this.ratePerMs);
    this.at = now;
  }

  /** Takes `n` tokens if the bucket holds them; else returns the milliseconds until it would. */
  take(n: number, now: number): { ok: true } | { ok: false; waitMs: number } {
    this.refill(now);
    if (this.level >= n) {
      this.level -= n;
      return { ok: true };
    }
    return { ok: false, waitMs: (n - this.level) / this.ratePerMs };
  }

  /** Takes `n` tokens whether or not it holds them. */
  charge(n: number, now: number): void {
    this.refill(now);
    this.level -= n;
  }

  /** Milliseconds until the bucket is out of debt (0 when it is not in debt). */
  debtMs(now: number): number {
    this.refill(now);
    return this.level < 0 ? -this.level / this.ratePerMs : 0;
  }
}

/** A bucket's burst: this many seconds of its rate (a client may send a short burst at full speed). */
const BURST_SECONDS = 10;
/** Clients not seen for this long lose their buckets (memory follows the active clients). */
const IDLE_MS = 10 * 60_000;
/** How long a client's own limits are trusted before they are read again. */
const LIMITS_TTL_MS = 5_000;

interface ClientBuckets {
  requests: TokenBucket | null;
  tokens: TokenBucket | null;
  limits: { requestsPerMinute: number; tokensPerMinute: number };
  limitsUntil: number;
  seen: number;
}

export class RateLimiter {
  private readonly clients = new Map<string, ClientBuckets>();
  private replicas = 1;

  constructor(
    private readonly store: ClientStore,
    private readonly defaults: Pick<DefaultLimits, 'requestsPerMinute' | 'tokensPerMinute'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many replicas share each client's rate (from the replica census). */
  setReplicas(n: number): void {
    const replicas = Math.max(1, Math.floor(n));
    if (replicas === this.replicas) return;
    this.replicas = replicas;
    for (const c of this.clients.values()) this.size(c);
  }

  get replicaCount(): number {
    return this.replicas;
  }

  /** Admits one request of `client`, or throws rate_limited with when to retry; `encodes` also refuses a client in token debt. */
  async admit(client: string, encodes: boolean): Promise<void> {
    const c = await this.client(client);
    const now = this.now();
    if (c.requests) {
      const taken = c.requests.take(1, now);
      if (!taken.ok) {
        throw new DomainError('rate_limited', `this client's limit is ${c.limits.requestsPerMinute} requests per minute`).retryAfter(taken.waitMs / 1000);
      }
    }
    const debt = encodes && c.tokens ? c.tokens.debtMs(now) : 0;
    if (debt > 0) throw new DomainError('rate_limited', `this client's limit is ${c.limits.tokensPerMinute} encoder tokens per minute`).retryAfter(debt / 1000);
  }

  /** Charges `tokens` the encoder ran for `client`. */
  async charge(client: string, tokens: number): Promise<void> {
    if (tokens <= 0) return;
    (await this.client(client)).tokens?.charge(tokens, this.now());
  }

  private async client(client: string): Promise<ClientBuckets> {
    const now = this.now();
    let c = this.clients.get(client);
    if (!c || c.limitsUntil <= now) {
      const own = (await this.store.getClient(client))?.limits;
      const limits = {
        requestsPerMinute: pick(own, 'requestsPerMinute', this.defaults.requestsPerMinute),
        tokensPerMinute: pick(own, 'tokensPerMinute', this.defaults.tokensPerMinute),
      };
      c = this.clients.get(client) ?? { requests: null, tokens: null, limits, limitsUntil: 0, seen: now };
      c.limits = limits;
      c.limitsUntil = now + LIMITS_TTL_MS;
      this.size(c);
      this.clients.set(client, c);
      this.forgetIdle(now);
    }
    c.seen = now;
    return c;
  }

  /** (Re)sizes a client's buckets for its limits and the replica count; a limit of 0 means no bucket. */
  private size(c: ClientBuckets): void {
    const now = this.now();
    const shape = (perMinute: number) => {
      const ratePerMs = perMinute / 60_000 / this.replicas;
      return { ratePerMs, capacity: Math.max(1, ratePerMs * BURST_SECONDS * 1000) };
    };
    const bucket = (current: TokenBucket | null, perMinute: number): TokenBucket | null => {
      if (perMinute <= 0) return null;
      const { ratePerMs, capacity } = shape(perMinute);
      if (!current) return new TokenBucket(ratePerMs, capacity, now);
      current.resize(ratePerMs, capacity, now);
      return current;
    };
    c.requests = bucket(c.requests, c.limits.requestsPerMinute);
    c.tokens = bucket(c.tokens, c.limits.tokensPerMinute);
  }

  private forgetIdle(now: number): void {
    for (const [client, c] of this.clients) if (now - c.seen > IDLE_MS) this.clients.delete(client);
  }
}

function pick(own: ClientLimits | undefined, field: 'requestsPerMinute' | 'tokensPerMinute', fallback: number): number {
  const v = own?.[field];
  return v === null || v === undefined ? fallback : v;
}

/** How often a replica says it is alive, and how long after its last word it still counts. */
export const CENSUS_INTERVAL_MS = 2_000;
export const CENSUS_WINDOW_MS = 6_000;

/** Keeps the limiter's replica count current: a heartbeat to the store every CENSUS_INTERVAL_MS. */
export function startCensus(store: ReplicaStore, replicaId: string, limiter: RateLimiter, onError: (err: unknown) => void): () => void {
  const beat = () =>
    store.replicaHeartbeat(replicaId, CENSUS_WINDOW_MS).then(
      (n) => limiter.setReplicas(n),
      (err) => onError(err),
    );
  void beat();
  const timer = setInterval(beat, CENSUS_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
