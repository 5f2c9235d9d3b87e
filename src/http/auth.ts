/**
 * Who a request acts for, from its `Authorization: Bearer <key>` header (what
 * the openai client sends as its apiKey).
 *
 * Without an admin key configured the service has one open client: every
 * request acts for it with every client scope, and keys are ignored. With one,
 * the admin key manages clients and keys, and every other request needs a
 * client key: `tfd.<key id>.<secret>`, the secret 192 random bits. Only a
 * SHA-256 of the secret is stored (a hash that fast is safe for a secret that
 * random: there is nothing to guess), and comparisons take constant time.
 *
 * Keys are cached per replica for a second at most, and a revocation's change
 * notice drops the cached key on every replica at once, so a revoked key stops
 * working everywhere within a second even if a notice were lost.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { DomainError } from '../errors.js';
import { DEFAULT_CLIENT, type KeyRecord, SCOPES, type Scope, type ClientStore } from '../store/types.js';

export interface Principal {
  /** The client whose records the request reads and writes (none for the admin key). */
  client: string;
  scopes: ReadonlySet<Scope>;
  /** The key used, when keys are on. */
  keyId: string | null;
}

const CLIENT_SCOPES = SCOPES.filter((s) => s !== 'admin');
const KEY_PREFIX = 'tfd';
/** How long a replica trusts what it read of a key. */
const KEY_CACHE_MS = 1000;
/** Bounds the cache: keys are few, but unknown ids sent by anyone are cached too (briefly). */
const KEY_CACHE_ENTRIES = 10_000;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** A new key secret (handed to the client once, inside the key string) and the hash that is stored. */
export function newKeySecret(): { secret: string; secretHash: string } {
  const secret = randomBytes(24).toString('base64url');
  return { secret, secretHash: sha256(secret).toString('hex') };
}

export const keyString = (keyId: string, secret: string) => `${KEY_PREFIX}.${keyId}.${secret}`;

export class Authenticator {
  private readonly adminHash: Buffer | undefined;
  private readonly cache = new Map<string, { record: KeyRecord | undefined; until: number }>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Pick<ClientStore, 'findKey' | 'onKeyChange'>,
    adminKey: string | undefined,
  ) {
    this.adminHash = adminKey === undefined ? undefined : sha256(adminKey);
    this.unsubscribe = store.onKeyChange((c) => (c.keyId === '*' ? this.cache.clear() : this.cache.delete(c.keyId)));
  }

  /** Whether requests need keys (an admin key is configured). */
  get keysOn(): boolean {
    return this.adminHash !== undefined;
  }

  close(): void {
    this.unsubscribe();
  }

  async authenticate(req: Request): Promise<Principal> {
    if (!this.adminHash) return { client: DEFAULT_CLIENT, scopes: new Set(CLIENT_SCOPES), keyId: null };
    const header = req.headers.authorization;
    if (!header) throw unauthorized('missing_api_key', 'send an API key: Authorization: Bearer <key>');
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match) throw unauthorized('invalid_api_key', 'the Authorization header must be "Bearer <key>"');
    const key = match[1]!;
    if (timingSafeEqual(sha256(key), this.adminHash)) return { client: '', scopes: new Set<Scope>(['admin']), keyId: null };
    const parts = key.split('.');
    if (parts.length !== 3 || parts[0] !== KEY_PREFIX || !parts[1] || !parts[2]) throw unauthorized('invalid_api_key', 'the API key is not valid');
    const record = await this.lookup(parts[1]);
    // The hash is compared even for an unknown id, so that a wrong id and a wrong secret take the same time.
    const expected = record ? Buffer.from(record.secretHash, 'hex') : Buffer.alloc(32);
    const matches = timingSafeEqual(sha256(parts[2]), expected) && record !== undefined;
    if (!matches || !record || record.revokedAt !== null) throw unauthorized('invalid_api_key', 'the API key is not valid (revoked, deleted or mistyped)');
    return { client: record.clientId, scopes: new Set(record.scopes), keyId: record.id };
  }

  private async lookup(keyId: string): Promise<KeyRecord | undefined> {
    const now = Date.now();
    const cached = this.cache.get(keyId);
    if (cached && cached.until > now) return cached.record;
    const record = await this.store.findKey(keyId);
    if (this.cache.size >= KEY_CACHE_ENTRIES) this.cache.clear();
    this.cache.set(keyId, { record, until: now + KEY_CACHE_MS });
    return record;
  }
}

function unauthorized(code: 'missing_api_key' | 'invalid_api_key', message: string): DomainError {
  return new DomainError(code, message);
}

/** Refuses a principal that lacks `scope`. */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) {
    throw new DomainError(
      'insufficient_scope',
      `this key may not do that: it needs the "${scope}" scope (it has: ${[...principal.scopes].join(', ') || 'none'})`,
    );
  }
}
