/**
 * A Server-Sent Events parser for streams read with fetch(): the browser's
 * EventSource cannot send an Authorization header, so with keys on the
 * console reads the job's event stream itself. Follows the WHATWG
 * event-stream rules: lines end in CRLF, LF or CR; `:` starts a comment;
 * `data:` lines join with newlines; a blank line dispatches the event; an
 * event without data is dropped.
 *
 * Pure (no DOM): the unit tests run it under Node.
 */

export interface SseEvent {
  /** `message` when the stream names none. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream, as the spec keeps it across events. */
  id: string;
}

export class SseParser {
  private buffer = '';
  /** A chunk that ended in CR: a LF at the start of the next one belongs to the same line end. */
  private afterCr = false;
  private started = false;
  private event = '';
  private data: string[] = [];
  private lastId = '';
  /** The reconnection delay the server asked for (`retry:`), in ms. */
  retryMs: number | undefined;

  /** Feeds decoded text; answers the events it completed. */
  push(chunk: string): SseEvent[] {
    if (chunk === '') return [];
    let text = chunk;
    if (this.afterCr && text.startsWith('\n')) text = text.slice(1);
    this.afterCr = false;
    if (!this.started) {
      this.started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    this.buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      const line = this.buffer.slice(start, i);
      if (c === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++;
        } else {
          this.afterCr = true;
        }
      }
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const event = this.event || 'message';
    const data = this.data;
    this.event = '';
    this.data = [];
    if (data.length === 0) return undefined;
    return { event, data: data.join('\n'), id: this.lastId };
  }
}
