/**
 * The frozen layers' output, computed once per text for a whole job: the
 * imported graph cut at hidden state L − k (the state the first tuned layer
 * reads), run in the calling thread over packed runs, each text's real
 * tokens kept as fp16 (the graph casts them). A step then copies its texts'
 * rows out of here instead of running the frozen layers again. The same pass
 * can also mean-pool a higher hidden state of each text (the linear probe's
 * features), so the layers under the cut run once for both.
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
import type { FeatureSpec } from '../../encoder/feature-spec.js';
import { encoderFeeds } from '../../encoder/feeds.js';
import { hiddenStateName } from '../../encoder/manifest.js';
import { PACKED_ROW_TOKENS, PACKED_RUN_TOKENS } from '../../encoder/packing.js';
import { featureOf } from '../../encoder/pooling.js';
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

/**
 * What a frozen pass keeps of each text: the token states of hidden state `states` (what the first tuned layer
 * reads), and/or the mean over its real tokens of hidden state `pooled` (fp32).
 */
export interface FrozenOutputs {
  states?: number;
  pooled?: number;
}

/** The imported graph cut after the hidden states `outputs` names: inputs as the encoder's, outputs `states` [rows, width, H] fp16 and `pooled` [rows, width, H]. */
export function frozenGraph(modelBytes: Uint8Array, hidden: number, outputs: FrozenOutputs): Uint8Array {
  const g = GraphBuilder.extend(onnxProto.onnx.ModelProto.decode(modelBytes), 'frozen/');
  g.clearOutputs();
  if (outputs.states !== undefined) {
    const half = g.node('Cast', [hiddenStateName(outputs.states)], { to: DT.FLOAT16 });
    g.output('states', half, DT.FLOAT16, ['batch_size', 'sequence_length', hidden]);
  }
  if (outputs.pooled !== undefined) {
    const top = g.node('Identity', [hiddenStateName(outputs.pooled)]);
    g.output('pooled', top, DT.FLOAT, ['batch_size', 'sequence_length', hidden]);
  }
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
 * Runs `session` (a frozenGraph) over `seqs`, shortest first in packed runs of up to PACKED_RUN_TOKENS tokens,
 * and hands each run's outputs `fetch` to `take` with the run's sequences and where each starts in the output's
 * rows. `checkCancel` runs between runs (it throws to stop), after a turn of the event loop: a job's process
 * hears its cancel and sends its progress.
 */
async function forEachRun(
  session: Binding.InferenceSession,
  seqs: readonly (readonly number[])[],
  fetch: readonly string[],
  take: (outputs: Record<string, ArrayLike<number>>, run: readonly number[], firsts: readonly number[]) => void,
  checkCancel?: () => void,
): Promise<void> {
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a]!.length - seqs[b]!.length || a - b);
  for (let from = 0; from < order.length; ) {
    await new Promise((ok) => setImmediate(ok));
    checkCancel?.();
    let tokens = 0;
    let to = from;
    while (to < order.length && (to === from || tokens + seqs[order[to]!]!.length <= PACKED_RUN_TOKENS)) tokens += seqs[order[to++]!]!.length;
    const run = order.slice(from, to);
    const { feeds, firsts } = encoderFeeds(
      run.map((i) => seqs[i]!),
      PACKED_ROW_TOKENS,
    );
    const out = session.run(feeds as never, Object.fromEntries(fetch.map((name) => [name, null])), {});
    take(Object.fromEntries(fetch.map((name) => [name, out[name]!.data as ArrayLike<number>])), run, firsts);
    from = to;
  }
}

/** The frozen pass's `pooled` output, as a feature spec: its tokens' mean, not normalised (what the classifier reads). */
const MEAN: FeatureSpec = { model: '', layers: [0], layerCombine: 'mean', pooling: 'mean', normalize: false };

/** Writes into `into` (one row of `hidden` a text) each of the run's texts' mean over its real tokens of `top`. */
function pool(
  top: Float32Array,
  run: readonly number[],
  firsts: readonly number[],
  seqs: readonly (readonly number[])[],
  hidden: number,
  into: Float32Array,
): void {
  const states = new Map([[0, top]]);
  for (const [j, i] of run.entries()) featureOf(states, firsts[j]!, hidden, seqs[i]!.length, MEAN, into, i * hidden);
}

/** True when `session` has output `name`. */
function hasOutput(session: Binding.InferenceSession, name: string): boolean {
  return session.outputMetadata.some((m) => m.name === name);
}

/**
 * Runs `session` (a frozenGraph with a `states` output) over `seqs` and keeps each sequence's real tokens; when the
 * graph also has a `pooled` output, each sequence's mean of it comes back as `pooled` (one row of `hidden` a text).
 */
export async function computeFrozenStates(
  session: Binding.InferenceSession,
  seqs: readonly (readonly number[])[],
  hidden: number,
  options: { memoryBytes?: number; spillDir?: string; checkCancel?: () => void } = {},
): Promise<FrozenStates & { pooled?: Float32Array }> {
  const lengths = Int32Array.from(seqs, (s) => s.length);
  const store = new Store(lengths, hidden, options.memoryBytes ?? STATES_IN_MEMORY_BYTES, options.spillDir ?? tmpdir());
  const pooled = hasOutput(session, 'pooled') ? new Float32Array(seqs.length * hidden) : undefined;
  try {
    await forEachRun(
      session,
      seqs,
      pooled ? ['states', 'pooled'] : ['states'],
      (out, run, firsts) => {
        const states = out.states as Uint16Array;
        for (const [j, i] of run.entries()) store.write(i, states.subarray(firsts[j]! * hidden, (firsts[j]! + lengths[i]!) * hidden));
        if (pooled) pool(out.pooled as Float32Array, run, firsts, seqs, hidden, pooled);
      },
      options.checkCancel,
    );
  } catch (err) {
    store.close();
    throw err;
  }
  return Object.assign(store, pooled ? { pooled } : {});
}

/** Each sequence's mean over its real tokens of `session`'s `pooled` output (a frozenGraph keeping only that), one row of `hidden` a text. */
export async function meanPooled(
  session: Binding.InferenceSession,
  seqs: readonly (readonly number[])[],
  hidden: number,
  checkCancel?: () => void,
): Promise<Float32Array> {
  const pooled = new Float32Array(seqs.length * hidden);
  await forEachRun(session, seqs, ['pooled'], (out, run, firsts) => pool(out.pooled as Float32Array, run, firsts, seqs, hidden, pooled), checkCancel);
  return pooled;
}
