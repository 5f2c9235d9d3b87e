/** Runs the real service as a child process (as `npm start` does) for lifecycle and multi-replica tests. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServiceProcess {
  proc: ChildProcess;
  port: number;
  url: string;
  /** Every log line so far, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Every child process started through these helpers and still running. */
export const running = new Set<ChildProcess>();

/** Kills whatever is still running; test files do it when they end (see cleanup.ts). */
export function killAll(): void {
  for (const p of running) p.kill('SIGKILL');
  running.clear();
}
// Last resort for scripts (benchmarks use these helpers outside the test runner).
process.on('exit', killAll);

/** Starts `node dist/src/main.js` on a free port and resolves once it listens (not necessarily ready). */
export function startServiceProcess(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const proc = spawn(process.execPath, ['dist/src/main.js'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TRANSFERD_ORT_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  const logs: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | string>((ok) =>
    proc.on('exit', (code, signal) => {
      running.delete(proc);
      ok(code ?? signal ?? -1);
    }),
  );
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === 'listening') {
            const port = entry.port as number;
            resolve({ proc, port, url: `http://127.0.0.1:${port}`, logs, exited });
          }
        } catch {
          logs.push({ raw: line });
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`service exited (${code}) before listening: ${JSON.stringify(logs)}`)));
  });
}

/** Polls `url` until `predicate` holds for its status, or fails after `timeoutMs`. */
export async function waitFor(url: string, predicate: (status: number) => boolean, timeoutMs = 30_000): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    seen.push(status);
    if (predicate(status)) return seen;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${url} never satisfied the condition; statuses seen: ${[...new Set(seen)].join(', ')}`);
}
