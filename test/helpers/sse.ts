/** Reads a Server-Sent Events response as a client would (fetch, any headers), event by event, with the console's parser. */
import { SseParser } from '../../console/src/api/sse.js';

export interface ServerEvent {
  event: string;
  data: string;
  /** When it arrived (Date.now()): a proxy that buffers would deliver them all at the end. */
  at: number;
}

/**
 * Opens `url` and collects its events until the server closes the stream,
 * `stopAfter` returns true, or `timeoutMs` passes (then it rejects). Returns
 * the response's status and headers too: an error answer is JSON, not a stream.
 */
export async function readEvents(
  url: string,
  options: { headers?: Record<string, string>; timeoutMs?: number; stopAfter?: (e: ServerEvent) => boolean } = {},
): Promise<{ status: number; headers: Headers; events: ServerEvent[]; body?: unknown }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no end of stream within ${options.timeoutMs ?? 60_000} ms`)), options.timeoutMs ?? 60_000);
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...options.headers }, signal: abort.signal });
    if (!res.headers.get('content-type')?.startsWith('text/event-stream'))
      return { status: res.status, headers: res.headers, events: [], body: await res.json() };
    const events: ServerEvent[] = [];
    const decoder = new TextDecoder();
    const parser = new SseParser();
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const parsed of parser.push(decoder.decode(value, { stream: true }))) {
        const event = { event: parsed.event, data: parsed.data, at: Date.now() };
        events.push(event);
        if (options.stopAfter?.(event)) {
          await reader.cancel();
          return { status: res.status, headers: res.headers, events };
        }
      }
    }
    return { status: res.status, headers: res.headers, events };
  } finally {
    clearTimeout(timer);
  }
}
