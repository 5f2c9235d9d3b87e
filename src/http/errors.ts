/**
 * Errors as the API reports them, in OpenAI's shape:
 *   {"error": {"message", "type", "param", "code"}}
 * A DomainError's code decides its status here, in one table; anything else is
 * a bug and becomes a 500 whose body says nothing about the internals. Every
 * 5xx is logged except the ones that are expected under load or during an
 * outage and say so to the client (`expected`).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { DomainError, type ErrorCode } from '../errors.js';
import { StoreUnavailable } from '../store/errors.js';
import { hasBody } from './input.js';

export type ErrorType = 'invalid_request_error' | 'not_found_error' | 'conflict_error' | 'overloaded_error' | 'server_error';

interface Mapping {
  status: number;
  /** Seconds a client should wait before retrying (sent as Retry-After). */
  retryAfter?: number;
  /** A 5xx that is part of normal operation (overload, an outage being waited out): not logged as an error. */
  expected?: boolean;
}

const STATUS: Record<ErrorCode, Mapping> = {
  invalid_request: { status: 400 },
  invalid_value: { status: 400 },
  invalid_json: { status: 400 },
  invalid_body: { status: 400 },
  body_too_large: { status: 413 },
  request_timeout: { status: 408 },
  headers_too_large: { status: 431 },
  unsupported_media_type: { status: 415 },
  unsupported_encoding: { status: 415 },
  request_aborted: { status: 400 },
  client_closed_request: { status: 499 },
  route_not_found: { status: 404 },
  invalid_path: { status: 400 },
  method_not_allowed: { status: 405 },
  invalid_cursor: { status: 400 },
  invalid_csv: { status: 400 },
  invalid_examples: { status: 400 },
  empty_upload: { status: 400 },
  too_many_examples: { status: 413 },
  label_conflict: { status: 409 },
  too_many_labels: { status: 400 },
  model_not_found: { status: 404 },
  task_not_found: { status: 404 },
  version_not_found: { status: 404 },
  job_not_found: { status: 404 },
  example_not_found: { status: 404 },
  pool_text_not_found: { status: 404 },
  name_taken: { status: 409 },
  version_active: { status: 409 },
  job_finished: { status: 409 },
  model_unavailable: { status: 409 },
  no_active_version: { status: 409 },
  evaluation_not_stored: { status: 404 },
  export_unsupported: { status: 409 },
  invalid_feature_spec: { status: 400 },
  input_too_long: { status: 413 },
  overloaded: { status: 429, retryAfter: 1, expected: true },
  encoder_unavailable: { status: 503, retryAfter: 2 },
  inference_failed: { status: 500 },
  missing_api_key: { status: 401 },
  invalid_api_key: { status: 401 },
  insufficient_scope: { status: 403 },
  keys_disabled: { status: 404 },
  client_not_found: { status: 404 },
  key_not_found: { status: 404 },
  rate_limited: { status: 429, retryAfter: 1, expected: true },
  quota_exceeded: { status: 403 },
  invalid_params: { status: 400 },
  no_examples: { status: 409 },
  too_few_labels: { status: 409 },
  label_too_small: { status: 409 },
  model_not_trainable: { status: 409 },
  unknown_label: { status: 400 },
  cancelled: { status: 500 },
  training_failed: { status: 500 },
  worker_crashed: { status: 500 },
  lease_lost: { status: 500 },
  lease_expired: { status: 500 },
  shutdown: { status: 503, retryAfter: 1, expected: true },
  task_deleted: { status: 404 },
  starting: { status: 503, retryAfter: 1, expected: true },
  store_unavailable: { status: 503, retryAfter: 1, expected: true },
  internal_error: { status: 500 },
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code].status;
}

function typeOf(status: number): ErrorType {
  if (status === 404) return 'not_found_error';
  if (status === 409) return 'conflict_error';
  if (status === 503 || status === 429) return 'overloaded_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** The response body of an error. */
export function errorBody(err: DomainError) {
  return { error: { message: err.message, type: typeOf(statusOf(err.code)), param: err.param, code: err.code, ...err.details } };
}

/** Body-parser failures carry a `type`; map the ones clients cause. */
function fromBodyParser(err: { type?: string; limit?: number; message?: string }): DomainError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new DomainError('invalid_json', `request body is not valid JSON: ${err.message ?? ''}`.trim());
    case 'entity.too.large':
      return new DomainError('body_too_large', `request body exceeds the limit of ${err.limit} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DomainError('unsupported_encoding', err.message ?? 'unsupported content encoding');
    case 'request.aborted':
      return new DomainError('request_aborted', 'request was aborted by the client');
    default:
      return undefined;
  }
}

/**
 * Errors of the libraries under the routes that carry a client's status
 * (http-errors' `status`): express's router when a path holds a malformed
 * percent escape, a body parser. Their status says the client is at fault;
 * their message may not be fit to repeat, so the code decides the words.
 */
function fromClientStatus(err: { status?: unknown; statusCode?: unknown }): DomainError | undefined {
  const status = typeof err.status === 'number' ? err.status : err.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (err instanceof URIError) return new DomainError('invalid_path', 'the request path holds a malformed percent escape');
  if (status === 413) return new DomainError('body_too_large', 'request body is too large');
  if (status === 415) return new DomainError('unsupported_media_type', 'unsupported content type or encoding');
  return new DomainError('invalid_request', 'the request could not be read');
}

/** Any thrown value as the DomainError the client gets; `internal` is true when it was not one (a bug). */
export function toDomainError(err: unknown): { error: DomainError; internal: boolean } {
  if (err instanceof DomainError) return { error: err, internal: false };
  if (err instanceof StoreUnavailable)
    return { error: new DomainError('store_unavailable', 'the database is unavailable; try again shortly'), internal: false };
  if (err !== null && typeof err === 'object') {
    const known = fromBodyParser(err as object) ?? fromClientStatus(err as object);
    if (known) return { error: known, internal: false };
  }
  return { error: new DomainError('internal_error', 'internal error; the request was not completed'), internal: true };
}

export type ErrorLogger = (err: unknown, context: { method: string; path: string; code: ErrorCode }) => void;

export function errorHandler(log: ErrorLogger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const { error } = toDomainError(err);
    const mapping = STATUS[error.code];
    if (mapping.status >= 500 && !mapping.expected) log(err, { method: req.method, path: req.path, code: error.code });
    if (res.headersSent) {
      // Too late for an answer (a response cut short, or already answered): end the connection so the client sees it fail.
      res.destroy();
      return;
    }
    // RFC 6750: a 401 names the scheme the client should use.
    if (mapping.status === 401) res.set('WWW-Authenticate', 'Bearer');
    const retryAfter = error.retryAfterSeconds ?? mapping.retryAfter;
    if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
    // The body is not all read (refused by its announced length, a failed upload, a timeout): answer and close,
    // rather than read the rest to keep the connection (Node would, for as long as the client sends).
    if (hasBody(req) && !req.complete) res.set('Connection', 'close');
    res.status(mapping.status).json(errorBody(error));
  };
}

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new DomainError('route_not_found', `no route for ${req.method} ${req.path}`));
};
