/**
 * Reader and writer for the safetensors format: an 8-byte little-endian header
 * length, a JSON header naming each tensor's dtype, shape and byte range, then
 * the raw little-endian tensor bytes (offsets relative to the end of the header).
 */
import { readFileSync } from 'node:fs';
import { decodeFloat16 } from './fp16.js';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const FLOAT_DTYPES = new Set(['F16', 'F32', 'BF16']);

/** Decodes a bfloat16 array: the upper half of an IEEE single. */
function decodeBfloat16(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength / 2;
  const bits = new Uint32Array(n);
  for (let i = 0, b = 0; i < n; i++, b += 2) bits[i] = ((bytes[b]! | (bytes[b + 1]! << 8)) << 16) >>> 0;
  return new Float32Array(bits.buffer);
}

function decodeFloat32(bytes: Uint8Array): Float32Array {
  // Copy so the result is aligned and independent of the file buffer.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** A tensor as the file holds it: its dtype's raw little-endian bytes. */
export interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** The tensors of safetensors bytes, undecoded, in the header's order, and the header's metadata. */
function parse(file: Buffer, path: string): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  if (file.byteLength < 8) throw new Error(`${path}: too short to be a safetensors file`);
  const headerLength = Number(file.readBigUInt64LE(0));
  if (headerLength <= 0 || 8 + headerLength > file.byteLength) {
    throw new Error(`${path}: header length ${headerLength} does not fit a file of ${file.byteLength} bytes`);
  }
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, HeaderEntry | unknown>;
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, RawTensor>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = value as HeaderEntry;
    const [start, end] = entry.data_offsets;
    if (end > file.byteLength - dataStart) throw new Error(`${path}: tensor ${name} runs past the end of the file`);
    tensors.set(name, { dtype: entry.dtype, shape: entry.shape, bytes: file.subarray(dataStart + start, dataStart + end) });
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string> | undefined) ?? {} };
}

/** Every tensor of a safetensors file, undecoded, in the header's order. */
export function readRawSafetensors(path: string): Map<string, RawTensor> {
  return parse(readFileSync(path), path).tensors;
}

/** The floating-point tensors of `raw` as fp32 (integer tensors skipped). */
function decodeAll(raw: Map<string, RawTensor>, path: string): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of raw) {
    if (!FLOAT_DTYPES.has(t.dtype)) continue;
    const { bytes } = t;
    const data = t.dtype === 'F16' ? decodeFloat16(bytes) : t.dtype === 'BF16' ? decodeBfloat16(bytes) : decodeFloat32(bytes);
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`${path}: tensor ${name} has ${data.length} values, shape says ${expected}`);
    tensors.set(name, { shape: t.shape, data });
  }
  return tensors;
}

/**
 * Reads every floating-point tensor of a safetensors file as fp32.
 * Integer tensors (such as `embeddings.position_ids`) are skipped: a BERT graph does not need them.
 */
export function readSafetensors(path: string): Map<string, Tensor> {
  return decodeAll(readRawSafetensors(path), path);
}

/** readSafetensors of bytes in memory (`what` names them in errors), with the header's metadata. */
export function readSafetensorsBytes(bytes: Uint8Array, what: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), what);
  return { tensors: decodeAll(tensors, what), metadata };
}

/** A safetensors file holding `tensors` in the map's order (header padded to 8 bytes, as the format recommends). */
export function encodeSafetensors(tensors: ReadonlyMap<string, RawTensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = Object.keys(metadata).length ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([length, Buffer.from(json, 'utf8'), ...[...tensors.values()].map((t) => t.bytes)]);
}
