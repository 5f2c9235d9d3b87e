/** Liveness, readiness and metrics endpoints. */
import { z } from 'zod';
import type { Metrics } from '../../metrics.js';
import { type Route, route } from '../route.js';

/** A readiness check answers null when fine, or why the service should not get traffic. */
export type ReadinessCheck = () => Promise<string | null> | string | null;

const alive = z.object({ status: z.literal('ok') });
const ready = z.object({ status: z.literal('ready') });
const notReady = z.object({ status: z.literal('not_ready'), reasons: z.array(z.string()) });

async function failing(checks: ReadinessCheck[]): Promise<string[]> {
  const reasons = await Promise.all(
    checks.map(async (c) => {
      try {
        return await c();
      } catch (err) {
        return (err as Error).message;
      }
    }),
  );
  return reasons.filter((r): r is string => r !== null);
}

export function healthRoutes(checks: ReadinessCheck[], metrics: Metrics): Route[] {
  return [
    route({
      method: 'get',
      path: '/healthz',
      tag: 'operations',
      scope: 'public',
      summary: 'Alive (the process answers).',
      responses: { 200: { description: 'Alive.', schema: alive } },
      handler: ({ res }) => {
        res.json({ status: 'ok' } satisfies z.infer<typeof alive>);
      },
    }),
    route({
      method: 'get',
      path: '/readyz',
      tag: 'operations',
      scope: 'public',
      summary: 'Ready for traffic: models loaded and warmed up, store reachable, not shutting down.',
      responses: { 200: { description: 'Ready.', schema: ready }, 503: { description: 'Not ready, with the reasons.', schema: notReady } },
      handler: async ({ res }) => {
        const reasons = await failing(checks);
        if (reasons.length) res.status(503).json({ status: 'not_ready', reasons } satisfies z.infer<typeof notReady>);
        else res.json({ status: 'ready' } satisfies z.infer<typeof ready>);
      },
    }),
    route({
      method: 'get',
      path: '/metrics',
      tag: 'operations',
      scope: 'public',
      summary: 'Prometheus metrics.',
      responses: { 200: { description: 'Prometheus text exposition format.', mediaType: metrics.registry.contentType } },
      handler: async ({ res }) => {
        res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
      },
    }),
  ];
}
