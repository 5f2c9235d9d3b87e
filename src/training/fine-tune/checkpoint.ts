/**
 * What a fine-tuning run needs to continue after its last completed epoch:
 * every trainable parameter (the tuned layers in the step graph's layout,
 * linear weights [in, out], and the classifier), AdamW's moments, the step,
 * the dropout generator's state and the history. A resumed run draws the same
 * masks and batches and ends with the weights an uninterrupted run ends with.
 * Stored as ../../encoder/tuned-stack.ts's tensor form (gzip of safetensors).
 */
import { decodeTensors, encodeTensors } from '../../encoder/tuned-stack.js';
import type { Tensor } from '../../encoder/import/safetensors.js';

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  /** Held-out score after the epoch: accuracy (single-label) or macro-F1 at threshold 0.5 (multi-label). */
  heldOut?: { accuracy: number } | { macroF1: number };
  /** Seconds the epoch's steps took (its evaluation excluded). */
  seconds: number;
}

export interface FineTuneCheckpoint {
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps completed. */
  step: number;
  /** By the step graph's input names. */
  parameters: Map<string, Tensor>;
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
  /** The dropout generator's state after the last step. */
  dropoutRng: [number, number, number, number];
  history: EpochRecord[];
  /** The run it belongs to (recipe, examples, labels, model): a checkpoint only resumes its own run. */
  run: string;
}

const FORMAT = 'transferd-fine-tune-checkpoint';

export function encodeCheckpoint(c: FineTuneCheckpoint): Uint8Array {
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of c.parameters) {
    const mv = c.moments.get(name);
    if (!mv) throw new Error(`checkpoint: no moments for ${name}`);
    tensors.set(`p:${name}`, t);
    tensors.set(`m:${name}`, { shape: t.shape, data: mv.m });
    tensors.set(`v:${name}`, { shape: t.shape, data: mv.v });
  }
  return encodeTensors(tensors, {
    format: FORMAT,
    state: JSON.stringify({ epoch: c.epoch, step: c.step, dropoutRng: c.dropoutRng, history: c.history, run: c.run }),
  });
}

export function decodeCheckpoint(bytes: Uint8Array): FineTuneCheckpoint {
  const { tensors, metadata } = decodeTensors(bytes);
  if (metadata.format !== FORMAT || !metadata.state) throw new Error('not a fine-tuning checkpoint');
  const state = JSON.parse(metadata.state) as Omit<FineTuneCheckpoint, 'parameters' | 'moments'>;
  const parameters = new Map<string, Tensor>();
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  for (const [key, t] of tensors) {
    if (!key.startsWith('p:')) continue;
    const name = key.slice(2);
    const m = tensors.get(`m:${name}`);
    const v = tensors.get(`v:${name}`);
    if (!m || !v) throw new Error(`checkpoint: no moments for ${name}`);
    parameters.set(name, t);
    moments.set(name, { m: m.data, v: v.data });
  }
  return { ...state, parameters, moments };
}
