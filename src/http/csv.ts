/**
 * CSV records from a byte stream, as RFC 4180 writes them: fields between
 * commas; a field in double quotes may hold commas, line breaks and doubled
 * quotes. A record ends at \n, \r\n or \r; empty lines are skipped; a byte
 * order mark at the start is dropped. Each record carries the line it starts
 * on. A broken quote ends the read with an invalid_csv error: past it, no line
 * can be trusted.
 *
 * Written here rather than taken from csv-parse, which builds an Error (a
 * stack, deep copies of its state) for every record whose field count is not
 * the header's, even when told to let it pass: refusing such records cost
 * more than storing valid ones.
 */
import { DomainError } from '../errors.js';

export interface CsvRow {
  /** Its fields; null for a record longer than the read's limit, which is not kept. */
  fields: string[] | null;
  /** The line it starts on, from 1. */
  line: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

// Where the scanner is within a field.
/** Nothing of the field read yet. */
const START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote inside a quoted field: its end, or the first of a doubled quote. */
const QUOTE_IN_QUOTED = 3;
type At = typeof START | typeof UNQUOTED | typeof QUOTED | typeof QUOTE_IN_QUOTED;

const invalid = (line: number, problem: string) => new DomainError('invalid_csv', `line ${line}: ${problem}`);

/** A character as a message shows it. */
const shown = (code: number) => JSON.stringify(String.fromCharCode(code));

/** The records of a CSV byte stream; a record over `maxChars` characters comes out without its fields. */
export async function* csvRows(chunks: AsyncIterable<Buffer>, maxChars: number): AsyncGenerator<CsvRow> {
  const decoder = new TextDecoder('utf-8');
  let at = START as At;
  let fields: string[] = [];
  /** The current field's text before the current run. */
  let field = '';
  /** Where in the current piece of text the current run of field characters began; -1 outside a run. */
  let run = -1;
  /** Characters of the record so far (fields ended, and the current one up to its run); -1 once over the limit. */
  let size = 0;
  /** Whether the current field was quoted (an empty quoted field makes a line that is not empty). */
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let quoteLine = 1;
  let lastWasCR = false;
  let first = true;

  const addToField = (piece: string) => {
    if (size < 0 || piece.length === 0) return;
    size += piece.length;
    if (size > maxChars) {
      size = -1;
      fields = [];
      field = '';
    } else field += piece;
  };
  const endField = () => {
    if (size >= 0) fields.push(field);
    field = '';
    quoted = false;
    at = START;
  };
  /** The record just ended, or undefined for an empty line. */
  const endRecord = (): CsvRow | undefined => {
    const empty = size === 0 && fields.length === 0 && !quoted && at === START;
    endField();
    const record = empty ? undefined : { fields: size < 0 ? null : fields, line: recordLine };
    fields = [];
    size = 0;
    return record;
  };

  /** Scans one piece of decoded text; the records that end in it. */
  const scan = (s: string): CsvRow[] => {
    const out: CsvRow[] = [];
    let i = 0;
    if (first && s.length > 0) {
      first = false;
      if (s.charCodeAt(0) === BOM) i = 1;
    }
    run = at === UNQUOTED || at === QUOTED ? i : -1;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const afterCR = lastWasCR;
      lastWasCR = c === CR;
      switch (at) {
        case QUOTED:
          if (c === QUOTE) {
            addToField(s.slice(run, i));
            run = -1;
            at = QUOTE_IN_QUOTED;
          } else if (c === CR || (c === LF && !afterCR)) line++;
          break;
        case QUOTE_IN_QUOTED:
          if (c === QUOTE) {
            // A doubled quote: the second one starts the next run, and is kept.
            run = i;
            at = QUOTED;
          } else if (c === COMMA) endField();
          else if (c === CR || c === LF) {
            const record = endRecord();
            if (record) out.push(record);
            line++;
            recordLine = line;
          } else
            throw invalid(line, `${shown(c)} after the closing quote of a field; a quoted field ends at its closing quote, then a comma or the line's end`);
          break;
        default:
          // START and UNQUOTED.
          if (c === COMMA) {
            if (run >= 0) addToField(s.slice(run, i));
            run = -1;
            endField();
          } else if (c === CR || c === LF) {
            if (c === LF && afterCR) {
              // The \n of \r\n: the \r ended the line.
              recordLine = line;
              continue;
            }
            if (run >= 0) addToField(s.slice(run, i));
            run = -1;
            const record = endRecord();
            if (record) out.push(record);
            line++;
            recordLine = line;
          } else if (c === QUOTE) {
            if (at === UNQUOTED)
              throw invalid(
                line,
                'a quote inside an unquoted field; a field that holds quotes must be quoted whole, each of its quotes doubled ("say ""hi""")',
              );
            at = QUOTED;
            quoted = true;
            quoteLine = line;
            run = i + 1;
          } else if (at === START) {
            at = UNQUOTED;
            run = i;
          }
      }
    }
    // The piece ends inside a run: keep what it holds, the run goes on in the next piece.
    if (run >= 0) addToField(s.slice(run));
    return out;
  };

  for await (const chunk of chunks) yield* scan(decoder.decode(chunk, { stream: true }));
  yield* scan(decoder.decode());
  if (at === QUOTED) throw invalid(quoteLine, 'a quoted field is never closed');
  const last = endRecord();
  if (last) yield last;
}
