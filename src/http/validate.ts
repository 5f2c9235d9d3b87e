/** Turns schema failures into errors that name the offending field. */
import type { z } from 'zod';
import { DomainError } from '../errors.js';

type Issue = z.core.$ZodIssue;

/** `input[3].label` from ["input", 3, "label"]. */
export function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/**
 * For a union, the branch that got furthest says most about what the client
 * meant (an array with one bad item is "an array with a bad item", not "not a
 * string"); a branch that failed on something other than the type got further
 * than one that failed on the type.
 */
function deepest(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  const score = (i: Issue) => i.path.length * 2 + (i.code === 'invalid_type' ? 0 : 1);
  let best: Issue | undefined;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const candidate = deepest({ ...inner, path: [...issue.path, ...inner.path] } as Issue);
      if (!best || score(candidate) > score(best)) best = candidate;
    }
  }
  if (best && score(best) > issue.path.length * 2) return best;
  // A branch with a message of its own (not zod's default) knows best what went wrong.
  const custom = issue.errors.flat().find((i) => !i.message.startsWith('Invalid input'));
  if (custom) return { ...custom, path: [...issue.path, ...custom.path] } as Issue;
  // Every branch rejected the type itself: name all the types that would do.
  const expected = issue.errors.flatMap((b) => b.filter((i) => i.code === 'invalid_type').map((i) => (i as { expected: string }).expected));
  const received = /received (\w+)/.exec(issue.errors[0]?.[0]?.message ?? '')?.[1];
  const message =
    received === 'undefined' ? `is required (${expected.join(' or ')})` : `expected ${expected.join(' or ')}, received ${received ?? 'another type'}`;
  return { ...issue, message } as Issue;
}

function describe(issue: Issue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return `is required (${issue.expected})`;
  return issue.message.replace(/^Invalid input: /, '');
}

export function issueToError(error: z.ZodError, root?: string): DomainError {
  const issue = deepest(error.issues[0]!);
  const path = root ? [root, ...issue.path] : issue.path;
  const param = issue.code === 'unrecognized_keys' && issue.keys.length === 1 ? formatPath([...path, issue.keys[0]!]) : formatPath(path);
  const where = path.length ? `${formatPath(path)}: ` : '';
  return new DomainError('invalid_request', `${where}${describe(issue)}`, param || null);
}

/** Parses `value` with `schema` or throws an invalid_request error. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, root?: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw issueToError(r.error, root);
  return r.data;
}
