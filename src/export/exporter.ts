/**
 * Builds exports, each in a worker thread started for it and stopped after
 * it (./export-worker.ts), at most `maxConcurrent` at once on this replica. An
 * export holds a few hundred MB while it is built (the encoder's graph read,
 * the file written, the artifact parsed) and the file's bytes until they are
 * sent, so an export keeps its place until its bytes are written, and past
 * the bound a request is refused at once (429 overloaded) rather than queued.
 */
import { DomainError } from '../errors.js';
import { WorkerChannel } from '../workers/channel.js';
import type { ExportApi, ExportArgs } from './export-protocol.js';

export class Exporter {
  private running = 0;

  constructor(private readonly maxConcurrent: number) {}

  /** Exports being built or sent now. */
  get active(): number {
    return this.running;
  }

  /**
   * Builds the file and hands its bytes to `send`, which resolves once they
   * are written (or will never be). Aborting `signal` (the client went away)
   * stops waiting for the build.
   */
  async build(args: ExportArgs, send: (bytes: Uint8Array) => Promise<void>, signal?: AbortSignal): Promise<void> {
    if (this.running >= this.maxConcurrent) {
      throw new DomainError('overloaded', `this replica is building ${this.running} exports, its most at once; try again shortly`);
    }
    this.running++;
    try {
      const channel = new WorkerChannel<ExportApi>({ url: new URL('./export-worker.js', import.meta.url), name: 'export' });
      let bytes: Uint8Array;
      try {
        await channel.whenReady();
        bytes = await channel.call('build', args, signal ? { signal } : {});
      } finally {
        // Gone before the bytes are sent, with what it allocated.
        await channel.stop();
      }
      await send(bytes);
    } finally {
      this.running--;
    }
  }
}
