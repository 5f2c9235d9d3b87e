/**
 * AdamW between steps, as PyTorch's torch.optim.AdamW computes it in fp32
 * (decoupled weight decay applied first, bias-corrected moments, ε added to
 * √v̂), with gradients clipped to a global L2 norm first
 * (torch.nn.utils.clip_grad_norm_: scaled by max / (norm + 1e-6) when the
 * norm is above max).
 *
 * The weights, their gradients and the moments live in one WebAssembly
 * memory (a ParameterArena): onnxruntime reads the weights and writes the
 * gradients in place through views of it, and the update runs over it in
 * 128-bit SIMD, four parameters an instruction. In scalar JavaScript the
 * update took a quarter of a step (docs/benchmarks/finetune.md).
 */
import { ADAM } from './recipe.js';

/** Biases and LayerNorm parameters are not decayed (the usual BERT recipe). */
export function decays(name: string): boolean {
  return !(name.endsWith('.bias') || name.includes('LayerNorm'));
}

/** The global L2 norm of `grads` (sums of squares in fp64, in a fixed order: deterministic). */
export function globalNorm(grads: readonly Float32Array[]): number {
  let sum = 0;
  for (const g of grads) {
    // Four partial sums: fewer dependent adds in the loop.
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const n = g.length - (g.length % 4);
    for (let i = 0; i < n; i += 4) {
      s0 += g[i]! * g[i]!;
      s1 += g[i + 1]! * g[i + 1]!;
      s2 += g[i + 2]! * g[i + 2]!;
      s3 += g[i + 3]! * g[i + 3]!;
    }
    for (let i = n; i < g.length; i++) s0 += g[i]! * g[i]!;
    sum += s0 + s1 + s2 + s3;
  }
  return Math.sqrt(sum);
}

/** The factor clip_grad_norm_ scales every gradient by: min(1, max / (norm + 1e-6)). */
export function clipFactor(norm: number, max: number): number {
  return Math.min(1, max / (norm + 1e-6));
}

// The WebAssembly globals used here (TypeScript declares them only in its DOM library).
type WasmModule = object;
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
};

const PAGE = 65536;
/** A 32-bit WebAssembly memory's limit. */
const MAX_PAGES = 65536;

/**
 * The weights (`weights[i]`), gradients, and AdamW moments of parameters of `sizes`, each a Float32Array view of
 * one WebAssembly memory; every parameter starts on a 16-byte boundary, padded with zeros to a multiple of 4.
 */
export class ParameterArena {
  readonly weights: Float32Array[];
  readonly grads: Float32Array[];
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  private readonly offsets: number[];
  private readonly padded: number[];
  private readonly regionBytes: number;
  private readonly adamw: (...args: number[]) => void;

  constructor(readonly sizes: readonly number[]) {
    this.padded = sizes.map((n) => Math.ceil(n / 4) * 4);
    this.offsets = [];
    let floats = 0;
    for (const p of this.padded) {
      this.offsets.push(floats * 4);
      floats += p;
    }
    this.regionBytes = floats * 4;
    const pages = Math.max(1, Math.ceil((4 * this.regionBytes) / PAGE));
    if (pages > MAX_PAGES) throw new Error(`${floats} parameters do not fit AdamW's 4 GiB memory`);
    const memory = new WebAssembly.Memory({ initial: pages });
    this.adamw = new WebAssembly.Instance(adamwModule(), { env: { memory } }).exports.adamw as (...args: number[]) => void;
    const views = (region: number) => sizes.map((n, i) => new Float32Array(memory.buffer, region * this.regionBytes + this.offsets[i]!, n));
    [this.weights, this.grads, this.m, this.v] = [0, 1, 2, 3].map(views) as [Float32Array[], Float32Array[], Float32Array[], Float32Array[]];
  }

  /**
   * One AdamW update of every parameter by its gradient scaled by `gradScale` (the clipping), at step `t`
   * (1-based), learning rate `lr`, parameter i decayed by `weightDecay[i]` (0 for those not decayed).
   */
  update(t: number, lr: number, weightDecay: readonly number[], gradScale: number): void {
    const { beta1, beta2, epsilon } = ADAM;
    const stepSize = lr / (1 - beta1 ** t);
    const root = Math.sqrt(1 - beta2 ** t);
    const r = this.regionBytes;
    for (let i = 0; i < this.padded.length; i++) {
      const o = this.offsets[i]!;
      this.adamw(
        o,
        r + o,
        2 * r + o,
        3 * r + o,
        this.padded[i]! * 4,
        gradScale,
        beta1,
        1 - beta1,
        beta2,
        1 - beta2,
        1 - lr * weightDecay[i]!,
        stepSize,
        root,
        epsilon,
      );
    }
  }
}

