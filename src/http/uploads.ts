/**
 * Streaming parsers for example uploads: a JSON array, JSON Lines, or CSV
 * with a header naming `text` and `label`. The body is read as a stream (never
 * buffered whole); each record is validated as it arrives and errors carry the
 * line (or array index) they come from. The caller gets every record or an
 * error listing what was wrong: uploads are all-or-nothing.
 */
import type { Request } from 'express';
import { createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { DomainError } from '../errors.js';

export interface UploadRecord {
  text: unknown;
  label: unknown;
  /** "line 12" or "examples[11]": where the record came from, for messages. */
  where: string;
}

export type UploadFormat = 'json' | 'jsonl' | 'csv';

const MEDIA_TYPES: Record<string, UploadFormat> = {
  'application/json': 'json',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'application/jsonlines': 'jsonl',
  'text/csv': 'csv',
};

export const UPLOAD_MEDIA_TYPES = Object.keys(MEDIA_TYPES);

export function uploadFormat(req: Request): UploadFormat {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const format = MEDIA_TYPES[type];
  if (!format) {
    throw new DomainError('unsupported_media_type', `send examples as ${UPLOAD_MEDIA_TYPES.join(', ')} (got "${type || 'no content type'}")`);
  }
  return format;
}

/** The request body as a byte stream, decompressed when sent with Content-Encoding gzip/deflate, cut off past `limit` bytes. */
async function* bodyChunks(req: Request, limit: number): AsyncGenerator<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  let stream: Readable = req;
  if (encoding === 'gzip') stream = req.pipe(createGunzip());
  else if (encoding === 'deflate') stream = req.pipe(createInflate());
  else if (encoding !== 'identity') throw new DomainError('unsupported_encoding', `content encoding "${encoding}" is not supported (use gzip or deflate)`);
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).byteLength;
      if (total > limit) throw new DomainError('body_too_large', `upload exceeds the limit of ${limit} bytes`);
      yield chunk as Buffer;
    }
  } catch (err) {
    if (err instanceof DomainError) throw err;
    throw new DomainError('invalid_body', `could not read the upload: ${(err as Error).message}`);
  }
}

/** Splits a byte stream into lines, decoding UTF-8 across chunk boundaries. */
async function* lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  for await (const chunk of chunks) {
    rest += decoder.decode(chunk, { stream: true });
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      yield rest.slice(0, nl).replace(/\r$/, '');
      rest = rest.slice(nl + 1);
    }
  }
  rest += decoder.decode();
  if (rest.length) yield rest.replace(/\r$/, '');
}

class RecordError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(message);
  }
}

function fromObject(value: unknown, where: string): UploadRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RecordError(where, 'each example must be an object {"text", "label"}');
  const o = value as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== 'text' && k !== 'label');
  if (extra.length) throw new RecordError(where, `unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')}`);
  return { text: o.text, label: o.label, where };
}

async function* jsonlRecords(chunks: AsyncIterable<Buffer>, errors: RecordError[]): AsyncGenerator<UploadRecord> {
  let n = 0;
  for await (const line of lines(chunks)) {
    n++;
    if (!line.trim()) continue;
    try {
      yield fromObject(JSON.parse(line), `line ${n}`);
    } catch (err) {
      errors.push(err instanceof RecordError ? err : new RecordError(`line ${n}`, `not valid JSON: ${(err as Error).message}`));
    }
  }
}

/**
 * A JSON array read element by element: a scanner tracks strings and nesting,
 * and each top-level element is handed to JSON.parse on its own, so the whole
 * array never exists as one string.
 */
async function* jsonArrayRecords(chunks: AsyncIterable<Buffer>, errors: RecordError[]): AsyncGenerator<UploadRecord> {
  const decoder = new TextDecoder('utf-8');
  let started = false;
  let ended = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element = '';
  let index = 0;
  const emit = function* (): Generator<UploadRecord> {
    const text = element.trim();
    element = '';
    if (!text) {
      errors.push(new RecordError(`examples[${index}]`, 'empty array element (a stray comma?)'));
      return;
    }
    const where = `examples[${index++}]`;
    try {
      yield fromObject(JSON.parse(text), where);
    } catch (err) {
      errors.push(err instanceof RecordError ? err : new RecordError(where, `not valid JSON: ${(err as Error).message}`));
    }
  };
  const scan = function* (s: string): Generator<UploadRecord> {
    let from = 0;
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!;
      if (ended) {
        if (!/\s/.test(ch)) throw new DomainError('invalid_json', 'unexpected content after the closing "]" of the examples array');
        continue;
      }
      if (!started) {
        if (/\s/.test(ch)) continue;
        if (ch !== '[') throw new DomainError('invalid_json', 'a JSON upload must be an array of {"text", "label"} objects');
        started = true;
        from = i + 1;
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        if (depth === 0 && ch === ']') {
          element += s.slice(from, i);
          if (element.trim() || index > 0) yield* emit();
          ended = true;
          continue;
        }
        depth--;
      } else if (ch === ',' && depth === 0) {
        element += s.slice(from, i);
        yield* emit();
        from = i + 1;
      }
    }
    if (started && !ended) element += s.slice(from);
  };
  for await (const chunk of chunks) yield* scan(decoder.decode(chunk, { stream: true }));
  yield* scan(decoder.decode());
  if (!ended) throw new DomainError('invalid_json', started ? 'the examples array is not closed (truncated upload?)' : 'the upload is empty');
}

