/**
 * Streaming parsers for example uploads: a JSON array, JSON Lines, or CSV
 * with a header naming `text` and `label`. The body is read as a stream (never
 * buffered whole, under the rules of body.ts); each record is validated as it
 * arrives and problems carry the line (or array index) they come from. The
 * caller gets every record or an error listing what was wrong: uploads are
 * all-or-nothing.
 *
 * What an upload may cost is bounded by what it may hold, whatever it holds:
 * every record counts toward the examples limit, valid or not; a record longer
 * than a valid one could be is refused without being kept; and bad records are
 * counted, with only the first few described, so a small compressed body of
 * bad records cannot buy memory or CPU (the hostile-input suite holds it).
 */
import type { Request } from 'express';
import { DomainError } from '../errors.js';
import { bodyChunks } from './body.js';
import { csvRows } from './csv.js';
import { jsonProblem } from './json-body.js';
import { storableProblem } from './schemas/stored-text.js';
import type { TaskKind } from '../lib/task-kind.js';
import { labelSetKey } from '../store/label-set.js';

export interface UploadRecord {
  text: unknown;
  label: unknown;
  /** A multi-label example's labels (JSON: a list; CSV: one field, LABEL_SEPARATOR between labels). */
  labels?: unknown;
  /** "line 12" or "examples[11]": where the record came from, for messages. */
  where: string;
}

/** A record that could not be read; kept as data, not as an Error (a stack per bad record is what filled the heap). */
interface BadRecord {
  where: string;
  problem: string;
}

type Parsed = UploadRecord | BadRecord;

export type UploadFormat = 'json' | 'jsonl' | 'csv';

const MEDIA_TYPES = new Map<string, UploadFormat>([
  ['application/json', 'json'],
  ['application/x-ndjson', 'jsonl'],
  ['application/jsonl', 'jsonl'],
  ['application/x-jsonlines', 'jsonl'],
  ['application/jsonlines', 'jsonl'],
  ['text/csv', 'csv'],
]);

export const UPLOAD_MEDIA_TYPES = [...MEDIA_TYPES.keys()];

export function uploadFormat(req: Request): UploadFormat {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const format = MEDIA_TYPES.get(type);
  if (!format) {
    throw new DomainError('unsupported_media_type', `send examples as ${UPLOAD_MEDIA_TYPES.join(', ')} (got "${type.slice(0, 100) || 'no content type'}")`);
  }
  return format;
}

export interface UploadLimits {
  maxBytes: number;
  maxExamples: number;
  maxTextChars: number;
  maxLabelChars: number;
  /** How long the body may take to arrive. */
  timeoutMs: number;
}

/** Most labels one multi-label example may carry. */
export const MAX_LABELS_PER_EXAMPLE = 50;
/** Between a multi-label example's labels in a CSV `labels` field (`joy|surprise`). */
export const LABEL_SEPARATOR = '|';

/**
 * The longest a record's source can be and still hold a valid example: every
 * character escaped (`\u0000`, six each) plus room for the field names and
 * whitespace. Longer records are refused as they stream, without being kept.
 */
export function maxRecordChars(limits: UploadLimits): number {
  return 6 * (limits.maxTextChars + MAX_LABELS_PER_EXAMPLE * (limits.maxLabelChars + 3)) + 1024;
}

/** An upload's records nest one level (an object of strings); deeper is never valid, and is refused before JSON.parse builds it. */
const MAX_RECORD_DEPTH = 16;

const tooLong = (max: number) => `longer than ${max} characters, more than any valid example`;

/**
 * Splits a byte stream into lines, decoding UTF-8 across chunk boundaries. A
 * line's pieces are joined once, at its end (appending to one growing string
 * and slicing it per chunk is quadratic in the line's length). A line
 * over `maxChars` is dropped as it arrives and comes out as null.
 */
async function* lines(chunks: AsyncIterable<Buffer>, maxChars: number): AsyncGenerator<string | null> {
  const decoder = new TextDecoder('utf-8');
  let pieces: string[] = [];
  /** Characters of the current line so far; -1 once it is over the limit. */
  let length = 0;
  const add = (piece: string) => {
    if (length < 0 || piece.length === 0) return;
    length += piece.length;
    if (length > maxChars) {
      pieces = [];
      length = -1;
    } else pieces.push(piece);
  };
  const finish = (): string | null => {
    const line = length < 0 ? null : pieces.join('').replace(/\r$/, '');
    pieces = [];
    length = 0;
    return line;
  };
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      add(text.slice(from, nl));
      yield finish();
      from = nl + 1;
    }
    add(text.slice(from));
  }
  add(decoder.decode());
  if (length !== 0) yield finish();
}

