/**
 * Assembles and runs the whole service: HTTP server first (so /healthz answers
 * and /readyz says 503 while models load), then models, then the full app.
 * `stop()` drains in-flight requests before releasing the models.
 */
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createApp, type App } from './app.js';
import { Authenticator } from './http/auth.js';
import { answerClientError } from './http/client-error.js';
import { ConnectionTracker } from './http/drain.js';
import { RateLimiter, startCensus } from './http/limits.js';
import { errorBody, statusOf } from './http/errors.js';
import { hasBody } from './http/input.js';
import { DomainError } from './errors.js';
import type { ReadinessCheck } from './http/routes/health.js';
import { DEFAULT_MODEL, type Config } from './config.js';
import { importCheckpoint } from './encoder/import/importer.js';
import { bundledCheckpointDir } from './encoder/import/bundled.js';
import { readManifest } from './encoder/manifest.js';
import { ModelRegistry } from './encoder/registry.js';
import { errorFields, type Logger } from './log.js';
import { FeatureService } from './features/feature-service.js';
import type { AnyHead } from './heads/registry.js';
import { clientLimits, openStore } from './store/open.js';
import type { Store } from './store/types.js';
import { createMetrics, observeEncoders, observeServing, type Metrics } from './metrics.js';
import { PredictPool } from './serving/predict-pool.js';
import { Exporter } from './export/exporter.js';
import { PredictionService } from './serving/predictions.js';
import { TunedStackCache } from './serving/tuned-stacks.js';
import { TrainingRunner } from './training/runner.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

export interface RunningService {
  server: Server;
  port: number;
  /** Resolves once models are loaded and the full app serves. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Answers while the service starts: alive, not ready, every other route 503. */
function startingApp() {
  const app = express();
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res) => void res.status(503).json({ status: 'not_ready', reasons: ['starting: loading models'] }));
  app.use((req, res) => {
    // The body is never read here: close after answering rather than read whatever the client sends.
    if (hasBody(req)) res.set('Connection', 'close');
    res
      .status(statusOf('starting'))
      .set('Retry-After', '1')
      .json(errorBody(new DomainError('starting', 'service is starting')));
  });
  return app;
}

/** The bundled default model is imported on first start when `npm ci` did not do it. */
function ensureDefaultModel(config: Config, log: Logger): void {
  const dir = resolve(join(config.TRANSFERD_MODELS_DIR, DEFAULT_MODEL));
  if (!config.TRANSFERD_MODELS.includes(DEFAULT_MODEL) || readManifest(dir)) return;
  const r = importCheckpoint(bundledCheckpointDir(), dir, DEFAULT_MODEL, { maxTokens: 256 });
  log('info', 'imported the bundled model', { model: DEFAULT_MODEL, ms: Math.round(r.ms) });
}

export function uploadLimits(config: Config) {
  return {
    maxBytes: config.TRANSFERD_UPLOAD_LIMIT,
    maxExamples: config.TRANSFERD_MAX_UPLOAD_EXAMPLES,
    maxTextChars: config.TRANSFERD_MAX_INPUT_CHARS,
    maxLabelChars: 200,
    timeoutMs: config.TRANSFERD_BODY_TIMEOUT_MS,
  };
}

export interface Parts {
  app: App;
  runner: TrainingRunner;
  pool: PredictPool;
  predictions: PredictionService;
  features: FeatureService;
  /** Fine-tuned versions' stacks as stored, for the encoders. */
  stacks: TunedStackCache;
  metrics: Metrics;
  /** Stops the replica census and the key cache's subscription. */
  close(): void;
}

