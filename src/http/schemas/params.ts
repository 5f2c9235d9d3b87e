/** The path segments that name resources, shared by every route under them. */
import { z } from 'zod';
import type { PathParam } from '../route.js';
import { stored } from './stored-text.js';

/** Ids are short; a segment the store could not even look up (a NUL, a lone surrogate) names nothing. */
const id = stored(z.string().min(1).max(256));
/** Versions and examples are numbered from 1; any other segment names none. */
const positiveInt = z.coerce.number().int().min(1);

/** The largest version number the store holds (a 32-bit column): a larger one names no version, rather than failing the query. */
export const MAX_VERSION = 2 ** 31 - 1;

export const modelParam = { schema: id, notFound: 'model_not_found', description: 'Model name (GET /v1/models).' } satisfies PathParam;
export const taskParam = { schema: id, notFound: 'task_not_found', description: 'Task id.' } satisfies PathParam;
export const exampleParam = {
  // Past the largest integer a JSON number holds exactly, no id was ever given (and PostgreSQL's bigint would overflow).
  schema: positiveInt.refine((n) => n <= Number.MAX_SAFE_INTEGER),
  notFound: 'example_not_found',
  description: 'Example id: its number in its task (1, 2, … in upload order, never reused).',
} satisfies PathParam;
export const poolTextParam = {
  schema: positiveInt.refine((n) => n <= Number.MAX_SAFE_INTEGER),
  notFound: 'pool_text_not_found',
  description: "Pool text id: its number in its task's pool (1, 2, … in the order added, never reused).",
} satisfies PathParam;
export const jobParam = { schema: id, notFound: 'job_not_found', description: 'Job id.' } satisfies PathParam;
export const versionParam = {
  schema: positiveInt.refine((n) => n <= MAX_VERSION),
  notFound: 'version_not_found',
  description: 'Version number (1, 2, …).',
} satisfies PathParam;
export const clientParam = { schema: id, notFound: 'client_not_found', description: 'Client id.' } satisfies PathParam;
export const keyParam = { schema: id, notFound: 'key_not_found', description: 'API key id (the middle part of the key).' } satisfies PathParam;