let compiled: WasmModule | undefined;

/**
 * The update as a WebAssembly module (written here byte by byte: no toolchain at install). It imports its memory
 * as env.memory and exports adamw(w, g, m, v, bytes, scale, β1, 1 − β1, β2, 1 − β2, keep, stepSize, root, ε),
 * the first four byte offsets of equal-length f32 arrays, `bytes` a multiple of 16; for each lane:
 *   grad = g · scale;  m = β1·m + (1 − β1)·grad;  v = β2·v + (1 − β2)·grad·grad;
 *   w = w · keep − stepSize · m / (√v / root + ε).
 */
function adamwModule(): WasmModule {
  if (compiled) return compiled;
  const [I32, F32, V128] = [0x7f, 0x7d, 0x7b] as const;
  // Locals: the 14 parameters, then the byte index, the 9 scalars splatted to f32x4, and three f32x4 temporaries.
  const [W, G, M, V, BYTES, SCALARS, INDEX, SPLATS, GRAD, MI, VI] = [0, 1, 2, 3, 4, 5, 14, 15, 24, 25, 26] as const;
  // The splatted scalars, in the order of the parameters.
  const [SCALE, BETA1, B1, BETA2, B2, KEEP, STEP, ROOT, EPS] = [15, 16, 17, 18, 19, 20, 21, 22, 23] as const;
  const get = (l: number) => [0x20, l];
  const set = (l: number) => [0x21, l];
  // SIMD instructions: the 0xfd prefix, then the opcode in LEB128; loads and stores take an alignment (2^4) and offset.
  const load = [0xfd, 0x00, 4, 0];
  const store = [0xfd, 0x0b, 4, 0];
  const splat = [0xfd, 0x13];
  const [sqrt, add, sub, mul, div] = [
    [0xfd, 0xe3, 1],
    [0xfd, 0xe4, 1],
    [0xfd, 0xe5, 1],
    [0xfd, 0xe6, 1],
    [0xfd, 0xe7, 1],
  ] as const;
  const at = (base: number) => [...get(base), ...get(INDEX), 0x6a]; // base + index (i32.add)
  const code = [
    ...[0, 1, 2, 3, 4, 5, 6, 7, 8].flatMap((k) => [...get(SCALARS + k), ...splat, ...set(SPLATS + k)]),
    ...[0x02, 0x40, 0x03, 0x40], // block, loop
    ...[...get(INDEX), ...get(BYTES), 0x4f, 0x0d, 1], // index ≥ bytes (i32.ge_u): br_if out of the block
    ...[...at(G), ...load, ...get(SCALE), ...mul, ...set(GRAD)],
    ...[...at(M), ...load, ...get(BETA1), ...mul, ...get(GRAD), ...get(B1), ...mul, ...add, ...set(MI)],
    ...[...at(V), ...load, ...get(BETA2), ...mul, ...get(B2), ...get(GRAD), ...mul, ...get(GRAD), ...mul, ...add, ...set(VI)],
    ...[...at(M), ...get(MI), ...store],
    ...[...at(V), ...get(VI), ...store],
    ...[...at(W), ...at(W), ...load, ...get(KEEP), ...mul],
    ...[...get(STEP), ...get(MI), ...mul, ...get(VI), ...sqrt, ...get(ROOT), ...div, ...get(EPS), ...add, ...div, ...sub, ...store],
    ...[...get(INDEX), 0x41, 16, 0x6a, ...set(INDEX), 0x0c, 0], // index += 16 (i32.const, i32.add); br to the loop
    ...[0x0b, 0x0b, 0x0b], // end loop, block, function
  ];
  const body = [2, 1, I32, 12, V128, ...code]; // local declarations: 1 i32, 12 v128
  const name = (s: string) => [s.length, ...Buffer.from(s, 'ascii')];
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0], // \0asm, version 1
    ...section(1, [1, 0x60, 14, I32, I32, I32, I32, I32, ...Array<number>(9).fill(F32), 0]), // type: (5 i32, 9 f32) → ()
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0]), // import env.memory, min 0 pages
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(7, [1, ...name('adamw'), 0x00, 0]), // export function 0 as adamw
    ...section(10, [1, ...leb(body.length), ...body]),
  ];
  compiled = new WebAssembly.Module(Uint8Array.from(bytes));
  return compiled;
}

/** Unsigned LEB128. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}
