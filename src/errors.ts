/**
 * The one error type every part throws for a failure a caller can cause or
 * must expect: a code from the closed list below, a message for people, and
 * optionally the request parameter it concerns. The HTTP layer turns a code
 * into a status in one table (http/errors.ts), so a new code cannot be thrown
 * without deciding its status, and nothing expected becomes a 500 because a
 * route forgot to catch it. Anything that is not a DomainError is a bug.
 */
export const ERROR_CODES = [
  // The request itself.
  'invalid_request',
  'invalid_value',
  'invalid_json',
  'invalid_body',
  'body_too_large',
  'request_timeout',
  'headers_too_large',
  'unsupported_media_type',
  'unsupported_encoding',
  'request_aborted',
  'client_closed_request',
  'route_not_found',
  'invalid_path',
  'method_not_allowed',
  'invalid_cursor',
  // Uploads of examples.
  'invalid_csv',
  'invalid_examples',
  'empty_upload',
  'too_many_examples',
  'label_conflict',
  'too_many_labels',
  // Resources.
  'model_not_found',
  'task_not_found',
  'version_not_found',
  'job_not_found',
  'example_not_found',
  'pool_text_not_found',
  'name_taken',
  'version_active',
  'job_finished',
  'model_unavailable',
  'no_active_version',
  'evaluation_not_stored',
  'export_unsupported',
  // Features and the encoder.
  'invalid_feature_spec',
  'input_too_long',
  'overloaded',
  'encoder_unavailable',
  'inference_failed',
  // Clients, keys and limits.
  'missing_api_key',
  'invalid_api_key',
  'insufficient_scope',
  'keys_disabled',
  'client_not_found',
  'key_not_found',
  'rate_limited',
  'quota_exceeded',
  // Training requests.
  'invalid_params',
  'no_examples',
  'too_few_labels',
  'label_too_small',
  'unknown_label',
  'model_not_trainable',
  // How a job ends when it does not succeed (recorded on the job, never an HTTP answer).
  'cancelled',
  'training_failed',
  'worker_crashed',
  'lease_lost',
  'lease_expired',
  'shutdown',
  'task_deleted',
  // The service.
  'starting',
  'store_unavailable',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  /** Seconds a client should wait before retrying, when the failure itself knows (a rate limit's refill); else the code's default. */
  retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The request field the error is about (`input[3]`, `head.params.C`), when there is one. */
    readonly param: string | null = null,
    /** Extra fields for the client (the bad lines of an upload, the conflicting texts). */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** The same error about another field: a caller that knows where a value came from in the request names it. */
  at(param: string | null): DomainError {
    const moved = new DomainError(this.code, this.message, param, this.details);
    moved.retryAfterSeconds = this.retryAfterSeconds;
    if (this.stack) moved.stack = this.stack;
    return moved;
  }

  /** This error, telling the client to retry in `seconds` (rounded up, at least 1). */
  retryAfter(seconds: number): this {
    this.retryAfterSeconds = Math.max(1, Math.ceil(seconds));
    return this;
  }
}

/** Whether `err` is a DomainError with one of `codes` (any code when none are given). */
export function isDomainError(err: unknown, ...codes: ErrorCode[]): err is DomainError {
  return err instanceof DomainError && (codes.length === 0 || codes.includes(err.code));
}
