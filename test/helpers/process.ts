/** Runs the real service as a child process (as `npm start` does) for lifecycle and multi-replica tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * Process groups started through these helpers: a child spawned `detached`
 * leads a group of its own, which its children (nginx's workers) join. The
 * leader's exit says nothing of theirs: a group is let go only once empty.
 */
const groups = new Set<number>();

/** Records a child started through these helpers; `group`: it was spawned detached, and its group is tracked too. */
export function track(proc: ChildProcess, options: { group?: boolean } = {}): void {
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
  if (options.group && proc.pid) groups.add(proc.pid);
}

/** Live members (zombies hold neither ports nor memory) of process group `pgid`, read from /proc. */
export function groupMembers(pgid: number): Array<{ pid: number; command: string }> {
  const members: Array<{ pid: number; command: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (command) state ppid pgrp …": the command may hold spaces and parentheses, so read after the last ')'.
    const close = stat.lastIndexOf(')');
    const [state, , pgrp] = stat.slice(close + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push({ pid: Number(entry), command: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return members;
}

/** Sends `signal` to every process of group `pgid` (none left: nothing to do). */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is empty
  }
}

/** Resolves once group `pgid` has no live member (true), or after `timeoutMs` (false). */
export async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (groupMembers(pgid).length === 0) {
      groups.delete(pgid);
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What is still alive of the processes and groups started here: what a suite would leave behind. */
export function leftovers(): string[] {
  const left = [...running].map((p) => `pid ${p.pid} (${p.spawnfile})`);
  for (const pgid of groups) {
    const members = groupMembers(pgid);
    if (members.length === 0) groups.delete(pgid);
    for (const m of members) if (![...running].some((p) => p.pid === m.pid)) left.push(`pid ${m.pid} (${m.command}) of group ${pgid}`);
  }
  return left;
}

/**
 * Kills whatever is still running; test files do it when they end (see
 * cleanup.ts), and scripts when they exit. Groups are killed whole: killing
 * only nginx's master would leave its workers running and listening.
 */
export function killAll(): void {
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
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
  track(proc);
  const logs: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | string>((ok) => proc.on('exit', (code, signal) => ok(code ?? signal ?? -1)));
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
