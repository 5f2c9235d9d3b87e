/** Synthetic feature rows for head tests. */
import type { Dataset } from '../../src/heads/dataset.js';
import { rng } from '../../src/heads/evaluation.js';

/** `classes` overlapping classes in `dim` dimensions, seeded: class c leans +1 on every dimension j with j mod classes = c. */
export function blobs(n: number, dim: number, classes: number, seed: number): Dataset {
  const rand = rng(seed);
  const y = Int32Array.from({ length: n }, (_, i) => i % classes);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) x[i * dim + j] = (rand() + rand() - 1) * 1.5 + (j % classes === y[i] ? 1 : 0);
  return { x, y, n, dim, classes };
}
