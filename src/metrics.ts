/**
 * Prometheus metrics. Each app gets its own registry, so tests can build many
 * apps in one process without metric-name collisions.
 */
import client from 'prom-client';
import type { ModelRegistry } from './encoder/registry.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new client.Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    encoderTokens: new client.Counter({
      name: 'encoder_tokens_total',
      help: 'Tokens run through the encoder (padding excluded).',
      labelNames: ['model'] as const,
      registers,
    }),
    encoderPaddedTokens: new client.Counter({
      name: 'encoder_padded_tokens_total',
      help: 'Token slots computed by the encoder, padding included.',
      labelNames: ['model'] as const,
      registers,
    }),
    encoderBatchSize: new client.Histogram({
      name: 'encoder_batch_size',
      help: 'Sequences per encoder run.',
      labelNames: ['model'] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    encoderInference: new client.Histogram({
      name: 'encoder_inference_seconds',
      help: 'Time of one encoder run.',
      labelNames: ['model'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    trainingJobs: new client.Counter({
      name: 'training_jobs_total',
      help: 'Training jobs this replica ended, by final state.',
      labelNames: ['state'] as const,
      registers,
    }),
    trainingDuration: new client.Histogram({
      name: 'training_job_duration_seconds',
      help: 'Wall time of training jobs run by this replica.',
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    }),
    encoderRestarts: new client.Counter({
      name: 'encoder_restarts_total',
      help: 'Encoder worker restarts after a crash.',
      labelNames: ['model'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Gauges read at scrape time from the parts that own the numbers. */
export function observeServing(
  metrics: Metrics,
  sources: {
    runningJobs: () => number;
    featureCache: () => { entries: number; bytes: number; hits: number; misses: number };
    encodedTexts: () => { predict: number; training: number };
  },
): void {
  const registers = [metrics.registry];
  new client.Gauge({
    name: 'training_jobs_running',
    help: 'Training jobs running on this replica.',
    registers,
    collect() {
      this.set(sources.runningJobs());
    },
  });
  new client.Gauge({
    name: 'feature_cache_entries',
    help: 'Feature vectors held in memory.',
    registers,
    collect() {
      this.set(sources.featureCache().entries);
    },
  });
  new client.Gauge({
    name: 'feature_cache_bytes',
    help: 'Bytes of feature vectors held in memory.',
    registers,
    collect() {
      this.set(sources.featureCache().bytes);
    },
  });
  new client.Gauge({
    name: 'feature_cache_lookups',
    help: 'Feature cache lookups since start, by result.',
    labelNames: ['result'] as const,
    registers,
    collect() {
      const s = sources.featureCache();
      this.set({ result: 'hit' }, s.hits);
      this.set({ result: 'miss' }, s.misses);
    },
  });
  new client.Gauge({
    name: 'features_encoded_texts',
    help: 'Texts the feature service sent to the encoder since start, by purpose.',
    labelNames: ['purpose'] as const,
    registers,
    collect() {
      const e = sources.encodedTexts();
      this.set({ purpose: 'predict' }, e.predict);
      this.set({ purpose: 'training' }, e.training);
    },
  });
}

/** Feeds the encoders' batch statistics and queue depth into `metrics`. */
export function observeEncoders(metrics: Metrics, models: ModelRegistry): void {
  for (const encoder of models.all()) {
    const model = encoder.manifest.name;
    encoder.on('batch', (s) => {
      metrics.encoderTokens.inc({ model }, s.tokens);
      metrics.encoderPaddedTokens.inc({ model }, s.paddedTokens);
      metrics.encoderBatchSize.observe({ model }, s.size);
      metrics.encoderInference.observe({ model }, s.inferenceMs / 1000);
    });
    encoder.on('restart', () => metrics.encoderRestarts.inc({ model }));
  }
  new client.Gauge({
    name: 'encoder_queue_depth',
    help: 'Texts waiting for or in the encoder.',
    labelNames: ['model'] as const,
    registers: [metrics.registry],
    // Read at scrape time: always current, no bookkeeping on the hot path.
    collect() {
      for (const e of models.all()) this.set({ model: e.manifest.name }, e.queuedTexts);
    },
  });
}
