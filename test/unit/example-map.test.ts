import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../../src/heads/evaluation.js';
import { pca2, sampleRows } from '../../src/training/example-map.js';

/** Unit vectors u1, u2, u3 of a random rotation of R^dim (Gram–Schmidt on seeded random vectors). */
function basis(dim: number, count: number, seed: number): Float64Array[] {
  const rand = rng(seed);
  const out: Float64Array[] = [];
  while (out.length < count) {
    const v = Float64Array.from({ length: dim }, () => rand() - 0.5);
    for (const u of out) {
      const d = v.reduce((s, x, i) => s + x * u[i]!, 0);
      for (let i = 0; i < dim; i++) v[i]! -= d * u[i]!;
    }
    const n = Math.hypot(...v);
    out.push(v.map((x) => x / n));
  }
  return out;
}

/** Gaussian-ish coordinates (sum of uniforms) with the given standard deviations along u1, u2, u3, plus an offset. */
function cloud(n: number, dim: number, sds: number[], seed: number) {
  const u = basis(dim, sds.length, seed);
  const rand = rng(seed + 1);
  const normal = () => (rand() + rand() + rand() + rand() - 2) * Math.sqrt(3);
  const latent = Array.from({ length: n }, () => sds.map((sd) => sd * normal()));
  const x = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) x[r * dim + j] = 5 + latent[r]!.reduce((s, z, k) => s + z * u[k]![j]!, 0);
  return { x, latent };
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const ma = Array.from(a).reduce((s, v) => s + v, 0) / n;
  const mb = Array.from(b).reduce((s, v) => s + v, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

test('pca2 finds the two directions of largest variance and the share of variance each explains', () => {
  const n = 1500;
  const dim = 40;
  const { x, latent } = cloud(n, dim, [3, 2, 0.5], 7);
  const rows = sampleRows(n, n, 1);
  const map = pca2(x, dim, rows, 1);
  const xs = Array.from({ length: n }, (_, i) => map.coords[2 * i]!);
  const ys = Array.from({ length: n }, (_, i) => map.coords[2 * i + 1]!);
  assert.ok(
    Math.abs(
      correlation(
        xs,
        latent.map((l) => l[0]!),
      ),
    ) > 0.999,
    'x follows the widest direction',
  );
  assert.ok(
    Math.abs(
      correlation(
        ys,
        latent.map((l) => l[1]!),
      ),
    ) > 0.999,
    'y follows the second',
  );
  // Variances 9, 4 and 0.25 (the sample's own, so compare loosely): 9/13.25 and 4/13.25.
  const [r1, r2] = map.explainedVarianceRatio;
  assert.ok(Math.abs(r1 - 9 / 13.25) < 0.04, `first ratio ${r1}`);
  assert.ok(Math.abs(r2 - 4 / 13.25) < 0.04, `second ratio ${r2}`);
  assert.ok(Math.abs(correlation(xs, ys)) < 0.01, 'the axes are uncorrelated');
  const again = pca2(x, dim, rows, 1);
  assert.deepEqual(again.coords, map.coords, 'the same data gives the same picture');
});

test('pca2 on data of rank one puts everything on x and reports no variance along y', () => {
  const { x } = cloud(200, 10, [2], 3);
  const map = pca2(x, 10, sampleRows(200, 200, 1), 1);
  assert.ok(map.explainedVarianceRatio[0] > 0.999999);
  assert.ok(map.explainedVarianceRatio[1] < 1e-6);
  assert.ok(map.coords.every(Number.isFinite));
});

test('pca2 of identical rows is a single point at the origin, not NaN', () => {
  const x = new Float32Array(30).fill(0.25);
  const map = pca2(x, 3, sampleRows(10, 10, 1), 1);
  assert.deepEqual(Array.from(map.coords), new Array(20).fill(0));
  assert.deepEqual(map.explainedVarianceRatio, [0, 0]);
});

test('sampleRows draws distinct rows in ascending order, the same for the same seed, every row when there are few', () => {
  assert.deepEqual(Array.from(sampleRows(5, 10, 1)), [0, 1, 2, 3, 4]);
  const a = sampleRows(10_000, 2000, 42);
  assert.equal(a.length, 2000);
  assert.equal(new Set(a).size, 2000);
  for (let i = 1; i < a.length; i++) assert.ok(a[i]! > a[i - 1]!);
  assert.deepEqual(sampleRows(10_000, 2000, 42), a);
  assert.notDeepEqual(sampleRows(10_000, 2000, 43), a);
  // Uniform: about a fifth of each half of the rows is drawn.
  const low = a.filter((r) => r < 5000).length;
  assert.ok(low > 900 && low < 1100, `${low} of 2000 from the lower half`);
});
