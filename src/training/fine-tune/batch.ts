/**
 * A batch of texts as the fine-tuning graphs take it: their frozen states
 * laid out in rows (one text a row padded to the longest, or several a row
 * with `rowTokens` > 0, ../../encoder/packing.ts), the sequence-numbered
 * mask, and the pooling matrix that averages each text's tokens.
 */
import { Tensor } from 'onnxruntime-node';
import { layoutRows } from '../../encoder/packing.js';
import type { FrozenStates } from './frozen-states.js';

export interface BatchFeeds {
  feeds: { states: Tensor; attention_mask: Tensor; pooling: Tensor };
  rows: number;
  width: number;
  /** Real tokens in the batch. */
  tokens: number;
}

export function batchFeeds(states: FrozenStates, texts: ArrayLike<number>, rowTokens: number): BatchFeeds {
  const H = states.hidden;
  const n = texts.length;
  const lengths = Array.from({ length: n }, (_, j) => states.lengths[texts[j]!]!);
  const layout = layoutRows(lengths, rowTokens);
  const { rows, width } = layout;
  const cells = rows * width;
  const values = new Uint16Array(cells * H);
  const mask = new BigInt64Array(cells);
  const pooling = new Float32Array(n * cells);
  let tokens = 0;
  for (let j = 0; j < n; j++) {
    const { row, start, segment } = layout.places[j]!;
    const first = row * width + start;
    const len = lengths[j]!;
    tokens += len;
    states.read(texts[j]!, values, first * H);
    const number = BigInt(segment);
    for (let t = 0; t < len; t++) mask[first + t] = number;
    pooling.fill(1 / len, j * cells + first, j * cells + first + len);
  }
  return {
    feeds: {
      states: new Tensor('float16', values, [rows, width, H]),
      attention_mask: new Tensor('int64', mask, [rows, width]),
      pooling: new Tensor('float32', pooling, [n, cells]),
    },
    rows,
    width,
    tokens,
  };
}
