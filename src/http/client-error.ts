/**
 * What a client gets when Node's HTTP parser refuses its request before any
 * route sees it (a malformed header, headers past Node's size limit, a
 * request that never finished arriving): the API's JSON error instead of
 * Node's bare status line. There is no response object yet, so the answer is
 * written to the socket as it is, and the connection closed.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { DomainError } from '../errors.js';
import { errorBody, statusOf } from './errors.js';

function errorFor(code: string | undefined): DomainError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new DomainError('headers_too_large', 'the request headers are larger than the server accepts');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new DomainError('request_timeout', 'the request did not arrive in time; the connection is closed');
    default:
      return new DomainError('invalid_request', 'the request is not well-formed HTTP/1.1');
  }
}

/** A server's 'clientError' listener. */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // A connection already gone, or in the middle of a response: nothing can be said on it.
  const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  const error = errorFor(err.code);
  const status = statusOf(error.code);
  const body = JSON.stringify(errorBody(error));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
