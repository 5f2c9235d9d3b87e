/**
 * A fine-tuned version's own encoder layers: the top layers of a model,
 * trained for one task. A job writes one, a version stores it, serving runs it
 * on the shared encoder's hidden state `first` (its tuned layers built by
 * addEncoderLayers from `tunedStackSource`), an export puts it in place of
 * the frozen layers.
 *
 * Stored form: gzip of a safetensors file (a JSON header naming each tensor's
 * shape and byte range, then the fp32 little-endian values), the stack's
 * other fields in the header's string metadata. Any safetensors reader opens
 * it once it is gunzipped.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { TensorSource } from './import/layer-stack.js';
import { encodeSafetensors, type RawTensor, readSafetensorsBytes, type Tensor } from './import/safetensors.js';

export const TUNED_STACK_FORMAT = 'transferd-tuned-stack';
const VERSION = '1';

export interface TunedStack {
  /** The model tuned: its manifest's name and source checksum (a stack runs on that encoder's states only). */
  model: { name: string; sourceSha256: string };
  /** The tuned layers' indexes [first, last] (0-based): layer `first` reads hidden state `first`. */
  first: number;
  last: number;
  /** Every tuned tensor by its checkpoint name, fp32, in the checkpoint's layout ([out, in] for linear weights). */
  tensors: Map<string, Tensor>;
}

/** Tensors and string metadata as gzip of a safetensors file: the tuned stack's form, and a training checkpoint's. */
export function encodeTensors(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string>): Uint8Array {
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of tensors) raw.set(name, { dtype: 'F32', shape: t.shape, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
  return gzipSync(encodeSafetensors(raw, metadata), { level: 6 });
}

/** What encodeTensors wrote. */
export function decodeTensors(bytes: Uint8Array): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  return readSafetensorsBytes(gunzipSync(bytes), 'tensors');
}

export function encodeTunedStack(stack: TunedStack): Uint8Array {
  return encodeTensors(stack.tensors, {
    format: TUNED_STACK_FORMAT,
    version: VERSION,
    model: stack.model.name,
    model_sha256: stack.model.sourceSha256,
    first: String(stack.first),
    last: String(stack.last),
  });
}

export function decodeTunedStack(bytes: Uint8Array): TunedStack {
  const { tensors, metadata } = decodeTensors(bytes);
  if (metadata.format !== TUNED_STACK_FORMAT || metadata.version !== VERSION) {
    throw new Error(`not a tuned stack (format ${metadata.format ?? '?'} version ${metadata.version ?? '?'})`);
  }
  const first = Number(metadata.first);
  const last = Number(metadata.last);
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last < first) throw new Error(`tuned stack: bad layers [${first}, ${last}]`);
  return { model: { name: metadata.model ?? '', sourceSha256: metadata.model_sha256 ?? '' }, first, last, tensors };
}

/** The stack's tensors as addEncoderLayers reads a checkpoint's (shapes checked). */
export function tunedStackSource(stack: TunedStack): TensorSource {
  return (name, shape) => {
    const t = stack.tensors.get(name);
    if (!t) throw new Error(`tuned stack has no tensor "${name}"`);
    if (t.shape.join() !== shape.join()) throw new Error(`tuned stack tensor "${name}" is [${t.shape}], expected [${shape}]`);
    return t;
  };
}

/** Bytes the stack's weights take in memory (what a per-replica cache of loaded stacks counts). */
export function tunedStackBytes(stack: TunedStack): number {
  let bytes = 0;
  for (const t of stack.tensors.values()) bytes += t.data.byteLength;
  return bytes;
}
