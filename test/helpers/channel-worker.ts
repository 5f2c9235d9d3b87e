/** A worker for the WorkerChannel tests: echoes, fails, waits, crashes, and records its starts and stops in shared memory. */
import { workerData } from 'node:worker_threads';
import { DomainError } from '../../src/errors.js';
import { serve } from '../../src/workers/serve.js';

/** [0]: workers started, [1]: onStop ran, [2]: a `wait` call saw its signal abort. */
const counters = workerData as Int32Array;
Atomics.add(counters, 0, 1);

export type TestApi = {
  echo(args: { value: unknown }): unknown;
  fail(args: { domain: boolean }): never;
  wait(args: { ms: number }, call: { signal: AbortSignal }): Promise<string>;
  crash(args: null): Promise<never>;
};

const served = serve<TestApi, { type: 'tick'; n: number }>(
  {
    echo: ({ value }) => {
      served.emit({ type: 'tick', n: 1 });
      return value;
    },
    fail: ({ domain }) => {
      throw domain ? new DomainError('invalid_params', 'C must be > 0', 'C') : new Error('plain failure');
    },
    wait: ({ ms }, call) =>
      new Promise((resolve) => {
        call.signal.addEventListener('abort', () => Atomics.store(counters, 2, 1));
        setTimeout(() => resolve('waited'), ms);
      }),
    crash: () => {
      // An uncaught exception: the worker fires `error`, then `exit`.
      setImmediate(() => {
        throw new Error('boom');
      });
      return new Promise(() => undefined);
    },
  },
  { onStop: () => void Atomics.store(counters, 1, 1) },
);
