/**
 * Errors as the API reports them, in OpenAI's shape:
 *   {"error": {"message", "type", "param", "code"}}
 * Every failure a client can cause is an ApiError with a 4xx status; anything
 * else becomes a 500 whose body says nothing about the internals.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { StoreUnavailable } from '../store/errors.js';

export type ErrorType = 'invalid_request_error' | 'not_found_error' | 'conflict_error' | 'overloaded_error' | 'server_error';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
    /** Extra fields for the error object (such as the list of bad upload lines). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get type(): ErrorType {
    if (this.status === 404) return 'not_found_error';
    if (this.status === 409) return 'conflict_error';
    if (this.status === 503 || this.status === 429) return 'overloaded_error';
    if (this.status >= 500) return 'server_error';
    return 'invalid_request_error';
  }

  toJSON() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code, ...this.details } };
  }
}

export const badRequest = (message: string, param: string | null = null, code = 'invalid_value') => new ApiError(400, code, message, param);
export const notFound = (message: string, param: string | null = null, code = 'not_found') => new ApiError(404, code, message, param);
export const conflict = (message: string, code = 'conflict', param: string | null = null) => new ApiError(409, code, message, param);
export const unavailable = (message: string, code = 'unavailable', retryAfterSeconds = 1) =>
  new ApiError(503, code, message, null, { 'Retry-After': String(retryAfterSeconds) });

/** Body-parser failures carry a `type` and `status`; map the ones clients cause. */
function fromBodyParser(err: { type?: string; status?: number; limit?: number; message?: string }): ApiError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new ApiError(400, 'invalid_json', `request body is not valid JSON: ${err.message ?? ''}`.trim());
    case 'entity.too.large':
      return new ApiError(413, 'body_too_large', `request body exceeds the limit of ${err.limit} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'unsupported_encoding', err.message ?? 'unsupported content encoding');
    case 'request.aborted':
      return new ApiError(400, 'request_aborted', 'request was aborted by the client');
    default:
      return undefined;
  }
}

export type ErrorLogger = (err: unknown, context: { method: string; path: string }) => void

export function errorHandler(log: ErrorLogger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const api =
      err instanceof ApiError
        ? err
        : err instanceof StoreUnavailable
          ? unavailable('the database is unavailable; try again shortly', 'store_unavailable', 1)
          : (fromBodyParser(err as object) ?? new ApiError(500, 'internal_error', 'internal error; the request was not completed'));
    if (api.status >= 500 && api.status !== 503) log(err, { method: req.method, path: req.path });
    res.status(api.status).set(api.headers).json(api.toJSON());
  };
}

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'route_not_found', `no route for ${req.method} ${req.path}`));
};

export const methodNotAllowed =
  (allowed: string[]): RequestHandler =>
  (req, res, next) => {
    res.set('Allow', allowed.join(', '));
    next(new ApiError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; use ${allowed.join(' or ')}`));
  };
