/**
 * The encoder graph's three inputs for a batch of token-id sequences, laid out
 * by ./packing.ts: several sequences a row (`rowTokens` > 0, graphs from
 * importer version 3 on) or one a row, right-padded (`rowTokens` 0, what any
 * BERT graph takes). The worker, the benchmarks and the tests all feed the
 * graph through this one place.
 */
import * as ort from 'onnxruntime-node';
import { layoutRows, type RowLayout } from './packing.js';

export interface EncoderFeeds {
  feeds: Record<'input_ids' | 'attention_mask' | 'token_type_ids', ort.Tensor>;
  layout: RowLayout;
  /** Per sequence: its first token's index in the flattened [rows, width] output. */
  firsts: number[];
}

export function encoderFeeds(seqs: readonly (readonly number[])[], rowTokens = 0): EncoderFeeds {
  const layout = layoutRows(
    seqs.map((s) => s.length),
    rowTokens,
  );
  const size = layout.rows * layout.width;
  const ids = new BigInt64Array(size);
  const mask = new BigInt64Array(size);
  const firsts = seqs.map((s, i) => {
    const { row, start, segment } = layout.places[i]!;
    const first = row * layout.width + start;
    const number = BigInt(segment);
    for (let t = 0; t < s.length; t++) {
      ids[first + t] = BigInt(s[t]!);
      mask[first + t] = number;
    }
    return first;
  });
  const dims = [layout.rows, layout.width];
  const feeds = {
    input_ids: new ort.Tensor('int64', ids, dims),
    attention_mask: new ort.Tensor('int64', mask, dims),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(size), dims),
  };
  return { feeds, layout, firsts };
}
