/**
 * Hears the changes every replica announces (NOTIFY) on a dedicated
 * PostgreSQL connection. When that connection is lost it reconnects, and on
 * every (re)connection reports a `'*'` change: whatever changed while nobody
 * listened is unknown, so every replica cache must be dropped.
 */
import pg from 'pg';
import type { StoreChange } from './types.js';

export interface ListenerOptions {
  client: pg.ClientConfig;
  channel: string;
  onWarning?: (msg: string, fields: Record<string, unknown>) => void;
}

export class ChangeListener {
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: ListenerOptions,
    private readonly deliver: (change: StoreChange) => void,
  ) {}

  async start(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.o.client);
    const retry = (why: string) => {
      if (this.closed || this.client !== client) return;
      this.client = undefined;
      this.o.onWarning?.('lost the notification connection; reconnecting', { reason: why });
      client.end().catch(() => undefined);
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => void this.start().catch((err) => retry(err.message)), 500);
      this.reconnectTimer.unref();
    };
    this.client = client;
    client.on('error', (err) => retry(err.message));
    client.on('end', () => retry('connection ended'));
    client.on('notification', (n) => {
      if (n.channel !== this.o.channel || !n.payload) return;
      try {
        this.deliver(JSON.parse(n.payload) as StoreChange);
      } catch {
        // not ours
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.o.channel}`);
    } catch (err) {
      retry((err as Error).message);
      return;
    }
    this.deliver({ tenantId: '*', taskId: '*', activeVersion: null });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.client?.end().catch(() => undefined);
  }
}
