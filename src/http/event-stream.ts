/**
 * Server-Sent Events responses. A stream holds a connection for as long as
 * what it watches lasts, so this replica keeps a count of them (refusing past
 * a bound with 429, like any other overload) and ends them all when it starts
 * draining: a client reconnects, through the load balancer, to a replica that
 * is staying.
 */
import type { Response } from 'express';
import { DomainError } from '../errors.js';

/** Comment lines this often keep proxies (nginx's proxy_read_timeout is 60 s by default) and idle-closing clients from dropping a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

export interface EventStream {
  /** Sends one event; `data` is sent as JSON on one line. */
  send(event: string, data: unknown): void;
  /** Ends the stream (idempotent). */
  end(): void;
  /** Aborted when the stream ends, by either side. */
  readonly signal: AbortSignal;
}

export class EventStreams {
  private readonly open = new Set<EventStream>();
  private closing = false;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.open.size;
  }

  /** Starts an event stream on `res` (status 200, headers sent at once). */
  start(res: Response): EventStream {
    if (this.closing) throw new DomainError('shutdown', 'this replica is shutting down; reconnect');
    if (this.open.size >= this.max) {
      throw new DomainError('overloaded', `this replica already serves ${this.max} event streams; retry later`).retryAfter(5);
    }
    const done = new AbortController();
    let id = 0;
    res.status(200);
    res.set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      // nginx would otherwise buffer the stream and deliver it in lumps.
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 1000\n\n');
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    keepAlive.unref();
    const stream: EventStream = {
      signal: done.signal,
      send: (event, data) => {
        if (done.signal.aborted) return;
        res.write(`event: ${event}\nid: ${++id}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      end: () => {
        if (done.signal.aborted) return;
        done.abort();
        clearInterval(keepAlive);
        this.open.delete(stream);
        res.end();
      },
    };
    res.on('close', stream.end);
    this.open.add(stream);
    return stream;
  }

  /** Ends every stream and refuses new ones (the replica is draining). */
  closeAll(): void {
    this.closing = true;
    for (const s of [...this.open]) s.end();
  }
}
