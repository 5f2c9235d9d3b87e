/** Errors as the service reports them ({error: {message, type, param, code, ...}}), and as the console shows them. */

export class ApiError extends Error {
  constructor(
    /** The HTTP status; 0 when the service could not be reached. */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    /** Whatever else the error body carries: an upload's `errors` and `more`, a conflict's `conflicts`. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The ApiError a failed response's body describes; a body that is not the service's JSON still says its status. */
export function apiErrorOf(status: number, statusText: string, body: string): ApiError {
  try {
    const parsed = JSON.parse(body) as { error?: Record<string, unknown> };
    const e = parsed.error;
    if (e && typeof e.message === 'string') {
      const { message, code, param, type: _type, ...details } = e;
      return new ApiError(status, typeof code === 'string' ? code : 'error', message, typeof param === 'string' ? param : null, details);
    }
  } catch {
    // Not JSON: a proxy's page, or a cut-off body.
  }
  return new ApiError(status, 'http_error', `HTTP ${status} ${statusText}`.trim());
}

export const networkError = (err: unknown) =>
  new ApiError(0, 'network_error', `could not reach the service: ${err instanceof Error ? err.message : String(err)}`);
