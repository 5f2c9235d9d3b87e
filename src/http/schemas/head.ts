/** The head types a training request can name, as GET /v1/heads lists them. */
import { z } from 'zod';
import { taskKind } from './common.js';

/** A JSON Schema as far as the console reads one to draw a parameter's input; the document holds whole JSON Schemas. */
export const paramSchemaOut = z.looseObject({
  type: z.union([z.string(), z.array(z.string())]).optional(),
  description: z.string().optional(),
  default: z.unknown().optional(),
  enum: z.array(z.unknown()).optional(),
  const: z.unknown().optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  exclusiveMinimum: z.number().optional(),
  exclusiveMaximum: z.number().optional(),
  anyOf: z.array(z.record(z.string(), z.unknown())).optional(),
  items: z.record(z.string(), z.unknown()).optional(),
});

export const headTypeOut = z.object({
  object: z.literal('head_type'),
  type: z.string().describe('The name a training request gives it (head, or head.type).'),
  description: z.string(),
  task_kinds: z.array(taskKind).describe('The kinds of task it trains.'),
  multi_label: z
    .enum(['native', 'one-vs-rest'])
    .nullable()
    .describe('How it trains a multi-label task: every label at once (native), a fit per label (one-vs-rest), or not at all (null).'),
  default_for: z.array(taskKind).describe('The kinds of task on which a request that names no head trains it.'),
  auto: z.array(taskKind).describe('The kinds of task on which `auto` searches it when the request names no candidates.'),
  search: z.string().describe('What `search: true` tries.'),
  params: z
    .looseObject({ type: z.literal('object'), properties: z.record(z.string(), paramSchemaOut) })
    .describe("Its parameters (head.params) as JSON Schema: each property's type, bounds, default and description."),
  defaults: z.record(z.string(), z.unknown()).describe('Every parameter at its default: what a request that names only the type trains.'),
  artifact: z
    .object({ format: z.string(), description: z.string() })
    .describe("Its versions' artifact (GET /v1/tasks/{task}/versions/{version}/artifact): the format field, and the other fields."),
  exportable: z.boolean().describe('Whether its versions export as one ONNX model (GET /v1/tasks/{task}/versions/{version}/export).'),
});

export const headsOut = z.object({ object: z.literal('list'), data: z.array(headTypeOut) });
