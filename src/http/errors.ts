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
  unsupported_media_type: { status: 415 },
  unsupported_encoding: { status: 415 },
  request_aborted: { status: 400 },
  client_closed_request: { status: 499 },
  route_not_found: { status: 404 },
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
  name_taken: { status: 409 },
  version_active: { status: 409 },
  job_finished: { status: 409 },
  model_unavailable: { status: 409 },
  no_active_version: { status: 409 },
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

/** Any thrown value as the DomainError the client gets; `internal` is true when it was not one (a bug). */
export function toDomainError(err: unknown): { error: DomainError; internal: boolean } {
  if (err instanceof DomainError) return { error: err, internal: false };
  if (err instanceof StoreUnavailable)
    return { error: new DomainError('store_unavailable', 'the database is unavailable; try again shortly'), internal: false };
  const parsed = fromBodyParser(err as object);
  if (parsed) return { error: parsed, internal: false };
  return { error: new DomainError('internal_error', 'internal error; the request was not completed'), internal: true };
}

export type ErrorLogger = (err: unknown, context: { method: string; path: string; code: ErrorCode }) => void;

export function errorHandler(log: ErrorLogger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const { error } = toDomainError(err);
    const mapping = STATUS[error.code];
    if (mapping.status >= 500 && !mapping.expected) log(err, { method: req.method, path: req.path, code: error.code });
    // RFC 6750: a 401 names the scheme the client should use.
    if (mapping.status === 401) res.set('WWW-Authenticate', 'Bearer');
    const retryAfter = error.retryAfterSeconds ?? mapping.retryAfter;
    if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
    res.status(mapping.status).json(errorBody(error));
  };
}

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new DomainError('route_not_found', `no route for ${req.method} ${req.path}`));
};
