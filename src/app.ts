/**
 * createApp(deps): the express app wired from its parts. Tests build it
 * in-process with the real encoder; main.ts builds it for production.
 */
import express, { type Express, type RequestHandler } from 'express';
import type { ModelRegistry } from './encoder/registry.js';
import type { Exporter } from './export/exporter.js';
import type { FeatureService } from './features/feature-service.js';
import { type AnyHead, HEADS } from './heads/registry.js';
import { consoleFiles } from './http/console.js';
import { errorHandler, routeNotFound } from './http/errors.js';
import { EventStreams } from './http/event-stream.js';
import { jsonBody } from './http/json-body.js';
import { ApiDoc } from './http/openapi.js';
import type { Route } from './http/route.js';
import { Authenticator } from './http/auth.js';
import { type Access, routerOf } from './http/router.js';
import { clientsRoutes } from './http/routes/clients.js';
import { docsRoutes } from './http/routes/docs.js';
import { embeddingsRoutes } from './http/routes/embeddings.js';
import { evaluationRoutes } from './http/routes/evaluation.js';
import { examplesRoutes } from './http/routes/examples.js';
import { exportRoutes } from './http/routes/export.js';
import { headsRoutes } from './http/routes/heads.js';
import { healthRoutes, type ReadinessCheck } from './http/routes/health.js';
import { suggestionsRoutes } from './http/routes/suggestions.js';
import { poolRoutes } from './http/routes/pool.js';
import { multitaskRoutes } from './http/routes/multitask.js';
import { jobsRoutes } from './http/routes/jobs.js';
import { modelsRoutes } from './http/routes/models.js';
import { predictRoutes } from './http/routes/predict.js';
import { tasksRoutes } from './http/routes/tasks.js';
import { versionsRoutes } from './http/routes/versions.js';
import type { TextLimits } from './http/schemas/text-input.js';
import type { UploadLimits } from './http/uploads.js';
import type { Logger } from './log.js';
import { errorFields } from './log.js';
import type { Metrics } from './metrics.js';
import type { PredictionService } from './serving/predictions.js';
import type { Store } from './store/types.js';

export interface AppDeps {
  models: ModelRegistry;
  store: Store;
  features: FeatureService;
  predictions: PredictionService;
  /** Builds versions' ONNX exports. */
  exporter: Exporter;
  uploads: UploadLimits;
  training: { maxAttempts: number; wake: () => void };
  metrics: Metrics;
  log: Logger;
  limits: TextLimits & { bodyLimitBytes: number; bodyTimeoutMs: number };
  /** Authentication and client rate limits; default: keys off (one open client), no rate limits. */
  access?: Access;
  /** Job event streams this replica serves at once (default 1000); past it, 429. */
  maxEventStreams?: number;
  /** The head types the API offers (default: the registry, src/heads/registry.ts); tests add one to show what a new head type reaches. */
  heads?: readonly AnyHead[];
  /** Extra readiness checks (the store, later); model readiness is always checked. */
  readiness?: ReadinessCheck[];
  logRequests?: boolean;
}

export interface App {
  app: Express;
  docs: ApiDoc;
  /** Marks the app as shutting down, so readiness fails and the load balancer moves on. */
  startDraining(): void;
}

const VERSION = '0.1.0';

export function createApp(deps: AppDeps): App {
  const { models, metrics, log, limits } = deps;
  const heads = deps.heads ?? HEADS;
  const app = express();
  app.disable('x-powered-by');
  // Responses are computed per request and never revalidated; hashing every body for an ETag costs CPU the encoder needs.
  app.set('etag', false);
  app.set('trust proxy', true); // behind nginx, the client address comes from X-Forwarded-For
  let draining = false;

  const instrument: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('close', () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      if (deps.logRequests) log('info', 'request', { ...labels, path: req.originalUrl, ms: Math.round(seconds * 1e4) / 10 });
    });
    next();
  };
  app.use(instrument);

  const readiness: ReadinessCheck[] = [
    () => (draining ? 'shutting down' : null),
    () =>
      models.ready
        ? null
        : `models not ready: ${models
            .all()
            .filter((e) => !e.ready)
            .map((e) => e.manifest.name)
            .join(', ')}`,
    async () => {
      try {
        await deps.store.ping();
        return null;
      } catch (err) {
        return `store unreachable: ${(err as Error).message}`;
      }
    },
    ...(deps.readiness ?? []),
  ];
  const events = new EventStreams(deps.maxEventStreams ?? 1000);
  // The routes never change once built, so neither does their document.
  let document: unknown;
  const routes: Route[] = [
    ...healthRoutes(readiness, metrics),
    ...modelsRoutes(models, Date.now()),
    ...embeddingsRoutes(models, limits),
    ...tasksRoutes(deps.store, models, { heads, maxAttempts: deps.training.maxAttempts }),
    ...examplesRoutes(deps.store, deps.uploads, deps.training.wake),
    ...poolRoutes(deps.store, deps.predictions, limits),
    ...jobsRoutes({ store: deps.store, models, events, heads, ...deps.training }),
    ...headsRoutes(heads),
    ...multitaskRoutes({ store: deps.store, models, ...deps.training }),
    ...versionsRoutes(deps.store, deps.predictions, heads),
    ...exportRoutes(deps.store, models, deps.exporter),
    ...evaluationRoutes(deps.store),
    ...predictRoutes(deps.predictions, limits),
    ...suggestionsRoutes(deps.store, deps.predictions, limits),
    ...clientsRoutes(deps.store),
    ...docsRoutes(() => (document ??= docs.document({ title: 'transferd', version: VERSION }))),
  ];
  const docs = new ApiDoc(routes);
  const json = jsonBody({ maxBytes: limits.bodyLimitBytes, timeoutMs: limits.bodyTimeoutMs });
  const access = deps.access ?? { auth: new Authenticator(deps.store, undefined), limiter: null };
  app.use(routerOf(routes, json, access));
  // After the API, so that API requests never look for a file.
  const consolePages = consoleFiles();
  if (!consolePages.built) log('warn', 'the console is not built (no dist/console/index.html): run npm run build');
  app.use(consolePages.handler);
  app.use(routeNotFound);
  app.use(errorHandler((err, ctx) => log('error', 'request failed', { ...ctx, ...errorFields(err) })));

  return {
    app,
    docs,
    startDraining: () => {
      draining = true;
      events.closeAll();
    },
  };
}
