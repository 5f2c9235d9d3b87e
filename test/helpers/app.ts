/**
 * Builds the real service in-process for API tests: real models and encoder
 * worker, a real SQLite store in a temporary folder, the real training runner
 * and predict pool.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFileEnd } from './file-end.js';
import { DEFAULT_MODEL, loadConfig } from '../../src/config.js';
import { ModelRegistry } from '../../src/encoder/registry.js';
import type { AnyHead } from '../../src/heads/registry.js';
import type { ReadinessCheck } from '../../src/http/routes/health.js';
import { createLogger, type Logger } from '../../src/log.js';
import { assemble, type Parts } from '../../src/service.js';
import { clientLimits } from '../../src/store/open.js';
import type { DefaultLimits } from '../../src/store/sql-store.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

let shared: Promise<ModelRegistry> | undefined;
/**
 * One registry per test file (each file is its own process), closed when the file ends: the
 * models the file's first call names (default: the default model alone; a file that needs the
 * int8 model too asks for it, so the others do not pay for loading it).
 */
export function testModels(models: string[] = [DEFAULT_MODEL]): Promise<ModelRegistry> {
  if (!shared) {
    const loading = ModelRegistry.load({
      modelsDir: 'models',
      models,
      threads: 2,
      spin: false,
      maxBatchTokens: 8192,
      maxBatchSize: 64,
      maxQueuedTexts: 16384,
    });
    shared = loading;
    onFileEnd(async () => (await loading).close());
  }
  return shared;
}

/** A fresh SQLite store in a temporary folder. */
export async function testStore(maxLabels = 10_000, limits?: DefaultLimits): Promise<SqliteStore> {
  const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'transferd-test-')), 'transferd.db'), maxLabels, ...(limits ? { limits } : {}) });
  await store.migrate();
  onFileEnd(() => store.close());
  return store;
}

export interface TestOptions {
  /** Environment variables, parsed by the service's own configuration. */
  env?: Record<string, string>;
  store?: Store;
  readiness?: ReadinessCheck[];
  /** Start the training runner (default true). */
  train?: boolean;
  /** Where the service logs (default: errors only, to stderr). */
  log?: Logger;
  /** Models to load, the first the default (default: the default model alone). */
  models?: string[];
  /** The head types the API offers (default: the registry's). */
  heads?: readonly AnyHead[];
}

/** The whole service minus the HTTP listener; `app.app` is the express handler. */
export async function testService(options: TestOptions = {}): Promise<Parts & { store: Store }> {
  const config = loadConfig({ TRANSFERD_JOB_POLL_MS: '50', TRANSFERD_JOB_LEASE_MS: '5000', TRANSFERD_TRAINING_THREADS: '2', ...options.env });
  const store = options.store ?? (await testStore(config.TRANSFERD_MAX_LABELS, clientLimits(config)));
  const parts = assemble({
    config,
    log: options.log ?? createLogger('test', true),
    models: await testModels(options.models),
    store,
    ...(options.readiness ? { readiness: options.readiness } : {}),
    ...(options.heads ? { heads: options.heads } : {}),
  });
  if (options.train !== false) parts.runner.start();
  onFileEnd(async () => {
    parts.close();
    await parts.runner.stop();
    parts.predictions.close();
    await parts.pool.close();
  });
  return { ...parts, store };
}

/** The express app of a test service (most API tests need only this). */
export async function testApp(options: TestOptions = {}) {
  return (await testService(options)).app;
}

/** Listens on a free port; closes when the test file ends. */
export async function listen(handler: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  onFileEnd(() => new Promise<void>((ok) => server.close(() => ok())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export { cosine } from '../../src/lib/cosine.js';

export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}
