/**
 * The OpenAPI document, generated from the route declarations the app
 * registers: the same zod schemas that validate requests describe them, and a
 * route cannot exist without appearing here.
 */
import { z } from 'zod';
import type { Route } from './route.js';

const errorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string(),
  }),
});

/** `schema` as JSON Schema, as a request may send it (defaults are optional fields). */
export function jsonSchema(schema: z.ZodType): unknown {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** `/v1/tasks/:task` as OpenAPI writes it: `/v1/tasks/{task}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

function parameters(r: Route): unknown[] {
  return [
    ...Object.entries(r.params ?? {}).map(([name, p]) => ({ name, in: 'path', required: true, description: p.description, schema: jsonSchema(p.schema) })),
    ...Object.entries(r.query?.shape ?? {}).map(([name, s]) => {
      const schema = s as z.ZodType;
      const { description, ...rest } = jsonSchema(schema) as { description?: string };
      return { name, in: 'query', required: !schema.safeParse(undefined).success, ...(description ? { description } : {}), schema: rest };
    }),
  ];
}

function requestBody(r: Route): unknown {
  if (r.body) return { required: !r.body.safeParse(undefined).success, content: { 'application/json': { schema: jsonSchema(r.body) } } };
  if (!r.streamedBody) return undefined;
  const { mediaTypes, schema, description } = r.streamedBody;
  const content: Record<string, unknown> = {};
  for (const t of mediaTypes) content[t] = { schema: t === 'application/json' ? jsonSchema(schema) : { type: 'string' } };
  return { required: true, description, content };
}

function responses(r: Route): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, doc] of Object.entries(r.responses)) {
    // A body that is not text (a model file) is bytes.
    const raw = doc.mediaType?.startsWith('text/') ? { type: 'string' } : { type: 'string', format: 'binary' };
    const content = doc.mediaType
      ? { [doc.mediaType]: { schema: doc.schema ? jsonSchema(doc.schema) : raw } }
      : doc.schema
        ? { 'application/json': { schema: jsonSchema(doc.schema) } }
        : undefined;
    const headers = doc.headers && Object.fromEntries(Object.entries(doc.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }]));
    out[status] = { description: doc.description, ...(headers ? { headers } : {}), ...(content ? { content } : {}) };
  }
  out.default = { description: 'Error', content: { 'application/json': { schema: jsonSchema(errorSchema) } } };
  return out;
}

export class ApiDoc {
  constructor(readonly routes: readonly Route[]) {}

  document(info: { title: string; version: string }): unknown {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const params = parameters(r);
      const body = requestBody(r);
      const path = openApiPath(r.path);
      paths[path] ??= {};
      paths[path][r.method] = {
        summary: r.summary,
        ...(r.description ? { description: r.description } : {}),
        tags: [r.tag],
        ...(params.length ? { parameters: params } : {}),
        ...(body ? { requestBody: body } : {}),
        responses: responses(r),
      };
    }
    return { openapi: '3.1.0', info, paths };
  }
}
