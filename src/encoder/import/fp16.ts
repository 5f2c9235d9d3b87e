/**
 * IEEE 754 half-precision → single-precision decoding.
 *
 * A 65,536-entry lookup table turns decoding into one indexed load per value,
 * which matters when a checkpoint holds tens of millions of weights.
 */
let table: Float32Array | undefined;

/** Decodes one half-float bit pattern, subnormals, infinities and NaN included. */
export function halfBitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // subnormal (or zero)
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function halfTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = halfBitsToFloat(i);
  }
  return table;
}

/** Decodes little-endian half floats from `bytes` into a new Float32Array. */
export function decodeFloat16(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 2 !== 0) throw new Error(`fp16 data has odd byte length ${bytes.byteLength}`);
  const n = bytes.byteLength / 2;
  const out = new Float32Array(n);
  const t = halfTable();
  for (let i = 0, b = 0; i < n; i++, b += 2) out[i] = t[bytes[b]! | (bytes[b + 1]! << 8)]!;
  return out;
}
