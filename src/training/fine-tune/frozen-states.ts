/**
 * The frozen layers' output, computed once per text for a whole job: the
 * imported graph cut at hidden state L − k (the state the first tuned layer
 * reads), run in the calling thread over packed runs, each text's real
 * tokens kept as fp16 (the graph casts them). A step then copies its texts'
 * rows out of here instead of running the frozen layers again.
 *
 * Memory: the states take 2·H bytes a token. Up to `memoryBytes` they stay
 * in one buffer; above it they are written to a file in `spillDir` (deleted
 * on close) and read back a text at a time, so a job's memory does not grow
 * with its texts (the operating system's page cache keeps what fits).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { Binding } from 'onnxruntime-node/dist/binding.js';
import { encoderFeeds } from '../../encoder/feeds.js';
import { hiddenStateName } from '../../encoder/manifest.js';
import { PACKED_ROW_TOKENS, PACKED_RUN_TOKENS } from '../../encoder/packing.js';
import { DT, GraphBuilder } from '../../onnx/graph.js';

/** Default bound on the states kept in memory: 1 GiB (a job's other buffers are tens of MB). */
export const STATES_IN_MEMORY_BYTES = 1 << 30;

export interface FrozenStates {
  readonly hidden: number;
  readonly lengths: Int32Array;
  /** Bytes the states take (in memory, or in the spill file). */
  readonly bytes: number;
  readonly spilled: boolean;
  /** Writes text i's [length, H] fp16 states into `out` from element `at`. */
  read(i: number, out: Uint16Array, at: number): void;
  close(): void;
}

/** The imported graph cut at hidden state `layer`: inputs as the encoder's, one output `states` [rows, width, H] fp16. */
export function frozenGraph(modelBytes: Uint8Array, layer: number, hidden: number): Uint8Array {
  const g = GraphBuilder.extend(onnxProto.onnx.ModelProto.decode(modelBytes), 'frozen/');
  g.clearOutputs();
  const half = g.node('Cast', [hiddenStateName(layer)], { to: DT.FLOAT16 });
  g.output('states', half, DT.FLOAT16, ['batch_size', 'sequence_length', hidden]);
  g.prune();
  return g.encode('transferd-fine-tune');
}

class Store {
  private readonly memory: Uint16Array | undefined;
  private readonly fd: number | undefined;
  private readonly dir: string | undefined;
  /** Element offset of each text's first value. */
  private readonly offsets: Float64Array;
  readonly bytes: number;

  constructor(
    readonly lengths: Int32Array,
    readonly hidden: number,
    memoryBytes: number,
    spillDir: string,
  ) {
    this.offsets = new Float64Array(lengths.length + 1);
    for (let i = 0; i < lengths.length; i++) this.offsets[i + 1] = this.offsets[i]! + lengths[i]! * hidden;
    this.bytes = this.offsets[lengths.length]! * 2;
    if (this.bytes <= memoryBytes) this.memory = new Uint16Array(this.offsets[lengths.length]!);
    else {
      this.dir = mkdtempSync(join(spillDir, 'transferd-states-'));
      this.fd = openSync(join(this.dir, 'states.f16'), 'w+');
    }
  }

  get spilled(): boolean {
    return this.memory === undefined;
  }

  write(i: number, values: Uint16Array): void {
    if (this.memory) this.memory.set(values, this.offsets[i]!);
    else writeSync(this.fd!, values, 0, values.byteLength, this.offsets[i]! * 2);
  }

  read(i: number, out: Uint16Array, at: number): void {
    const start = this.offsets[i]!;
    const n = this.offsets[i + 1]! - start;
    if (this.memory) out.set(this.memory.subarray(start, start + n), at);
    else readSync(this.fd!, out, at * 2, n * 2, start * 2);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs `session` (a frozenGraph) over `seqs`, shortest first in packed runs
 * of up to PACKED_RUN_TOKENS tokens, and keeps each sequence's real tokens.
 * `checkCancel` runs between runs (it throws to stop), after a turn of the
 * event loop: a job's process hears its cancel and sends its progress.
 */
export async function computeFrozenStates(
  session: Binding.InferenceSession,
  seqs: readonly (readonly number[])[],
  hidden: number,
  options: { memoryBytes?: number; spillDir?: string; checkCancel?: () => void } = {},
): Promise<FrozenStates> {
  const lengths = Int32Array.from(seqs, (s) => s.length);
  const store = new Store(lengths, hidden, options.memoryBytes ?? STATES_IN_MEMORY_BYTES, options.spillDir ?? tmpdir());
  try {
    const order = seqs.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
    for (let from = 0; from < order.length; ) {
      await new Promise((ok) => setImmediate(ok));
      options.checkCancel?.();
      let tokens = 0;
      let to = from;
      while (to < order.length && (to === from || tokens + lengths[order[to]!]! <= PACKED_RUN_TOKENS)) tokens += lengths[order[to++]!]!;
      const run = order.slice(from, to);
      const { feeds, firsts } = encoderFeeds(
        run.map((i) => seqs[i]!),
        PACKED_ROW_TOKENS,
      );
      const out = session.run(feeds as never, { states: null }, {}).states!.data as Uint16Array;
      for (const [j, i] of run.entries()) store.write(i, out.subarray(firsts[j]! * hidden, (firsts[j]! + lengths[i]!) * hidden));
      from = to;
    }
  } catch (err) {
    store.close();
    throw err;
  }
  return store;
}
