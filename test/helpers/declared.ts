/** Answers checked against what their route declares (src/http/route.ts), as /openapi.json documents it. */
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { Route } from '../../src/http/route.js';

/** The declared response schema, with every object closed: a field the code sends but the document omits fails. */
export const closed = (schema: z.ZodType) =>
  z.fromJSONSchema(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Parameters<typeof z.fromJSONSchema>[0]);

/** Asserts that `status` is documented for `method pattern` and that `body` matches its schema, closed. */
export function assertDeclared(
  routes: readonly Route[],
  method: Route['method'],
  pattern: string,
  status: number,
  body: unknown,
  where = `${method} ${pattern}`,
) {
  const route = routes.find((r) => r.method === method && r.path === pattern);
  assert.ok(route, `${method} ${pattern} is not declared`);
  const doc = route.responses[status];
  assert.ok(doc, `${where} → ${status}: status not documented`);
  if (!doc.schema) return doc;
  const r = closed(doc.schema).safeParse(body);
  assert.ok(r.success, `${where} → ${status}: the body does not match its documented schema: ${r.error?.message}\n${JSON.stringify(body).slice(0, 500)}`);
  return doc;
}
