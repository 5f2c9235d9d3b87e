import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutRows } from '../../src/encoder/packing.js';

/** Every sequence placed once, inside its row, overlapping no other, numbered 1, 2, … in its row's order. */
function assertValid(lengths: number[], rowTokens: number): ReturnType<typeof layoutRows> {
  const layout = layoutRows(lengths, rowTokens);
  assert.equal(layout.places.length, lengths.length);
  const byRow = new Map<number, Array<{ start: number; end: number; segment: number }>>();
  for (const [i, p] of layout.places.entries()) {
    assert.ok(p.row >= 0 && p.row < layout.rows);
    assert.ok(p.start + lengths[i]! <= layout.width, `sequence ${i} ends past the width`);
    byRow.set(p.row, [...(byRow.get(p.row) ?? []), { start: p.start, end: p.start + lengths[i]!, segment: p.segment }]);
  }
  assert.equal(byRow.size, layout.rows, 'no row is empty');
  for (const spans of byRow.values()) {
    spans.sort((a, b) => a.start - b.start);
    spans.forEach((s, k) => {
      assert.equal(s.segment, k + 1, 'segments are numbered from 1 in row order');
      if (k > 0) assert.ok(spans[k - 1]!.end <= s.start, 'sequences do not overlap');
    });
  }
  return layout;
}

test('packed rows hold several sequences within the capacity, and waste little', () => {
  const lengths = Array.from({ length: 50 }, (_, i) => 5 + ((i * 37) % 41));
  const layout = assertValid(lengths, 128);
  assert.ok(layout.width <= 128);
  const tokens = lengths.reduce((a, b) => a + b, 0);
  assert.ok(layout.rows * layout.width < tokens * 1.1, `${layout.rows} × ${layout.width} padded tokens for ${tokens}`);
  assert.ok(layout.rows * layout.width < lengths.length * Math.max(...lengths), 'fewer padded tokens than one sequence a row');
});

test('a sequence longer than the capacity gets a row of its own, and sets the width', () => {
  const layout = assertValid([300, 10, 20], 128);
  assert.equal(layout.width, 300);
  assert.equal(layout.places[0]!.start, 0);
});

test('capacity 0 means one sequence a row, padded to the longest', () => {
  const layout = assertValid([3, 9, 4], 0);
  assert.deepEqual({ rows: layout.rows, width: layout.width, rowsOf: layout.places.map((p) => p.row) }, { rows: 3, width: 9, rowsOf: [0, 1, 2] });
});
