/**
 * Dot-product matrices for kernel methods: the Gram matrix X·Xᵀ and cross
 * products A·Bᵀ of row-major float32 matrices.
 *
 * Large products run as a one-node ONNX graph (Gemm with transB) on
 * onnxruntime-node, whose MLAS kernels are an order of magnitude faster than
 * JavaScript (docs/design.md); small ones stay in
 * JS, where session overhead would dominate. ORT falls back to JS if the
 * native module cannot load.
 *
 * Everything here is synchronous (see ../../onnx/session.ts), so predictors can stay
 * synchronous. Long products block the calling thread; run training in a
 * worker thread.
 */
import type * as Ort from 'onnxruntime-node';
import type { Binding } from 'onnxruntime-node/dist/binding.js';
import { GraphBuilder, DT } from '../../onnx/graph.js';
import { isShared, syncOrt, unshared } from '../../onnx/session.js';

/** Below this many multiply-adds the JS loop wins over building ORT tensors. */
const ORT_MIN_WORK = 2e6;
/** Rows of A per ORT call, so ORT's temporary output stays ≤ ~64 MB whatever n is. */
const ORT_MAX_OUT = 16 * 1024 * 1024;

export interface ProductOptions {
  /** Where to write the n×m result (may view a SharedArrayBuffer). */
  out?: Float32Array;
  /** onnxruntime intra-op threads; default 0 = one per core. */
  threads?: number;
  /** Force a backend; default picks ORT for large products. */
  backend?: 'ort' | 'js';
}

/** X·Xᵀ for row-major X (n × dim): n×n, symmetric. */
export function gramMatrix(x: Float32Array, n: number, dim: number, opts: ProductOptions = {}): Float32Array {
  return crossProducts(x, n, x, n, dim, opts);
}

/** A·Bᵀ for row-major A (n × dim) and B (m × dim): n×m, row-major. */
export function crossProducts(a: Float32Array, n: number, b: Float32Array, m: number, dim: number, opts: ProductOptions = {}): Float32Array {
  checkShape(a, n, dim, 'A');
  checkShape(b, m, dim, 'B');
  const out = opts.out ?? new Float32Array(n * m);
  if (out.length < n * m) throw new Error(`output holds ${out.length} values, needs ${n * m}`);
  const useOrt = opts.backend === 'ort' || (opts.backend !== 'js' && n * m * dim >= ORT_MIN_WORK);
  if (useOrt) {
    const session = ortSession(opts.threads ?? 0);
    if (session) {
      crossProductsOrt(session, a, n, b, m, dim, out);
      return out;
    }
  }
  crossProductsJs(a, n, b, m, dim, out);
  return out;
}

function checkShape(x: Float32Array, rows: number, dim: number, name: string): void {
  if (x.length < rows * dim) throw new Error(`${name} holds ${x.length} values, needs ${rows}×${dim}`);
}

/**
 * A·Bᵀ in plain JS. Four rows of A against four rows of B share each load, so
 * sixteen accumulators stay in registers; rows are contiguous, so the inner
 * loop streams memory.
 */
export function crossProductsJs(
  a: Float32Array,
  n: number,
  b: Float32Array,
  m: number,
  dim: number,
  out: Float32Array = new Float32Array(n * m),
): Float32Array {
  const n4 = n - (n % 4);
  const m4 = m - (m % 4);
  for (let i = 0; i < n4; i += 4) {
    const a0 = i * dim,
      a1 = a0 + dim,
      a2 = a1 + dim,
      a3 = a2 + dim;
    for (let j = 0; j < m4; j += 4) {
      const b0 = j * dim,
        b1 = b0 + dim,
        b2 = b1 + dim,
        b3 = b2 + dim;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0,
        s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0,
        s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let k = 0; k < dim; k++) {
        const x0 = a[a0 + k]!,
          x1 = a[a1 + k]!,
          x2 = a[a2 + k]!,
          x3 = a[a3 + k]!;
        const y0 = b[b0 + k]!,
          y1 = b[b1 + k]!,
          y2 = b[b2 + k]!,
          y3 = b[b3 + k]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s22 += x2 * y2;
        s23 += x2 * y3;
        s30 += x3 * y0;
        s31 += x3 * y1;
        s32 += x3 * y2;
        s33 += x3 * y3;
      }
      const o = i * m + j;
      out[o] = s00;
      out[o + 1] = s01;
      out[o + 2] = s02;
      out[o + 3] = s03;
      out[o + m] = s10;
      out[o + m + 1] = s11;
      out[o + m + 2] = s12;
      out[o + m + 3] = s13;
      out[o + 2 * m] = s20;
      out[o + 2 * m + 1] = s21;
      out[o + 2 * m + 2] = s22;
      out[o + 2 * m + 3] = s23;
      out[o + 3 * m] = s30;
      out[o + 3 * m + 1] = s31;
      out[o + 3 * m + 2] = s32;
      out[o + 3 * m + 3] = s33;
    }
    for (let j = m4; j < m; j++) for (let r = 0; r < 4; r++) out[(i + r) * m + j] = dot(a, (i + r) * dim, b, j * dim, dim);
  }
  for (let i = n4; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] = dot(a, i * dim, b, j * dim, dim);
  return out;
}

