/**
 * Cleanups that run when the whole test file ends, newest first.
 *
 * node:test's after(), called from inside a helper after an await, does not
 * reliably attach to the running test (the hook was lost, leaving worker
 * threads alive and the file's process hanging), so helpers register here and
 * one root hook, registered when this module is first imported at the top of a
 * test file, runs them all.
 */
import { after } from 'node:test';

const cleanups: Array<() => unknown> = [];

export function onFileEnd(fn: () => unknown): void {
  cleanups.push(fn);
}

after(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
