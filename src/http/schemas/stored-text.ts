/**
 * Strings the store keeps (task names, example texts and labels) must survive
 * it unchanged: PostgreSQL's text type refuses NUL (a 500 from the database),
 * and a lone surrogate has no UTF-8 form, so both stores would keep U+FFFD
 * instead, a different string from the one the client sent. Such strings are
 * refused with a 400 here, the same on either store.
 */
import type { z } from 'zod';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What keeps `s` from being stored as sent, as the end of a sentence ("text …"), or null. */
export function storableProblem(s: string): string | null {
  if (s.includes('\0')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(s)) return 'is not valid Unicode (it holds a lone surrogate)';
  return null;
}

/** `schema` refusing what the store cannot keep as sent. */
export function stored<S extends z.ZodType<string | undefined | null>>(schema: S): S {
  return schema.refine((s) => typeof s !== 'string' || storableProblem(s) === null, {
    error: (issue) => `${storableProblem(issue.input as string) ?? 'cannot be stored'}`,
  }) as S;
}