/** Dot product of a[ao .. ao+dim) and b[bo .. bo+dim). */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const d4 = dim - (dim % 4);
  let k = 0;
  for (; k < d4; k += 4) {
    s0 += a[ao + k]! * b[bo + k]!;
    s1 += a[ao + k + 1]! * b[bo + k + 1]!;
    s2 += a[ao + k + 2]! * b[bo + k + 2]!;
    s3 += a[ao + k + 3]! * b[bo + k + 3]!;
  }
  for (; k < dim; k++) s0 += a[ao + k]! * b[bo + k]!;
  return s0 + s1 + s2 + s3;
}

/** Squared norms of the rows of x (n × dim), in float64. */
export function rowSquaredNorms(x: Float32Array, n: number, dim: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = dot(x, i * dim, x, i * dim, dim);
  return out;
}

interface OrtSession {
  Tensor: typeof Ort.Tensor;
  session: Binding.InferenceSession;
}

/** Sessions are built once per thread count and live for the process (or worker); null = ORT unavailable. */
const sessions = new Map<number, OrtSession | null>();

function ortSession(threads: number): OrtSession | null {
  if (!sessions.has(threads)) sessions.set(threads, createSession(threads));
  return sessions.get(threads)!;
}

function createSession(threads: number): OrtSession | null {
  const ort = syncOrt();
  if (!ort) return null;
  const g = new GraphBuilder('cross_products', 13);
  const a = g.input('a', DT.FLOAT, ['n', 'd']);
  const b = g.input('b', DT.FLOAT, ['m', 'd']);
  g.output('out', g.node('Gemm', [a, b], { transB: 1 }), DT.FLOAT, ['n', 'm']);
  return { Tensor: ort.Tensor, session: ort.createSession(g.encode('transferd'), threads) };
}

/**
 * Runs the Gemm on row blocks of A, writing each block straight into `out`
 * through a pre-allocated output tensor; SharedArrayBuffer-backed arrays
 * (which the native binding rejects) are copied in, or receive a copy.
 */
function crossProductsOrt({ Tensor, session }: OrtSession, a: Float32Array, n: number, b: Float32Array, m: number, dim: number, out: Float32Array): void {
  const aOwn = unshared(a.subarray(0, n * dim));
  const bOwn = a === b ? aOwn : unshared(b.subarray(0, m * dim));
  const bt = new Tensor('float32', bOwn, [m, dim]);
  const block = Math.max(1, Math.min(n, Math.floor(ORT_MAX_OUT / Math.max(1, m))));
  const outShared = isShared(out);
  for (let r0 = 0; r0 < n; r0 += block) {
    const rows = Math.min(block, n - r0);
    const at = new Tensor('float32', aOwn.subarray(r0 * dim, (r0 + rows) * dim), [rows, dim]);
    const target = out.subarray(r0 * m, (r0 + rows) * m);
    if (outShared) {
      const result = session.run({ a: at, b: bt }, { out: null }, {});
      target.set(result.out!.data as Float32Array);
    } else {
      session.run({ a: at, b: bt }, { out: new Tensor('float32', target, [rows, m]) }, {});
    }
  }
}

/**
 * `batch` independent products A_b·B_b, A = batch × n × k and B = batch × k × m
 * (row-major, contiguous), into batch × n × m: one native MatMul call for
 * many small products (e.g. one per SVM class block), where a JS loop runs
 * at a fraction of the speed. Single-threaded: callers run it on pool workers.
 */
export function batchedProducts(a: Float32Array, b: Float32Array, batch: number, n: number, k: number, m: number): Float32Array {
  if (a.length < batch * n * k || b.length < batch * k * m) throw new Error(`batched product: operands too small for ${batch}×${n}×${k}·${k}×${m}`);
  const out = new Float32Array(batch * n * m);
  const session = batchedSession();
  if (session) {
    const { Tensor } = session;
    session.session.run(
      {
        a: new Tensor('float32', unshared(a.subarray(0, batch * n * k)), [batch, n, k]),
        b: new Tensor('float32', unshared(b.subarray(0, batch * k * m)), [batch, k, m]),
      },
      { out: new Tensor('float32', out, [batch, n, m]) },
      {},
    );
    return out;
  }
  for (let t = 0; t < batch; t++) {
    const bt = new Float32Array(m * k); // B_t transposed, so rows are contiguous for crossProductsJs
    for (let r = 0; r < k; r++) for (let c = 0; c < m; c++) bt[c * k + r] = b[t * k * m + r * m + c]!;
    crossProductsJs(a.subarray(t * n * k, (t + 1) * n * k), n, bt, m, k, out.subarray(t * n * m, (t + 1) * n * m));
  }
  return out;
}

let batched: OrtSession | null | undefined;

function batchedSession(): OrtSession | null {
  if (batched === undefined) {
    const ort = syncOrt();
    if (!ort) batched = null;
    else {
      const g = new GraphBuilder('batched_products', 13);
      const a = g.input('a', DT.FLOAT, ['batch', 'n', 'k']);
      const b = g.input('b', DT.FLOAT, ['batch', 'k', 'm']);
      g.output('out', g.node('MatMul', [a, b]), DT.FLOAT, ['batch', 'n', 'm']);
      batched = { Tensor: ort.Tensor, session: ort.createSession(g.encode('transferd'), 1) };
    }
  }
  return batched;
}
