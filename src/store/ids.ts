/** Identifiers, hashes and cursors shared by the store implementations. */
import { createHash, randomBytes } from 'node:crypto';
import { DomainError } from '../errors.js';

/** `task_…`, `job_…`: a prefix that says what the id names, then 96 random bits. */
export function newId(prefix: 'task' | 'job' | 'ver' | 'client' | 'key'): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

/** The key of a text in the feature cache and the duplicate check: SHA-256 of its UTF-8 bytes. */
export function textHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** Paging cursors are opaque to clients: (created_at, id) of the last row seen. */
export function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

/** The position a client's `after` names (none when absent); a cursor this service did not issue is an invalid_cursor error. */
export function decodeCursor(cursor: string | undefined): [number, string] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through: a cursor we did not issue
  }
  throw new DomainError('invalid_cursor', 'the "after" cursor is not one this service issued', 'after');
}

/** Float32 features as stored bytes, and back (copying: stored buffers need not be aligned). */
export function vectorToBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function bytesToVector(b: Uint8Array): Float32Array {
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
