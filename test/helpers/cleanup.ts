/**
 * Imported by test files that start processes: kills them when the file ends,
 * so the file's process can exit (child processes hold its event loop open).
 */
import { onFileEnd } from './file-end.js';
import { killAll } from './process.js';

onFileEnd(killAll);
