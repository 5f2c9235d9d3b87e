/**
 * How one encoder run lays its sequences out in the [rows, width] tensor.
 *
 * A graph that understands sequence-numbered masks (importer version 3 on;
 * see `sequenceMask` in import/attention.ts) takes several sequences in one
 * row, each attending to itself alone with its positions restarting at 0. Rows
 * are as few as a capacity of `rowTokens` (or the longest sequence, if longer)
 * allows, and balanced: each sequence, longest first, goes to the emptiest row,
 * so a run pays for its real tokens plus little padding, instead of every
 * sequence padded to the longest.
 * The price is attention over the whole row: each token scores every key of its
 * row and the mask discards the other sequences' keys, which is why the
 * capacity is bounded rather than one row for the whole run.
 *
 * With `rowTokens` 0 (a graph that reads the mask as 1/0) every sequence has a
 * row of its own, padded to the longest.
 */
/**
 * Row capacity for packed runs. Attention across a row costs each token about
 * 2·width·hidden multiply-adds a layer against 12·hidden² for the linear layers
 * (hidden 384: 6 % at 128 tokens, 11 % at 256), while short rows leave more
 * padding at the end of each.
 */
export const PACKED_ROW_TOKENS = 128;

/**
 * Most tokens in one packed run. Packing removes the reason to keep runs
 * short (their padding), but past a few hundred tokens onnxruntime's
 * throughput per token falls again (docs/benchmarks/embed.md).
 */
export const PACKED_RUN_TOKENS = 512;

export interface RowLayout {
  rows: number;
  /** Tokens per row: the fullest row's fill. */
  width: number;
  /** Per sequence, in input order: its row, its first token's column, and its number within the row (from 1). */
  places: Array<{ row: number; start: number; segment: number }>;
}

export function layoutRows(lengths: readonly number[], rowTokens: number): RowLayout {
  if (rowTokens <= 0) {
    return { rows: lengths.length, width: Math.max(0, ...lengths), places: lengths.map((_, row) => ({ row, start: 0, segment: 1 })) };
  }
  const capacity = Math.max(rowTokens, ...lengths);
  const total = lengths.reduce((a, b) => a + b, 0);
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  // Longest first to the emptiest row lands within 4/3 of the best balance; one more row when that overflows.
  for (let rows = Math.max(1, Math.ceil(total / capacity)); ; rows++) {
    const layout = balanced(lengths, order, rows);
    if (layout.width <= capacity || rows >= lengths.length) return layout;
  }
}

function balanced(lengths: readonly number[], order: readonly number[], rows: number): RowLayout {
  const fill = new Array<number>(rows).fill(0);
  const count = new Array<number>(rows).fill(0);
  const places = new Array<{ row: number; start: number; segment: number }>(lengths.length);
  for (const i of order) {
    let row = 0;
    for (let r = 1; r < rows; r++) if (fill[r]! < fill[row]!) row = r;
    places[i] = { row, start: fill[row]!, segment: ++count[row]! };
    fill[row]! += lengths[i]!;
  }
  return { rows, width: Math.max(0, ...fill), places };
}
