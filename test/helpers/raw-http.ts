/**
 * HTTP over a bare socket, for requests no client library sends: a length
 * announced and never sent, a body trickled or cut off, a path with a broken
 * percent escape. The reply is parsed just enough for assertions, and says
 * whether the server closed the connection after answering.
 */
import { connect, type Socket } from 'node:net';

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the service answered
  json: any;
  /** The server ended the connection after answering (within `closeWaitMs`). */
  closed: boolean;
}

/** A piece of the request after its head: bytes to write, or a pause. */
export type Piece = string | Buffer | { pauseMs: number };

export interface RawOptions {
  /** Written after the head, in order, until the server answers. */
  body?: Piece[];
  /** How long to wait for the server to close the connection once it has answered (default 5 s). */
  closeWaitMs?: number;
  /** Give up (reject) when nothing is answered this long after the last piece (default 60 s). */
  answerWaitMs?: number;
}

/** A request head: request line, Host, the given headers, blank line. */
export function head(method: string, path: string, headers: Record<string, string | number> = {}): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: localhost', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

interface Parsed {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A complete response at the start of `buf`, or undefined while more is needed (Content-Length or chunked bodies). */
function parseResponse(buf: Buffer): Parsed | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const rest = buf.subarray(end + 4);
  if (headers['transfer-encoding']?.includes('chunked')) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) return { status, headers, body: Buffer.concat(parts) };
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = Number(headers['content-length'] ?? 0);
  if (rest.length < length) return undefined;
  return { status, headers, body: rest.subarray(0, length) };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/**
 * Sends `requestHead` and the body pieces over one socket, stops sending once
 * the server answers, and resolves with the answer. Rejects when the server
 * closes without answering, or answers nothing in time.
 */
export function rawRequest(base: string, requestHead: string, options: RawOptions = {}): Promise<RawReply> {
  const url = new URL(base);
  const socket: Socket = connect(Number(url.port), url.hostname);
  let received = Buffer.alloc(0);
  let answer: Parsed | undefined;
  let ended = false;
  let failed: Error | undefined;
  return new Promise<RawReply>((resolve, reject) => {
    let answerTimer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(answerTimer);
      socket.destroy();
      if (!answer) {
        reject(
          failed ?? new Error(`the server closed the connection without answering (received ${JSON.stringify(received.toString('latin1').slice(0, 200))})`),
        );
        return;
      }
      const text = answer.body.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: answer.status, headers: answer.headers, text, json, closed });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!answer) {
        answer = parseResponse(received);
        if (answer) {
          clearTimeout(answerTimer);
          // Answered: give the server a moment to close the connection, as it should when the body was not read.
          setTimeout(() => finish(ended), options.closeWaitMs ?? 5000).unref();
        }
      }
    });
    socket.on('end', () => {
      ended = true;
      if (answer) finish(true);
    });
    socket.on('close', () => {
      ended = true;
      finish(true);
    });
    // A server that answers early and closes may reset a connection still being written to; the answer counts.
    socket.on('error', (err) => {
      failed = err;
    });
    socket.on('connect', async () => {
      socket.write(requestHead);
      for (const piece of options.body ?? []) {
        if (answer || ended || socket.destroyed) break;
        if (typeof piece === 'object' && !Buffer.isBuffer(piece)) {
          await pause(piece.pauseMs);
          continue;
        }
        if (!socket.write(piece)) await new Promise((r) => socket.once('drain', r).once('close', r));
      }
      if (!answer && !ended) {
        answerTimer = setTimeout(() => {
          failed = new Error('no answer in time');
          finish(false);
        }, options.answerWaitMs ?? 60_000);
      }
    });
  });
}

/** Connects, sends `requestHead` and part of a body, then goes away without waiting for an answer. */
export async function abandonRequest(base: string, requestHead: string, partial: string | Buffer): Promise<void> {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((ok, fail) => socket.once('connect', ok).once('error', fail));
  socket.write(requestHead);
  socket.write(partial);
  // Let the server see the request before the client goes.
  await pause(200);
  socket.destroy();
}
