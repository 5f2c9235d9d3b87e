/**
 * Reading a request body without trusting the client. The length a client
 * announces is checked before a byte is read; a compressed body is inflated
 * under two bounds, the decompressed size and how far it may expand; and a
 * body that stops arriving, or whose sender goes away, ends the read with an
 * error instead of leaving it waiting. JSON bodies (json-body.ts) and example
 * uploads (uploads.ts) both read through here, so both keep the same rules.
 *
 * A read that stops early leaves the rest of the body unread; the error
 * handler then closes the connection after answering (http/errors.ts), so
 * that rest is never read either.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Transform } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { DomainError } from '../errors.js';

export interface BodyLimits {
  /** Most bytes a body may hold, after decompression. */
  maxBytes: number;
  /** How long the whole body may take to arrive, from the start of the read. */
  timeoutMs: number;
}

/**
 * How many times its own size a compressed body may expand to, past the
 * first MiB. Text compresses a few times over; a gzip bomb expands a
 * thousandfold, each small request buying seconds of inflation and hundreds
 * of megabytes of records.
 */
export const MAX_EXPANSION = 100;
const EXPANSION_ALLOWANCE = 1024 ** 2;

export const ENCODINGS = ['gzip', 'deflate', 'identity'] as const;
type Encoding = (typeof ENCODINGS)[number];

/** The body's Content-Encoding, or a 415 naming the ones this service reads. */
function encodingOf(req: IncomingMessage): Encoding {
  const raw = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const found = ENCODINGS.find((e) => e === raw);
  if (!found)
    throw new DomainError('unsupported_encoding', `content encoding "${raw.slice(0, 40)}" is not supported; send gzip, deflate or no Content-Encoding`);
  return found;
}

/** Content-Length, when the client sent a valid one. */
export function announcedLength(req: IncomingMessage): number | undefined {
  const raw = req.headers['content-length'];
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Refuses a body announced over `maxBytes` before reading any of it. */
export function refuseAnnouncedOver(req: IncomingMessage, maxBytes: number): void {
  const length = announcedLength(req);
  if (length !== undefined && length > maxBytes) {
    throw new DomainError('body_too_large', `the request body (${length} bytes announced) exceeds the limit of ${maxBytes} bytes`);
  }
}

function tooLarge(maxBytes: number): DomainError {
  return new DomainError('body_too_large', `the request body exceeds the limit of ${maxBytes} bytes`);
}

/** What a decompression failure says about the body (zlib's codes, not its wording). */
function corrupt(encoding: Encoding, err: unknown): DomainError {
  if (encoding === 'identity') return new DomainError('invalid_body', 'the request body could not be read');
  const code = (err as { code?: unknown }).code;
  const why = code === 'Z_BUF_ERROR' ? 'it ends before the compressed stream does (truncated?)' : 'it is not compressed that way';
  return new DomainError('invalid_body', `the request body is not valid ${encoding} data: ${why}`);
}

/**
 * The body as decompressed chunks. Throws a DomainError: 413 past the size
 * or expansion bound, 415 for an unknown encoding, 400 for corrupt compressed
 * data, 408 when the body does not arrive in time, 499 when the client goes
 * away before sending all of it. A reader that stops early returns the
 * generator, which ends the read.
 */
export async function* bodyChunks(req: IncomingMessage, limits: BodyLimits): AsyncGenerator<Buffer> {
  const encoding = encodingOf(req);
  refuseAnnouncedOver(req, limits.maxBytes);
  const decoder: Transform = encoding === 'gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : new PassThrough();
  // A stream piped from the request waits for ever when the client goes away (pipe carries no errors), so
  // what ends a read early (a deadline, a departed client) fails the decoder instead.
  const stop = (err: DomainError) => decoder.destroy(err);
  const gone = () => {
    if (!req.complete) stop(new DomainError('client_closed_request', 'the client closed the connection before sending the whole body'));
  };
  const timer = setTimeout(
    () => stop(new DomainError('request_timeout', `the request body did not arrive within ${limits.timeoutMs} ms; the connection is closed`)),
    limits.timeoutMs,
  );
  let received = 0;
  const count = (chunk: Buffer) => {
    received += chunk.byteLength;
  };
  req.once('close', gone);
  req.on('data', count);
  req.pipe(decoder);
  if (req.destroyed) gone();
  const chunks = decoder[Symbol.asyncIterator]();
  let total = 0;
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (err) {
        if (err instanceof DomainError) throw err;
        throw corrupt(encoding, err);
      }
      if (next.done) return;
      total += next.value.byteLength;
      if (total > limits.maxBytes) throw tooLarge(limits.maxBytes);
      if (encoding !== 'identity' && total > EXPANSION_ALLOWANCE && total > MAX_EXPANSION * received) {
        throw new DomainError(
          'body_too_large',
          `the ${encoding} body expands more than ${MAX_EXPANSION} times its size (${received} bytes sent, ${total} so far); send it less compressed`,
        );
      }
      yield next.value;
    }
  } finally {
    clearTimeout(timer);
    req.off('close', gone);
    req.off('data', count);
    req.unpipe(decoder);
    decoder.destroy();
  }
}

/** The whole body in one buffer (JSON bodies: small, and parsed whole anyway). */
export async function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of bodyChunks(req, limits)) parts.push(chunk);
  return Buffer.concat(parts);
}