async function* csvRecords(chunks: AsyncIterable<Buffer>, errors: RecordError[]): AsyncGenerator<UploadRecord> {
  const parser = parseCsv({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true });
  const feed = (async () => {
    try {
      for await (const chunk of chunks) if (!parser.write(chunk)) await new Promise((r) => parser.once('drain', r));
      parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();
  let textCol = -1;
  let labelCol = -1;
  let width = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const where = `line ${info.lines}`;
      if (textCol < 0) {
        const header = record.map((h) => h.trim().toLowerCase());
        textCol = header.indexOf('text');
        labelCol = header.indexOf('label');
        width = header.length;
        if (textCol < 0 || labelCol < 0)
          throw new DomainError(
            'invalid_csv',
            `line ${info.lines}: the CSV header must name the columns "text" and "label" (got ${record.map((h) => JSON.stringify(h)).join(', ')})`,
          );
        continue;
      }
      if (record.length !== width) {
        errors.push(new RecordError(where, `has ${record.length} fields; the header has ${width}`));
        continue;
      }
      yield { text: record[textCol], label: record[labelCol], where };
    }
  } catch (err) {
    if (err instanceof DomainError) throw err;
    const e = err as Error & { lines?: number };
    throw new DomainError('invalid_csv', `${e.lines ? `line ${e.lines}: ` : ''}${e.message}`);
  } finally {
    await feed;
  }
  if (textCol < 0) throw new DomainError('invalid_csv', 'the upload is empty: expected a header line "text,label"');
}

export interface ValidExample {
  text: string;
  label: string;
}

export interface UploadLimits {
  maxBytes: number;
  maxExamples: number;
  maxTextChars: number;
  maxLabelChars: number;
}

/** Errors listed back to the client; past this many, the count says how many more. */
const MAX_LISTED_ERRORS = 20;

function check(r: UploadRecord, limits: UploadLimits): ValidExample {
  if (typeof r.text !== 'string') throw new RecordError(r.where, r.text === undefined ? 'text is missing' : 'text must be a string');
  if (!r.text.trim()) throw new RecordError(r.where, 'text is empty');
  if (r.text.length > limits.maxTextChars) throw new RecordError(r.where, `text is longer than ${limits.maxTextChars} characters`);
  if (typeof r.label !== 'string')
    throw new RecordError(r.where, r.label === undefined ? 'label is missing' : `label must be a string (got ${JSON.stringify(r.label)})`);
  if (!r.label.trim()) throw new RecordError(r.where, 'label is empty');
  if (r.label.length > limits.maxLabelChars) throw new RecordError(r.where, `label is longer than ${limits.maxLabelChars} characters`);
  return { text: r.text, label: r.label };
}

/** Reads and validates a whole upload; throws one DomainError listing the problems, or returns every example. */
export async function readUpload(req: Request, limits: UploadLimits): Promise<{ examples: ValidExample[]; format: UploadFormat }> {
  const format = uploadFormat(req);
  const errors: RecordError[] = [];
  const chunks = bodyChunks(req, limits.maxBytes);
  const records = format === 'json' ? jsonArrayRecords(chunks, errors) : format === 'jsonl' ? jsonlRecords(chunks, errors) : csvRecords(chunks, errors);
  const examples: ValidExample[] = [];
  let count = 0;
  for await (const r of records) {
    if (++count > limits.maxExamples) throw new DomainError('too_many_examples', `an upload may hold at most ${limits.maxExamples} examples`);
    try {
      examples.push(check(r, limits));
    } catch (err) {
      errors.push(err as RecordError);
    }
  }
  if (errors.length) {
    const listed = errors.slice(0, MAX_LISTED_ERRORS).map((e) => ({ at: e.where, message: e.message }));
    const more = errors.length - listed.length;
    throw new DomainError(
      'invalid_examples',
      `${errors.length} invalid example${errors.length > 1 ? 's' : ''}; nothing was added. First: ${listed[0]!.at}: ${listed[0]!.message}`,
      'examples',
      { errors: listed, ...(more > 0 ? { more } : {}) },
    );
  }
  if (examples.length === 0) throw new DomainError('empty_upload', 'the upload holds no examples', 'examples');
  return { examples, format };
}
