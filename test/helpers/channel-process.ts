/** A child process for the WorkerChannel tests (isolation: 'process'): echoes, waits, says when a call is dropped, crashes, stops. */
import { type Served, serve } from '../../src/workers/serve.js';

export type ProcessTestApi = {
  echo(args: { value: unknown }): unknown;
  pid(args: null): number;
  wait(args: { ms: number }, call: { signal: AbortSignal }): Promise<string>;
  crash(args: null): Promise<never>;
};

export type ProcessTestEvent = { type: 'aborted' } | { type: 'stopping' };

const served: Served<ProcessTestEvent> = serve<ProcessTestApi, ProcessTestEvent>(
  {
    echo: ({ value }) => value,
    pid: () => process.pid,
    wait: ({ ms }, call) =>
      new Promise((resolve) => {
        call.signal.addEventListener('abort', () => served.emit({ type: 'aborted' }));
        setTimeout(() => resolve('waited'), ms);
      }),
    crash: () => {
      setImmediate(() => {
        throw new Error('boom in the child');
      });
      return new Promise(() => undefined);
    },
  },
  {
    onStop: (): void => served.emit({ type: 'stopping' }),
  },
);
