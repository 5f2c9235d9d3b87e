/**
 * The numeric pieces under the SVM: dot-product matrices (onnxruntime and
 * JS), kernel sources, and the solver's cache/shrinking options.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crossProducts, crossProductsJs, gramMatrix } from '../../src/heads/linalg/gram.js';
import { FeatureKernel, MatrixKernel, QMatrix, gramToKernelMatrix, rowsOf } from '../../src/heads/svm/kernel.js';
import { kernelFromDot, type KernelParams } from '../../src/heads/svm/kernel-function.js';
import { solveCSvc } from '../../src/heads/svm/smo.js';

function randomMatrix(seed: number, rows: number, cols: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: rows * cols }, () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  });
}

function naiveProduct(a: Float32Array, n: number, b: Float32Array, m: number, dim: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += a[i * dim + k]! * b[j * dim + k]!;
      out[i * m + j] = s;
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('cross products: onnxruntime and JS agree with the naive sum, odd shapes included', () => {
  const a = randomMatrix(1, 37, 19);
  const b = randomMatrix(2, 23, 19);
  const ref = naiveProduct(a, 37, b, 23, 19);
  assert.ok(maxAbsDiff(crossProductsJs(a, 37, b, 23, 19), ref) < 1e-5);
  assert.ok(maxAbsDiff(crossProducts(a, 37, b, 23, 19, { backend: 'ort' }), ref) < 1e-5);
});

test('Gram matrix into a SharedArrayBuffer, across several ORT blocks', () => {
  const n = 300;
  const x = randomMatrix(3, n, 64);
  const out = new Float32Array(new SharedArrayBuffer(n * n * 4));
  const g = gramMatrix(x, n, 64, { out, backend: 'ort' });
  assert.equal(g, out);
  assert.ok(maxAbsDiff(out, naiveProduct(x, n, x, n, 64)) < 1e-5);
});

const kernels: KernelParams[] = [
  { kernel: 'linear', gamma: 0, degree: 3, coef0: 0 },
  { kernel: 'rbf', gamma: 0.7, degree: 3, coef0: 0 },
  { kernel: 'poly', gamma: 0.5, degree: 3, coef0: 1 },
];

test('kernel sources agree: full matrix, features on demand, and row views of both', () => {
  const n = 40;
  const dim = 7;
  const x = randomMatrix(4, n, dim);
  const cols = Int32Array.from({ length: n }, (_, i) => (i * 7) % n);
  for (const p of kernels) {
    const direct = Array.from(cols, (j) => {
      let uv = 0,
        uu = 0,
        vv = 0,
        d2 = 0;
      for (let k = 0; k < dim; k++) {
        const u = x[5 * dim + k]!,
          v = x[j * dim + k]!;
        uv += u * v;
        uu += u * u;
        vv += v * v;
        d2 += (u - v) ** 2;
      }
      return p.kernel === 'rbf' ? Math.exp(-p.gamma * d2) : kernelFromDot(p, uv, uu, vv);
    });
    const matrix = new MatrixKernel(gramToKernelMatrix(gramMatrix(x, n, dim), n, p), n);
    const features = new FeatureKernel(x, n, dim, p);
    // A view of every row in reverse order, read at the mirrored row and columns, reads the same values.
    const reversed = Int32Array.from({ length: n }, (_, i) => n - 1 - i);
    const sources = [matrix, features, rowsOf(matrix, reversed), rowsOf(features, reversed)];
    for (const [k, s] of sources.entries()) {
      const row = new Float32Array(n);
      if (k < 2) s.row(5, cols, row);
      else
        s.row(
          n - 1 - 5,
          Int32Array.from(cols, (c) => n - 1 - c),
          row,
        );
      assert.ok(maxAbsDiff(row, direct) < 1e-5, `${p.kernel} source ${k} (${s.constructor.name})`);
    }
  }
});

test('solver: a tiny kernel cache and shrinking do not change the solution', () => {
  const n = 120;
  const dim = 5;
  const x = randomMatrix(5, n, dim);
  const y = Int8Array.from({ length: n }, (_, i) => (x[i * dim]! + 0.3 * x[i * dim + 1]! > 0 ? 1 : -1));
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const upper = new Float64Array(n).fill(2);
  const source = new FeatureKernel(x, n, dim, kernels[1]!);
  const big = solveCSvc(new QMatrix(source, idx, y, 1 << 20), y, upper, { eps: 1e-6, shrinking: false });
  const small = solveCSvc(new QMatrix(source, idx, y, 3 * 4 * n), y, upper, { eps: 1e-6, shrinking: true });
  assert.ok(Math.abs(big.rho - small.rho) < 1e-4);
  assert.ok(maxAbsDiff(big.alpha, small.alpha) < 1e-3);
  // The dual constraint yᵀα = 0 holds.
  assert.ok(Math.abs(big.alpha.reduce((s, a, i) => s + a * y[i]!, 0)) < 1e-9);
});
