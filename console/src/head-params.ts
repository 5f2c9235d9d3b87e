/**
 * A head type's parameters as form inputs, drawn from the JSON Schema GET
 * /v1/heads gives for them: a checkbox, a list of choices, a number, or, for
 * anything else (unions, lists, null), a text read as JSON in which a bare
 * word is a string. Nothing here knows a head type by name, so a new head
 * type needs no console change. Pure.
 */
import type { HeadType, ParamSchema } from './api/responses.js';

export type ParamInput =
  | { kind: 'toggle' }
  | { kind: 'choice'; options: string[] }
  | { kind: 'number'; integer: boolean; min?: number; max?: number }
  | { kind: 'text' };

/** What a person set: a checkbox's state, or any other input's text. */
export type ParamEntry = string | boolean;

export function paramInput(schema: ParamSchema): ParamInput {
  if (schema.type === 'boolean') return { kind: 'toggle' };
  if (schema.type === 'string' && schema.enum?.every((o) => typeof o === 'string')) return { kind: 'choice', options: schema.enum as string[] };
  if (schema.type === 'number' || schema.type === 'integer') {
    return {
      kind: 'number',
      integer: schema.type === 'integer',
      ...(schema.minimum !== undefined ? { min: schema.minimum } : {}),
      ...(schema.maximum !== undefined ? { max: schema.maximum } : {}),
    };
  }
  return { kind: 'text' };
}

/** How a value reads in its input: a string as it is, anything else as JSON. */
const shown = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** The inputs of `head`'s parameters, each at its default. */
export function defaultEntries(head: HeadType): Record<string, ParamEntry> {
  return Object.fromEntries(
    Object.entries(head.params.properties).map(([name, schema]) => {
      const value = head.defaults[name];
      return [name, paramInput(schema).kind === 'toggle' ? value === true : value === undefined ? '' : shown(value)];
    }),
  );
}

/** What an entry sends: text is JSON where it parses (0.5, null, [128, 64]) and the string itself where not (scale, balanced). */
export function entryValue(input: ParamInput, entry: ParamEntry): unknown {
  if (typeof entry === 'boolean' || input.kind === 'choice') return entry;
  // An empty or partial number sends NaN (null in JSON), which the service refuses with a message.
  if (input.kind === 'number') return entry.trim() === '' ? Number.NaN : Number(entry);
  try {
    return JSON.parse(entry);
  } catch {
    return entry;
  }
}

/** The parameters set to something other than their default: a request says only what the person changed. */
export function changedParams(head: HeadType, entries: Record<string, ParamEntry>): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(head.params.properties)) {
    const entry = entries[name];
    // Left empty where the head type gives no default: the service chooses (from the task, for fine-tuning).
    if (entry === undefined || (entry === '' && head.defaults[name] === undefined)) continue;
    const value = entryValue(paramInput(schema), entry);
    if (JSON.stringify(value) !== JSON.stringify(head.defaults[name])) changed[name] = value;
  }
  return changed;
}
