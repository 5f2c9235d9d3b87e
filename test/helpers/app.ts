/** Builds the real app in-process for API tests: real models, real encoder worker. */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { createApp, type AppDeps } from '../../src/app.js';
import { DEFAULT_MODEL } from '../../src/config.js';
import { ModelRegistry } from '../../src/encoder/registry.js';
import { createLogger } from '../../src/log.js';
import { FeatureService } from '../../src/features/feature-service.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics, observeEncoders } from '../../src/metrics.js';

let shared: Promise<ModelRegistry> | undefined;

/** One registry per test file (each file is its own process), closed when the file ends. */
export function testModels(): Promise<ModelRegistry> {
  if (!shared) {
    shared = ModelRegistry.load({
      modelsDir: 'models',
      models: [DEFAULT_MODEL],
      threads: 2,
      maxBatchTokens: 8192,
      maxBatchSize: 64,
      maxQueuedTexts: 16384,
    });
    after(async () => (await shared!).close());
  }
  return shared;
}

/** A fresh SQLite store in a temporary folder. */
export async function testStore(maxLabels = 10_000): Promise<SqliteStore> {
  const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'transferd-test-')), 'transferd.db'), maxLabels });
  await store.migrate();
  after(() => store.close());
  return store;
}

export const TEST_UPLOAD_LIMITS = { maxBytes: 64 * 1024 * 1024, maxExamples: 200_000, maxTextChars: 100_000, maxLabelChars: 200 };

export async function testApp(overrides: Partial<AppDeps> = {}) {
  const models = await testModels();
  const metrics = createMetrics();
  observeEncoders(metrics, models);
  const store = overrides.store ?? (await testStore());
  return createApp({
    models,
    metrics,
    store,
    features: overrides.features ?? new FeatureService(models, store, 64 * 1024 * 1024),
    uploads: TEST_UPLOAD_LIMITS,
    log: createLogger('test', true),
    limits: { maxInputs: 2048, maxInputChars: 100_000, bodyLimitBytes: 10 * 1024 * 1024 },
    ...overrides,
  });
}

/** Listens on a free port; closes when the test file ends. */
export async function listen(handler: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  after(() => new Promise<void>((ok) => server.close(() => ok())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}
