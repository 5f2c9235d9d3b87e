/**
 * Builds exports, each in a worker thread started for it and stopped after
 * it (./worker.ts), at most `maxConcurrent` at once on this replica: an
 * export holds about twice the encoder's size while it is built (the graph
 * read, the file written), so past the bound a request is refused at once
 * (429 overloaded) rather than queued.
 */
import { DomainError } from '../errors.js';
import { WorkerChannel } from '../workers/channel.js';
import type { ExportApi, ExportArgs } from './protocol.js';

export class Exporter {
  private running = 0;

  constructor(private readonly maxConcurrent: number) {}

  /** Exports being built now. */
  get active(): number {
    return this.running;
  }

  /** The file's bytes; aborting `signal` (the client went away) stops waiting for them. */
  async build(args: ExportArgs, signal?: AbortSignal): Promise<Uint8Array> {
    if (this.running >= this.maxConcurrent) {
      throw new DomainError('overloaded', `this replica is building ${this.running} exports, its most at once; try again shortly`);
    }
    this.running++;
    const channel = new WorkerChannel<ExportApi>({ url: new URL('./worker.js', import.meta.url), name: 'export' });
    try {
      await channel.whenReady();
      return await channel.call('build', args, signal ? { signal } : {});
    } finally {
      // Counted until the thread is gone, with what it allocated.
      await channel.stop();
      this.running--;
    }
  }
}
