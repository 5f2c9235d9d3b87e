/**
 * Parameters keyed by label ({label: weight}). Labels are the client's
 * strings, so any of them may be "__proto__" or "constructor":
 *
 * - zod's record skips a "__proto__" key unchecked (assigning it on a plain
 *   object would set the prototype), so a weight for that label vanished;
 *   this schema checks every own key and keeps each as an own property, which
 *   JSON and structured cloning carry like any other;
 * - reading such an object by label must ask for own properties only
 *   (`labelValue`): `weights.constructor` of a plain object is a function.
 */
import { z } from 'zod';
import { DomainError } from '../errors.js';

/** A record of `value` keyed by non-empty labels, "__proto__" included. */
export function labelRecord<V extends z.ZodType>(value: V) {
  const documented = z.record(z.string().min(1), value);
  const { $schema: _ignored, ...shape } = z.toJSONSchema(documented, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return z
    .unknown()
    .transform((input, ctx) => {
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        ctx.addIssue({ code: 'custom', message: 'expected an object keyed by label', input });
        return z.NEVER;
      }
      const out: Record<string, z.output<V>> = {};
      for (const key of Object.keys(input)) {
        if (key === '') {
          ctx.addIssue({ code: 'custom', message: 'labels must not be empty', path: [key], input });
          continue;
        }
        const r = value.safeParse((input as Record<string, unknown>)[key]);
        if (!r.success) {
          for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: [key, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
          continue;
        }
        Object.defineProperty(out, key, { value: r.data, enumerable: true, writable: true, configurable: true });
      }
      return out;
    })
    .meta(shape);
}

/** The value a record holds for `label`, if it holds one of its own. */
export function labelValue<T>(record: Readonly<Record<string, T>>, label: string): T | undefined {
  return Object.hasOwn(record, label) ? record[label] : undefined;
}

/** Refuses a `class_weight` that names labels the task does not have (`param` class_weight). */
export function checkWeightedLabels(weights: 'balanced' | Readonly<Record<string, unknown>> | null, labels: ReadonlyMap<string, number>): void {
  if (!weights || weights === 'balanced') return;
  const unknown = Object.keys(weights).filter((l) => !labels.has(l));
  if (unknown.length) {
    throw new DomainError('unknown_label', `class_weight names labels the task does not have: ${unknown.map((l) => `"${l}"`).join(', ')}`, 'class_weight');
  }
}
