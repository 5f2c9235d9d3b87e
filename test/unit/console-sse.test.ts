/** The console's Server-Sent Events parser: the job view reads the events stream with it, in whatever chunks the network delivers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SseEvent, SseParser } from '../../console/src/api/sse.js';

const parse = (...chunks: string[]) => {
  const p = new SseParser();
  return chunks.flatMap((c) => p.push(c));
};

/** A stream as the job events endpoint sends it: a comment, two job events, then the end. */
const STREAM = [
  ': keep-alive',
  '',
  'event: job',
  'data: {"state":"running","progress":{"phase":"features","percent":12.5}}',
  '',
  'event: job',
  'data: {"state":"succeeded","progress":{"phase":"succeeded","percent":100}}',
  '',
  'event: end',
  'data: {}',
  '',
  '',
].join('\n');

const EXPECTED: SseEvent[] = [
  { event: 'job', data: '{"state":"running","progress":{"phase":"features","percent":12.5}}', id: '' },
  { event: 'job', data: '{"state":"succeeded","progress":{"phase":"succeeded","percent":100}}', id: '' },
  { event: 'end', data: '{}', id: '' },
];

test('events are dispatched at a blank line; comments are skipped', () => {
  assert.deepEqual(parse(STREAM), EXPECTED);
});

test('any split of the stream into chunks gives the same events, with LF, CRLF or CR line ends', () => {
  for (const eol of ['\n', '\r\n', '\r']) {
    const stream = STREAM.replace(/\n/g, eol);
    for (let i = 0; i <= stream.length; i++) {
      for (const j of [i, Math.min(stream.length, i + 1), Math.min(stream.length, i + 7)]) {
        assert.deepEqual(parse(stream.slice(0, i), stream.slice(i, j), stream.slice(j)), EXPECTED, `split at ${i} and ${j}, ${JSON.stringify(eol)}`);
      }
    }
  }
});

test('data lines join with newlines; one space after the colon is dropped; an event without data is not dispatched', () => {
  assert.deepEqual(parse('data:one\ndata:  two\n\n'), [{ event: 'message', data: 'one\n two', id: '' }]);
  assert.deepEqual(parse('event: job\n\nevent: end\ndata\n\n'), [{ event: 'end', data: '', id: '' }]);
});

test('an event is not dispatched until its blank line arrives', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('event: job\ndata: {}\n'), []);
  assert.deepEqual(p.push('\n'), [{ event: 'job', data: '{}', id: '' }]);
});

test('the last id is kept across events, retry sets the reconnection delay, a leading BOM is dropped', () => {
  const p = new SseParser();
  const events = p.push('\uFEFFid: 7\nretry: 2500\ndata: a\n\ndata: b\n\nretry: soon\n');
  assert.deepEqual(
    events.map((e) => [e.data, e.id]),
    [
      ['a', '7'],
      ['b', '7'],
    ],
  );
  assert.equal(p.retryMs, 2500);
});
