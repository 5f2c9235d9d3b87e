import { DomainError } from '../errors.js';

/**
 * The store could not be reached (connection refused or cut, server shutting
 * down): callers answer 503 and retry later. The message is for clients; the
 * connection's own error, for the logs, is the `cause`.
 */
export class StoreUnavailable extends DomainError {
  constructor(cause: unknown) {
    super('store_unavailable', 'the database is unavailable; try again shortly');
    this.cause = cause;
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);

/** True for failures of the connection rather than of the statement. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e?.code && (CONNECTION_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|not queryable/i.test(e?.message ?? '');
}
