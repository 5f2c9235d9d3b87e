import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeFloat16, halfBitsToFloat } from '../../src/encoder/import/fp16.js';
import { readSafetensors } from '../../src/encoder/import/safetensors.js';

test('half floats decode: normals, subnormals, zero, infinities, NaN', () => {
  assert.equal(halfBitsToFloat(0x3c00), 1);
  assert.equal(halfBitsToFloat(0xc000), -2);
  assert.equal(halfBitsToFloat(0x7bff), 65504); // largest normal
  assert.equal(halfBitsToFloat(0x0001), 2 ** -24); // smallest subnormal
  assert.equal(halfBitsToFloat(0x03ff), 1023 * 2 ** -24); // largest subnormal
  assert.equal(halfBitsToFloat(0x3555), 0.333251953125);
  assert.ok(Object.is(halfBitsToFloat(0x8000), -0));
  assert.equal(halfBitsToFloat(0x7c00), Infinity);
  assert.equal(halfBitsToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfBitsToFloat(0x7e00)));
  const bytes = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]);
  assert.deepEqual(Array.from(decodeFloat16(bytes)), [1, -2, 2 ** -24]);
  assert.throws(() => decodeFloat16(new Uint8Array(3)), /odd byte length/);
});

function safetensorsFile(entries: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>): Buffer {
  let offset = 0;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Uint8Array[] = [];
  for (const [name, e] of Object.entries(entries)) {
    header[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.byteLength] };
    offset += e.bytes.byteLength;
    chunks.push(e.bytes);
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.byteLength));
  return Buffer.concat([len, json, ...chunks]);
}

test('safetensors: reads F16, F32 and BF16 tensors as fp32 and skips integer tensors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const path = join(dir, 'model.safetensors');
  const f32 = new Float32Array([1.5, -2.25, 3]);
  writeFileSync(
    path,
    safetensorsFile({
      a: { dtype: 'F16', shape: [2], bytes: new Uint8Array([0x00, 0x3c, 0x00, 0xc0]) },
      b: { dtype: 'F32', shape: [3, 1], bytes: new Uint8Array(f32.buffer) },
      c: { dtype: 'BF16', shape: [1], bytes: new Uint8Array([0xc0, 0x3f]) }, // 1.5
      ids: { dtype: 'I64', shape: [1], bytes: new Uint8Array(8) },
    }),
  );
  const t = readSafetensors(path);
  assert.deepEqual([...t.keys()].sort(), ['a', 'b', 'c']);
  assert.deepEqual(Array.from(t.get('a')!.data), [1, -2]);
  assert.deepEqual(t.get('b')!.shape, [3, 1]);
  assert.deepEqual(Array.from(t.get('b')!.data), [1.5, -2.25, 3]);
  assert.deepEqual(Array.from(t.get('c')!.data), [1.5]);
});

test('safetensors: a truncated file is rejected with the tensor named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const path = join(dir, 'bad.safetensors');
  const full = safetensorsFile({ w: { dtype: 'F32', shape: [4], bytes: new Uint8Array(16) } });
  writeFileSync(path, full.subarray(0, full.byteLength - 4));
  assert.throws(() => readSafetensors(path), /tensor w runs past the end/);
  writeFileSync(path, Buffer.from([1, 2, 3]));
  assert.throws(() => readSafetensors(path), /too short/);
});
