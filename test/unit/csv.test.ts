/** The CSV reader of uploads: RFC 4180 quoting, line breaks of every kind, and any split of the bytes into chunks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvRows, type CsvRow } from '../../src/http/csv.js';
import { DomainError } from '../../src/errors.js';

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** The rows of `csv`, read whole and read in chunks of every size up to 7 bytes: all must agree. */
async function rows(csv: string, maxChars = 1000): Promise<CsvRow[]> {
  const bytes = Buffer.from(csv);
  const read = async (size: number) => {
    const out: CsvRow[] = [];
    for await (const row of csvRows(pieces(bytes, size), maxChars)) out.push(row);
    return out;
  };
  const whole = await read(Math.max(1, bytes.length));
  for (let size = 1; size <= 7; size++) assert.deepEqual(await read(size), whole, `read ${size} bytes at a time`);
  return whole;
}

async function refused(csv: string, message: RegExp): Promise<void> {
  for (const size of [1, 3, csv.length]) {
    await assert.rejects(
      (async () => {
        for await (const _ of csvRows(pieces(Buffer.from(csv), size), 1000));
      })(),
      (e: unknown) => e instanceof DomainError && e.code === 'invalid_csv' && message.test(e.message),
    );
  }
}

test('csv: fields, quoted fields with commas, doubled quotes and line breaks, each row with the line it starts on', async () => {
  assert.deepEqual(await rows('text,label\n"she said ""hi""",greet\n"two\nlines, and a comma",multi\nplain,greet\n'), [
    { fields: ['text', 'label'], line: 1 },
    { fields: ['she said "hi"', 'greet'], line: 2 },
    { fields: ['two\nlines, and a comma', 'multi'], line: 3 },
    { fields: ['plain', 'greet'], line: 5 },
  ]);
  assert.deepEqual(await rows('a,,""\n"",b,\n'), [
    { fields: ['a', '', ''], line: 1 },
    { fields: ['', 'b', ''], line: 2 },
  ]);
});

test('csv: \\n, \\r\\n and \\r end rows; empty lines are skipped but counted; a last row needs no line break; a BOM is dropped', async () => {
  assert.deepEqual(await rows('\ufefftext,label\r\n\r\na,b\r\n"c\r\nd",e\rf,g'), [
    { fields: ['text', 'label'], line: 1 },
    { fields: ['a', 'b'], line: 3 },
    { fields: ['c\r\nd', 'e'], line: 4 },
    { fields: ['f', 'g'], line: 6 },
  ]);
  assert.deepEqual(await rows('\n\nx\n\n'), [{ fields: ['x'], line: 3 }]);
  assert.deepEqual(await rows('""\n'), [{ fields: [''], line: 1 }], 'a quoted empty field is a row, not an empty line');
  assert.deepEqual(await rows(''), []);
});

test('csv: characters of several bytes survive any split', async () => {
  assert.deepEqual(await rows('é😀,"ü\n👍"\n'), [{ fields: ['é😀', 'ü\n👍'], line: 1 }]);
});

test('csv: a row over the limit comes out without its fields, and the rows after it are read', async () => {
  assert.deepEqual(await rows(`a,b\n${'x'.repeat(30)},y\n"${'z'.repeat(30)}\n",w\nc,d\n`, 20), [
    { fields: ['a', 'b'], line: 1 },
    { fields: null, line: 2 },
    { fields: null, line: 3 },
    { fields: ['c', 'd'], line: 5 },
  ]);
});

test('csv: a broken quote ends the read with invalid_csv and its line', async () => {
  await refused('text,label\nhello "world" there,a\n', /^line 2: a quote inside an unquoted field/);
  await refused('text,label\n"hello" world,a\n', /^line 2: " " after the closing quote/);
  await refused('text,label\nok,a\n"never\nclosed,a\n', /^line 3: a quoted field is never closed/);
});