/** Builds everything that serves requests from loaded models and an open store. Tests call it in-process. */
export function assemble({
  config,
  log,
  models,
  store,
  readiness,
  heads,
}: {
  config: Config;
  log: Logger;
  models: ModelRegistry;
  store: Store;
  readiness?: ReadinessCheck[];
  /** The head types the API offers (default: the registry's). */
  heads?: readonly AnyHead[];
}): Parts {
  const metrics = createMetrics();
  observeEncoders(metrics, models);
  for (const e of models.all()) e.on('restart', (reason) => log('error', 'encoder worker restarted', { model: e.manifest.name, reason }));
  const keysOn = config.TRANSFERD_ADMIN_KEY !== undefined;
  // Stacks as stored, for encoder workers that do not hold them: a quarter of what the workers keep loaded.
  const stacks = new TunedStackCache(store, models, Math.floor(config.TRANSFERD_TUNED_STACK_CACHE / 4));
  const features = new FeatureService(models, store, {
    memoryBytes: config.TRANSFERD_FEATURE_CACHE,
    perClient: keysOn && !config.TRANSFERD_SHARED_FEATURE_CACHE,
    stacks: (client, version) => stacks.load(client, version),
  });
  const replicaId = config.TRANSFERD_REPLICA_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const auth = new Authenticator(store, config.TRANSFERD_ADMIN_KEY);
  const limits = clientLimits(config);
  const limiter = keysOn ? new RateLimiter(store, limits) : null;
  const stopCensus = limiter ? startCensus(store, replicaId, limiter, (err) => log('warn', 'replica heartbeat failed', errorFields(err))) : () => undefined;
  const pool = new PredictPool({ threads: config.TRANSFERD_PREDICT_THREADS, maxPredictors: 32, maxWaitMs: config.TRANSFERD_MAX_QUEUE_WAIT_MS });
  const predictions = new PredictionService(store, features, pool, {
    activeTtlMs: config.TRANSFERD_ACTIVE_VERSION_TTL_MS,
    artifactCacheBytes: 256 * 1024 ** 2,
    stacks,
    onPriorError: (err, task) => log('warn', 'estimating a label prior failed', { ...task, ...errorFields(err) }),
  });
  const runner = new TrainingRunner({
    store,
    features,
    models,
    log,
    owner: replicaId,
    concurrency: config.TRANSFERD_TRAINING_CONCURRENCY,
    leaseMs: config.TRANSFERD_JOB_LEASE_MS,
    pollMs: config.TRANSFERD_JOB_POLL_MS,
    threads: config.TRANSFERD_TRAINING_THREADS,
    heapMb: config.TRANSFERD_TRAINING_HEAP_MB,
    onJobEnd: (job, ms) => {
      metrics.trainingJobs.inc({ state: job.state });
      metrics.trainingDuration.observe(ms / 1000);
    },
  });
  observeServing(metrics, { runningJobs: () => runner.activeJobs, featureCache: () => features.cacheStats, encodedTexts: () => features.encodedTexts });
  const app = createApp({
    models,
    store,
    features,
    predictions,
    exporter: new Exporter(config.TRANSFERD_MAX_EXPORTS),
    uploads: uploadLimits(config),
    training: { maxAttempts: config.TRANSFERD_JOB_MAX_ATTEMPTS, wake: () => runner.wake() },
    metrics,
    log,
    logRequests: config.TRANSFERD_LOG_REQUESTS,
    maxEventStreams: config.TRANSFERD_MAX_EVENT_STREAMS,
    ...(readiness ? { readiness } : {}),
    ...(heads ? { heads } : {}),
    access: { auth, limiter },
    limits: {
      maxInputs: config.TRANSFERD_MAX_INPUTS,
      maxInputChars: config.TRANSFERD_MAX_INPUT_CHARS,
      bodyLimitBytes: config.TRANSFERD_BODY_LIMIT,
      bodyTimeoutMs: config.TRANSFERD_BODY_TIMEOUT_MS,
    },
  });
  const close = () => {
    stopCensus();
    auth.close();
  };
  return { app, runner, pool, predictions, features, stacks, metrics, close };
}

export async function startService(config: Config, log: Logger): Promise<RunningService> {
  let handler: express.Express = startingApp();
  let full: App | undefined;
  let models: ModelRegistry | undefined;
  let store: Store | undefined;
  let runner: TrainingRunner | undefined;
  let pool: PredictPool | undefined;
  let predictions: PredictionService | undefined;
  let parts: Parts | undefined;
  const server = createServer((req, res) => handler(req, res));
  const connections = new ConnectionTracker(server);
  server.on('clientError', answerClientError);
  // Longer than a load balancer's idle timeout, so the balancer closes idle connections first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // Only a backstop: a body that is read times out first, with a JSON 408 (http/body.ts). Node's own answer
  // is a bare 408, checked every 30 s, so it must not come first.
  server.requestTimeout = Math.max(server.headersTimeout, config.TRANSFERD_BODY_TIMEOUT_MS) + 60_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(config.PORT, config.HOST, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  log('info', 'listening', { port, host: config.HOST });

  const ready = (async () => {
    ensureDefaultModel(config, log);
    store = await openStore(config, log);
    models = await ModelRegistry.load({
      modelsDir: config.TRANSFERD_MODELS_DIR,
      models: config.TRANSFERD_MODELS,
      threads: config.TRANSFERD_ORT_THREADS,
      spin: config.TRANSFERD_ORT_SPIN,
      maxBatchTokens: config.TRANSFERD_MAX_BATCH_TOKENS,
      maxBatchSize: config.TRANSFERD_MAX_BATCH_SIZE,
      maxQueuedTexts: config.TRANSFERD_MAX_QUEUED_TEXTS,
      maxQueueWaitMs: config.TRANSFERD_MAX_QUEUE_WAIT_MS,
      maxStackBytes: config.TRANSFERD_TUNED_STACK_CACHE,
    });
    parts = assemble({ config, log, models, store });
    ({ runner, pool, predictions } = parts);
    full = parts.app;
    handler = full.app;
    parts.runner.start();
    if (config.TRANSFERD_ADMIN_KEY === undefined) {
      log('warn', 'API keys are off: every request acts for one open client, with no client limits (set TRANSFERD_ADMIN_KEY to turn keys on)');
    } else log('info', 'API keys are on: /v1/admin manages clients and keys', { sharedFeatureCache: config.TRANSFERD_SHARED_FEATURE_CACHE });
    log('info', 'ready', { models: models.list() });
  })();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      full?.startDraining();
      await ready.catch(() => undefined);
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      const drained = connections.drain();
      const timeout = new Promise<'timeout'>((ok) => setTimeout(() => ok('timeout'), config.TRANSFERD_SHUTDOWN_TIMEOUT_MS).unref());
      if ((await Promise.race([drained, timeout])) === 'timeout') {
        log('warn', 'shutdown timeout: closing remaining connections', { inFlight: connections.inFlight });
        connections.destroyAll();
      }
      await closed;
      await runner?.stop();
      parts?.close();
      predictions?.close();
      await pool?.close();
      await models?.close().catch((err) => log('error', 'closing models failed', errorFields(err)));
      await store?.close().catch((err) => log('error', 'closing the store failed', errorFields(err)));
    })());

  return { server, port, ready, stop };
}
