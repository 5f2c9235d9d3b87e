/**
 * The OpenAPI document, assembled from the same zod schemas that validate
 * requests, so the document cannot drift from what the service accepts.
 */
import { z } from 'zod';

export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path; `:id` becomes `{id}`. */
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  /** Also accepted as these non-JSON media types (the schema describes one record). */
  alternateMediaTypes?: string[];
  query?: z.ZodObject;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

const errorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string(),
  }),
});

function jsonSchema(schema: z.ZodType): unknown {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

export class ApiDoc {
  private readonly operations: Operation[] = [];

  add(...ops: Operation[]): void {
    this.operations.push(...ops);
  }

  document(info: { title: string; version: string }): unknown {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of this.operations) {
      const path = op.path.replace(/:(\w+)/g, '{$1}');
      const parameters = [
        ...[...op.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
        ...Object.entries(op.query?.shape ?? {}).map(([name, s]) => ({
          name,
          in: 'query',
          required: !(s as z.ZodType).safeParse(undefined).success,
          schema: jsonSchema(s as z.ZodType),
        })),
      ];
      const responses: Record<string, unknown> = {};
      for (const [status, r] of Object.entries(op.responses)) {
        responses[status] = r.schema
          ? { description: r.description, content: { 'application/json': { schema: jsonSchema(r.schema) } } }
          : { description: r.description };
      }
      responses.default = { description: 'Error', content: { 'application/json': { schema: jsonSchema(errorSchema) } } };
      const content: Record<string, unknown> = {};
      if (op.body) {
        content['application/json'] = { schema: jsonSchema(op.body) };
        for (const t of op.alternateMediaTypes ?? []) content[t] = { schema: { type: 'string' } };
      }
      (paths[path] ??= {})[op.method] = {
        summary: op.summary,
        tags: [op.tag],
        ...(parameters.length ? { parameters } : {}),
        ...(op.body ? { requestBody: { required: true, content } } : {}),
        responses,
      };
    }
    return { openapi: '3.1.0', info, paths };
  }
}
