/** Liveness, readiness and metrics endpoints. */
import { Router } from 'express';
import type { Metrics } from '../../metrics.js';
import type { Operation } from '../openapi.js';

/** A readiness check answers null when fine, or why the service should not get traffic. */
export type ReadinessCheck = () => Promise<string | null> | string | null;

export const healthOperations: Operation[] = [
  { method: 'get', path: '/healthz', tag: 'operations', summary: 'Alive (the process answers).', responses: { 200: { description: 'Alive.' } } },
  {
    method: 'get',
    path: '/readyz',
    tag: 'operations',
    summary: 'Ready for traffic: models loaded and warmed up, store reachable.',
    responses: { 200: { description: 'Ready.' }, 503: { description: 'Not ready, with reasons.' } },
  },
  { method: 'get', path: '/metrics', tag: 'operations', summary: 'Prometheus metrics.', responses: { 200: { description: 'Text exposition format.' } } },
];

export function healthRouter(checks: ReadinessCheck[], metrics: Metrics): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const reasons = (
      await Promise.all(
        checks.map(async (c) => {
          try {
            return await c();
          } catch (err) {
            return (err as Error).message;
          }
        }),
      )
    ).filter((r): r is string => r !== null);
    res.status(reasons.length ? 503 : 200).json(reasons.length ? { status: 'not_ready', reasons } : { status: 'ready' });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}
