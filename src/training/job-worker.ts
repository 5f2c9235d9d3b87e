/**
 * Entry of one training job's child process (see ../workers/endpoint.ts for
 * why a process: every byte the job allocated, onnxruntime's included, goes
 * back to the system when it ends). Runs at the lowest CPU priority (Linux
 * nice values are per thread, and the threads it starts inherit it), so
 * training yields the cores to the server's event loop and its encoder.
 *
 * The job's features arrive copied; they go into shared memory once, so the
 * job's pool threads read them without further copies. A cancelled call sets
 * the job's cancel flag, and the pipeline stops between pool tasks.
 */
import { setPriority } from 'node:os';
import { serve } from '../workers/serve.js';
import { scoreIncumbent } from './activation.js';
import { runMultitask } from './multitask.js';
import { runPipeline } from './pipeline.js';
import { runFineTuneJob } from './stages/fine-tune.js';
import type { JobArgs, JobThreadApi, JobThreadEvent, JobThreadInput } from './job-protocol.js';

try {
  setPriority(19);
} catch {
  // not permitted on some platforms: train at normal priority
}

function shared<T extends Float32Array | Int32Array | Uint8Array>(a: T): T {
  const copy = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
  copy.set(a as never);
  return copy;
}

/** The job's input in shared memory, with its cancel flag. */
function inputOf(args: JobArgs): JobThreadInput {
  return {
    ...args,
    y: shared(args.y),
    ...(args.targets ? { targets: shared(args.targets) } : {}),
    candidates: args.candidates.map((c) => ({ ...c, x: shared(c.x) })),
    cancel: new Int32Array(new SharedArrayBuffer(4)),
  };
}

let last = 0;
let running: Promise<void> | undefined;

function report(phase: string, fraction: number): void {
  const now = Date.now();
  if (now - last < 200 && fraction < 1) return; // progress is for humans: a few updates a second is plenty
  last = now;
  served.emit({ type: 'progress', phase, fraction });
}

/** A job's run, cancelled through its flag when the call is dropped, and kept until it ends (see onStop). */
function started<T>(cancel: Int32Array, signal: AbortSignal, run: Promise<T>): Promise<T> {
  signal.addEventListener('abort', () => Atomics.store(cancel, 0, 1), { once: true });
  running = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}
const served = serve<JobThreadApi, JobThreadEvent>(
  {
    run: (args, call) => {
      const input = inputOf(args);
      const trained = input.fineTune
        ? runFineTuneJob(input, input.fineTune, report, {
            step: (p) => served.emit({ type: 'step', ...p }),
            checkpoint: (epoch, bytes, record) => served.emit({ type: 'checkpoint', epoch, bytes, record }),
          })
        : runPipeline(input, report);
      const run = trained.then((result) => (input.incumbent ? { ...result, incumbent: scoreIncumbent(input.incumbent, input.candidates) } : result));
      return started(input.cancel, call.signal, run);
    },
    runMultitask: (args, call) => {
      const cancel = new Int32Array(new SharedArrayBuffer(4));
      const tasks = args.tasks.map((t) => ({ ...t, y: shared(t.y), x: shared(t.x) }));
      return started(cancel, call.signal, runMultitask({ ...args, tasks, cancel }, report));
    },
  },
  {
    // The pipeline stops at its next pool task (its cancel flag is set when the call is dropped), and closes its
    // pool; exiting before would stop its threads inside native calls.
    onStop: () => running,
  },
);
