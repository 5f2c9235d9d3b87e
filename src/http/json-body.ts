/**
 * The JSON body of routes that declare one, read under the body rules of
 * body.ts. It replaces express.json(), which on any error reads the rest of
 * the body before answering: a body announced at 300 MB and sent slowly got
 * no 413 until Node itself gave up on the request minutes later.
 */
import type { Request, RequestHandler } from 'express';
import { DomainError } from '../errors.js';
import { type BodyLimits, readBody, refuseAnnouncedOver } from './body.js';
import { hasBody } from './input.js';

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Deeper nesting than any request of this API needs (its deepest body is five
 * levels). JSON.parse would build a deeper body, one object per level, and
 * everything that walks it afterwards (validation, messages) risks the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** The first place where `bytes` (JSON text) nests deeper than `max`, or -1; strings are skipped, so brackets in them do not count. */
export function tooDeepAt(bytes: Uint8Array, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c)
        i++; // a backslash escapes the next byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) {
      if (++depth > max) return i;
    } else if (b === 0x7d || b === 0x5d) depth--;
  }
  return -1;
}

/** JSON.parse's complaint as a message for the client: a syntax error describes the input; anything else would be the engine talking. */
export function jsonProblem(err: unknown): string {
  return err instanceof SyntaxError ? err.message : 'it could not be parsed';
}

/** Parses JSON text that arrived as bytes, with the depth bound; throws invalid_json. */
export function parseJsonBody(bytes: Buffer): unknown {
  const at = tooDeepAt(bytes, MAX_JSON_DEPTH);
  if (at >= 0) throw new DomainError('invalid_json', `request body nests deeper than ${MAX_JSON_DEPTH} levels (at byte ${at})`);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new DomainError('invalid_json', `request body is not valid JSON: ${jsonProblem(err)}`);
  }
}

function charsetOf(req: Request): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
}

/**
 * Middleware: parses a JSON body into `req.body`. A request with another
 * content type, or none, passes through with `req.body` undefined, and the
 * route's input reader answers for it (415, or no body).
 */
export function jsonBody(limits: BodyLimits): RequestHandler {
  return async (req, _res, next) => {
    req.body = undefined;
    if (!hasBody(req) || !req.is(JSON_TYPES)) return next();
    const charset = charsetOf(req);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      throw new DomainError('unsupported_media_type', `JSON bodies are read as UTF-8; charset "${charset.slice(0, 40)}" is not supported`);
    }
    refuseAnnouncedOver(req, limits.maxBytes);
    const bytes = await readBody(req, limits);
    // An empty body sent chunked reads as {} (as express.json read it): the route's schema says what is missing.
    req.body = bytes.length > 0 ? parseJsonBody(bytes) : {};
    next();
  };
}
