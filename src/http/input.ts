/**
 * Reads a request against its route's declaration: path parameters, query and
 * body, each parsed with the declared schema, before the handler runs.
 */
import type { Request } from 'express';
import { DomainError } from '../errors.js';
import { refuseAnnouncedOver } from './body.js';
import type { PathParams, Route } from './route.js';
import { parse } from './validate.js';

/** Whether the client sent a body at all (an empty one, Content-Length: 0, is none). */
export function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** A path segment quoted in a message: clients send anything, and a message need not repeat all of it. */
const quoted = (value: string | undefined) => JSON.stringify(value !== undefined && value.length > 100 ? `${value.slice(0, 100)}…` : (value ?? ''));

function readParams(params: PathParams, raw: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(params)) {
    const value = raw[name];
    const r = param.schema.safeParse(value);
    if (!r.success) throw new DomainError(param.notFound, `${name} ${quoted(value)} does not exist`, name);
    out[name] = r.data;
  }
  return out;
}

/**
 * The JSON body, or undefined when the request has none and the schema allows
 * that. Express's JSON parser ran before this and left `req.body` undefined
 * when the content type is not JSON.
 */
function jsonBody(route: Route, req: Request): unknown {
  const body: unknown = req.body;
  if (body === undefined) {
    if (!hasBody(req) && route.body?.safeParse(undefined).success) return undefined;
    throw new DomainError('unsupported_media_type', 'send a JSON body with Content-Type: application/json');
  }
  // Every JSON body of this API is an object; saying so beats a schema message about the type.
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new DomainError('invalid_request', 'request body must be a JSON object');
  return body;
}

/** A handler's input without the request and response, with the schema types erased as in Route. */
export type ParsedRequest = Omit<Parameters<Route['handler']>[0], 'req' | 'res' | 'principal' | 'chargeTokens'>;

export function readInput(route: Route, req: Request, client: string): ParsedRequest {
  const params = readParams(route.params ?? {}, req.params as Record<string, string>);
  const query = route.query ? parse(route.query, req.query, 'query') : undefined;
  let body: unknown;
  if (route.body) body = parse(route.body, jsonBody(route, req));
  else if (route.streamedBody) refuseAnnouncedOver(req, route.streamedBody.maxBytes ?? Number.POSITIVE_INFINITY);
  else if (hasBody(req)) {
    // Silently dropping a body would let a client believe its fields took effect.
    throw new DomainError('invalid_request', `${route.method.toUpperCase()} ${route.path} takes no request body`);
  }
  return { client, params, query, body };
}