function fromObject(value: unknown, where: string): Parsed {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { where, problem: 'each example must be an object {"text", "label"} (multi-label tasks: {"text", "labels"})' };
  const o = value as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== 'text' && k !== 'label' && k !== 'labels');
  if (extra.length) {
    const named = extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40)));
    return { where, problem: `unknown field${extra.length > 1 ? 's' : ''} ${named.join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''}` };
  }
  return { text: o.text, label: o.label, ...('labels' in o ? { labels: o.labels } : {}), where };
}

/** One record's JSON text as a record, or what is wrong with it. */
function fromJson(text: string, where: string): Parsed {
  if (tooDeep(text)) return { where, problem: `nests deeper than ${MAX_RECORD_DEPTH} levels` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { where, problem: `not valid JSON: ${jsonProblem(err)}` };
  }
  return fromObject(value, where);
}

function tooDeep(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > MAX_RECORD_DEPTH) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}

async function* jsonlRecords(chunks: AsyncIterable<Buffer>, maxChars: number): AsyncGenerator<Parsed> {
  let n = 0;
  for await (const line of lines(chunks, maxChars)) {
    n++;
    if (line === null) yield { where: `line ${n}`, problem: tooLong(maxChars) };
    else if (line.trim()) yield fromJson(line, `line ${n}`);
  }
}

const isSpace = (ch: string) => ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t';

/**
 * A JSON array read element by element: a scanner tracks strings and nesting,
 * and each top-level element is handed to JSON.parse on its own, so the whole
 * array never exists as one string. An element over `maxChars` is scanned
 * through but not kept.
 */
async function* jsonArrayRecords(chunks: AsyncIterable<Buffer>, maxChars: number): AsyncGenerator<Parsed> {
  const decoder = new TextDecoder('utf-8');
  let started = false;
  let ended = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let pieces: string[] = [];
  /** Characters of the current element so far; -1 once it is over the limit. */
  let length = 0;
  let index = 0;
  const add = (piece: string) => {
    if (length < 0) return;
    length += piece.length;
    if (length > maxChars) {
      pieces = [];
      length = -1;
    } else pieces.push(piece);
  };
  /** The element just closed; none when it is the nothing inside `[]`. */
  const emit = (closing: boolean): Parsed | undefined => {
    const over = length < 0;
    const text = over ? '' : pieces.join('').trim();
    pieces = [];
    length = 0;
    if (over) return { where: `examples[${index++}]`, problem: tooLong(maxChars) };
    if (!text) return closing && index === 0 ? undefined : { where: `examples[${index}]`, problem: 'empty array element (a stray comma?)' };
    return fromJson(text, `examples[${index++}]`);
  };
  const scan = function* (s: string): Generator<Parsed> {
    let from = 0;
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!;
      if (ended) {
        if (!isSpace(ch)) throw new DomainError('invalid_json', 'unexpected content after the closing "]" of the examples array');
        continue;
      }
      if (!started) {
        if (isSpace(ch)) continue;
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
          add(s.slice(from, i));
          const r = emit(true);
          if (r) yield r;
          ended = true;
          continue;
        }
        depth--;
      } else if (ch === ',' && depth === 0) {
        add(s.slice(from, i));
        const r = emit(false);
        if (r) yield r;
        from = i + 1;
      }
    }
    if (started && !ended) add(s.slice(from));
  };
  for await (const chunk of chunks) yield* scan(decoder.decode(chunk, { stream: true }));
  yield* scan(decoder.decode());
  if (!ended) throw new DomainError('invalid_json', started ? 'the examples array is not closed (truncated upload?)' : 'the upload is empty');
}

/** CSV whose header names the columns text and label (multi-label tasks: labels); a record's fields must be as many as the header's. */
async function* csvRecords(chunks: AsyncIterable<Buffer>, maxChars: number): AsyncGenerator<Parsed> {
  let textCol = -1;
  let labelCol = -1;
  let labelsCol = -1;
  let width = 0;
  for await (const { fields, line } of csvRows(chunks, maxChars)) {
    const where = `line ${line}`;
    if (textCol < 0) {
      const header = (fields ?? []).map((h) => h.trim().toLowerCase());
      textCol = header.indexOf('text');
      labelCol = header.indexOf('label');
      labelsCol = header.indexOf('labels');
      width = header.length;
      if (textCol < 0 || (labelCol < 0 && labelsCol < 0)) {
        const got = fields
          ? fields
              .slice(0, 10)
              .map((h) => JSON.stringify(h.slice(0, 40)))
              .join(', ')
          : tooLong(maxChars);
        throw new DomainError(
          'invalid_csv',
          `${where}: the CSV header must name the columns "text" and "label" (multi-label tasks: "text" and "labels", the labels separated by "${LABEL_SEPARATOR}") (got ${got})`,
        );
      }
      continue;
    }
    if (fields === null) yield { where, problem: tooLong(maxChars) };
    else if (fields.length !== width) yield { where, problem: `has ${fields.length} fields; the header has ${width}` };
    else
      yield {
        text: fields[textCol],
        label: labelCol < 0 ? undefined : fields[labelCol],
        ...(labelsCol < 0 ? {} : { labels: fields[labelsCol]!.trim() ? fields[labelsCol]!.split(LABEL_SEPARATOR).map((l) => l.trim()) : [] }),
        where,
      };
  }
  if (textCol < 0) throw new DomainError('invalid_csv', 'the upload is empty: expected a header line "text,label"');
}

