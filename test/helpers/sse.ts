/** Reads a Server-Sent Events response as a client would (fetch, any headers), event by event. */

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
    let buffer = '';
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const fields = block.split('\n').filter((l) => !l.startsWith(':'));
        const data = fields.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart());
        if (!data.length) continue;
        const event = {
          event:
            fields
              .find((l) => l.startsWith('event:'))
              ?.slice(6)
              .trim() ?? 'message',
          data: data.join('\n'),
          at: Date.now(),
        };
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
