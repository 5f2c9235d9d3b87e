/**
 * Hears the changes every replica announces (NOTIFY) on a dedicated
 * PostgreSQL connection. When that connection is lost it reconnects, and on
 * every (re)connection reports a `reset`: whatever changed while nobody
 * listened is unknown, so every replica cache must be dropped.
 */
import pg from 'pg';
import type { StoreChange, TaskChange } from './types.js';

export interface ListenerOptions {
  client: pg.ClientConfig;
  channel: string;
  /** Notices whose payload carries this origin were sent by this process, which delivered them itself at commit. */
  origin?: string;
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
      const change = parseChange(n.payload, this.o.origin);
      if (change) this.deliver(change);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.o.channel}`);
    } catch (err) {
      retry((err as Error).message);
      return;
    }
    this.deliver({ kind: 'reset' });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.client?.end().catch(() => undefined);
  }
}

const KINDS = new Set(['activated', 'labels_changed', 'versions_deleted', 'task_deleted', 'cancel_requested', 'prior_estimated']);

/**
 * A notice's payload as a change, or undefined for one that is not ours. A
 * replica older than change kinds (still running during a rolling upgrade)
 * announced activations only, as {clientId, taskId, activeVersion}.
 */
export function parseChange(payload: string, ownOrigin?: string): StoreChange | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (v && typeof v === 'object' && ownOrigin !== undefined && v.origin === ownOrigin) return undefined;
  if (v && typeof v === 'object' && 'origin' in v) {
    const { origin: _, ...rest } = v;
    v = rest;
  }
  if (v && typeof v === 'object' && v.kind === 'key' && typeof v.keyId === 'string') return { kind: 'key', keyId: v.keyId };
  if (!v || typeof v !== 'object' || typeof v.clientId !== 'string' || typeof v.taskId !== 'string') return undefined;
  if (v.kind === undefined) {
    // Its deletions were announced as activeVersion null: forget the task (a reset would be the safe reading, but costs every cache).
    return typeof v.activeVersion === 'number'
      ? { kind: 'activated', clientId: v.clientId, taskId: v.taskId, activeVersion: v.activeVersion }
      : { kind: 'task_deleted', clientId: v.clientId, taskId: v.taskId };
  }
  return KINDS.has(String(v.kind)) ? (v as unknown as TaskChange) : undefined;
}