export interface ValidExample {
  text: string;
  label: string;
  /** Where the record was ("line 12"), for messages about it. */
  at: string;
}

/** Problems listed back to the client; past this many, only the count grows. */
const MAX_LISTED_ERRORS = 20;

/** What a value is, for a message (never the value itself: it may be huge, or nested past what stringifying survives). */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}

/** What is wrong with one label, or undefined. */
function labelProblem(label: unknown, name: string, limits: UploadLimits): string | undefined {
  if (typeof label !== 'string') return label === undefined ? `${name} is missing` : `${name} must be a string (got ${kindOf(label)})`;
  if (!label.trim()) return `${name} is empty`;
  if (label.length > limits.maxLabelChars) return `${name} is longer than ${limits.maxLabelChars} characters`;
  const problem = storableProblem(label);
  return problem ? `${name} ${problem}` : undefined;
}

/** The example a record holds (a multi-label one's label being its set's stored key), or what is wrong with it. */
function check(r: UploadRecord, limits: UploadLimits, kind: TaskKind): ValidExample | string {
  if (typeof r.text !== 'string') return r.text === undefined ? 'text is missing' : `text must be a string (got ${kindOf(r.text)})`;
  if (!r.text.trim()) return 'text is empty';
  if (r.text.length > limits.maxTextChars) return `text is longer than ${limits.maxTextChars} characters`;
  const textProblem = storableProblem(r.text);
  if (textProblem) return `text ${textProblem}`;
  if (kind === 'single_label') {
    if (r.labels !== undefined) return 'labels (a list) is for multi-label tasks; this task is single-label: send one label';
    return labelProblem(r.label, 'label', limits) ?? { text: r.text, label: r.label as string, at: r.where };
  }
  if (r.label !== undefined) return 'this task is multi-label: send labels, a list of label strings, instead of label';
  if (!Array.isArray(r.labels)) return r.labels === undefined ? 'labels is missing' : `labels must be a list of strings (got ${kindOf(r.labels)})`;
  if (r.labels.length === 0) return 'labels is empty: a multi-label example needs at least one label';
  if (r.labels.length > MAX_LABELS_PER_EXAMPLE) return `labels holds more than ${MAX_LABELS_PER_EXAMPLE} labels`;
  for (const [i, l] of r.labels.entries()) {
    const problem = labelProblem(l, `labels[${i}]`, limits);
    if (problem) return problem;
  }
  return { text: r.text, label: labelSetKey(r.labels as string[]), at: r.where };
}

/** Reads and validates a whole upload; throws one DomainError listing the problems, or returns every example. */
export async function readUpload(req: Request, limits: UploadLimits, kind: TaskKind): Promise<{ examples: ValidExample[]; format: UploadFormat }> {
  const format = uploadFormat(req);
  const chunks = bodyChunks(req, { maxBytes: limits.maxBytes, timeoutMs: limits.timeoutMs });
  const maxChars = maxRecordChars(limits);
  const records = format === 'json' ? jsonArrayRecords(chunks, maxChars) : format === 'jsonl' ? jsonlRecords(chunks, maxChars) : csvRecords(chunks, maxChars);
  const examples: ValidExample[] = [];
  const listed: Array<{ at: string; message: string }> = [];
  let bad = 0;
  let count = 0;
  for await (const r of records) {
    if (++count > limits.maxExamples) {
      throw new DomainError('too_many_examples', `an upload may hold at most ${limits.maxExamples} examples (valid or not); nothing was added`);
    }
    const outcome = 'problem' in r ? r.problem : check(r, limits, kind);
    if (typeof outcome === 'string') {
      if (++bad <= MAX_LISTED_ERRORS) listed.push({ at: r.where, message: outcome });
      // The upload fails whole now: keeping its valid examples would only hold memory.
      examples.length = 0;
    } else if (bad === 0) examples.push(outcome);
  }
  if (bad) {
    const first = listed[0]!;
    throw new DomainError(
      'invalid_examples',
      `${bad} invalid example${bad > 1 ? 's' : ''}; nothing was added. First: ${first.at}: ${first.message}`,
      'examples',
      {
        errors: listed,
        ...(bad > listed.length ? { more: bad - listed.length } : {}),
      },
    );
  }
  if (examples.length === 0) throw new DomainError('empty_upload', 'the upload holds no examples', 'examples');
  return { examples, format };
}
