/**
 * Tracks connections and their in-flight requests so shutdown can close idle
 * keep-alive connections without cutting a request that is being answered.
 * (Node's server.closeIdleConnections() treats a connection as idle once the
 * request body has been read, which would cut responses still being computed.)
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export class ConnectionTracker {
  private readonly active = new Map<Socket, number>();
  private draining = false;
  private onIdle: (() => void) | undefined;

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.active.set(socket, 0);
      socket.on('close', () => {
        this.active.delete(socket);
        this.checkIdle();
      });
    });
    server.on('request', (req, res) => {
      const socket = req.socket;
      const open = this.active.get(socket);
      // Not tracked: the socket closed already, and must not be tracked again.
      if (open !== undefined) this.active.set(socket, open + 1);
      if (this.draining) res.setHeader('Connection', 'close');
      res.on('close', () => {
        // A client that went away mid-request closes its socket before the response closes; putting the
        // socket back would leave shutdown waiting for it until the drain timeout.
        const count = this.active.get(socket);
        if (count !== undefined) {
          this.active.set(socket, count - 1);
          if (this.draining && count === 1) socket.end();
        }
        this.checkIdle();
      });
    });
  }

  get inFlight(): number {
    let n = 0;
    for (const c of this.active.values()) n += c;
    return n;
  }

  /** Closes idle connections now and each connection as its last response ends; resolves when none is left. */
  drain(): Promise<void> {
    this.draining = true;
    for (const [socket, count] of this.active) if (count === 0) socket.end();
    return new Promise<void>((resolve) => {
      this.onIdle = resolve;
      this.checkIdle();
    });
  }

  /** Cuts every connection (after the drain timeout). */
  destroyAll(): void {
    for (const socket of this.active.keys()) socket.destroy();
  }

  private checkIdle(): void {
    if (this.draining && this.active.size === 0) this.onIdle?.();
  }
}
