/**
 * The architecture's import rules, checked on the source: imports run
 * downward (http → serving/training/export → features → heads/store → encoder/onnx),
 * a head never imports training, http, the store or the encoder, serving never
 * imports training, a predict worker loads predictors without pulling in
 * any training or export code, no files import each other in a circle, and
 * the console takes nothing from the server but the types of its response schemas.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { HEADS } from '../../src/heads/registry.js';

const SRC = 'src';

/** Every .ts file under src, as paths relative to src. */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [relative(SRC, join(dir, e.name))] : [],
  );
}

/**
 * The src files a file imports statically (`import … from`, `export … from`);
 * dynamic import() is lazy by design and not followed. `runtime`: only the
 * imports that load code (`import type` is erased when compiled).
 */
function imports(file: string, runtime = false): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(import|export)(\s+type)?\s[^;]*?from\s+'(\.[^']+)'/gms)) {
    if (runtime && m[2]) continue;
    out.push(normalize(join(dirname(file), m[3]!)).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** The src files a file loads lazily (`import('./x.js')`). */
function lazyImports(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  return [...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
}

/** The part a file belongs to: its top folder, or the file's own name at the root. */
const partOf = (file: string) => (file.includes('/') ? file.split('/')[0]! : file.replace(/\.ts$/, ''));

/** What each part may import (besides itself). The entry points (main, service, app) may import anything. */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  lib: [],
  onnx: [],
  config: [],
  log: [],
  workers: ['errors'],
  encoder: ['errors', 'lib', 'onnx', 'workers', 'config'],
  heads: ['errors', 'lib', 'onnx'],
  store: ['errors', 'lib', 'encoder', 'config', 'log'],
  features: ['errors', 'lib', 'encoder', 'store'],
  metrics: ['encoder'],
  training: ['errors', 'lib', 'onnx', 'workers', 'heads', 'features', 'store', 'encoder', 'log'],
  serving: ['errors', 'lib', 'workers', 'heads', 'features', 'store', 'encoder'],
  export: ['errors', 'onnx', 'workers', 'heads', 'store', 'encoder'],
  http: ['errors', 'lib', 'encoder', 'features', 'heads', 'serving', 'training', 'export', 'store', 'log', 'metrics', 'config'],
};
const ENTRY = new Set(['main', 'service', 'app']);

test('imports run downward: every part imports only the parts below it', () => {
  const files = sources();
  const bad: string[] = [];
  for (const file of files) {
    const from = partOf(file);
    if (ENTRY.has(from)) continue;
    const allowed = ALLOWED[from];
    assert.ok(allowed, `src/${file}: part "${from}" has no import rule; add one to ALLOWED`);
    for (const target of imports(file)) {
      const to = partOf(target);
      if (to !== from && !allowed.includes(to)) bad.push(`src/${file} imports src/${target} (${from} → ${to})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('a predict worker loads predictors without importing any training or export code', () => {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const target of imports(file, true)) visit(target);
  };
  visit('serving/predict-worker.ts');
  const training = [...seen].filter(
    (f) => f.startsWith('training/') || f.startsWith('export/') || /^heads\/[^/]+\/(trainer|train|smo|cart|cv|kernel|kernel-cache|onnx)\.ts$/.test(f),
  );
  assert.deepEqual(training, []);
  assert.ok(seen.has('heads/registry.ts') && seen.has('heads/svm/predict.ts') && seen.has('heads/forest/predict.ts'), 'it does load every head type');
});

/** Every .ts and .tsx file under `dir`, as paths relative to the repository. */
function consoleSources(dir = 'console/src'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? consoleSources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Every module a file names in `import`/`export … from` (packages too), and whether the import is `import type`. */
function specifiers(path: string): Array<{ from: string; typeOnly: boolean }> {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^(import|export)(\s+type)?\s[^;]*?from\s+'([^']+)'/gms)].map((m) => ({ from: m[3]!, typeOnly: m[2] !== undefined }));
}

test('the console takes only types from the server, from its response schemas, and what those reach needs nothing but zod', () => {
  const bad: string[] = [];
  const reached: string[] = [];
  for (const file of consoleSources()) {
    for (const { from, typeOnly } of specifiers(file)) {
      if (!from.startsWith('.')) continue;
      const target = normalize(join(dirname(file), from)).replace(/\.js$/, '.ts');
      if (target.startsWith('console/')) continue;
      if (!typeOnly || !target.startsWith('src/http/schemas/')) bad.push(`${file} imports ${target}${typeOnly ? '' : ' (not import type)'}`);
      else reached.push(target);
    }
  }
  // tsc checks what those modules import under the console's settings (browser libraries, no Node types).
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { from } of specifiers(file)) {
      if (from.startsWith('.')) visit(normalize(join(dirname(file), from)).replace(/\.js$/, '.ts'));
      else if (from !== 'zod') bad.push(`${file} imports ${from}, and the console's types reach ${file}`);
    }
  };
  for (const file of reached) visit(file);
  assert.deepEqual(bad, []);
  assert.ok(seen.has('src/http/schemas/version.ts'), 'the console reads versions as their schema declares them');
});

test('the console names no head type: its training form offers what GET /v1/heads lists', () => {
  const named = consoleSources().flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return HEADS.filter((h) => text.includes(`'${h.type}'`) || text.includes(`"${h.type}"`)).map((h) => `${file} names ${h.type}`);
  });
  assert.deepEqual(named, []);
});

test('no import circles: no files import each other, whether through type imports or a lazy import()', () => {
  const files = sources();
  const edges = new Map(files.map((f) => [f, [...new Set([...imports(f), ...lazyImports(f)])]]));
  const circles: string[] = [];
  const open: string[] = [];
  const done = new Set<string>();
  // Depth first: an import of a file still open on the path closes a circle.
  const visit = (file: string) => {
    open.push(file);
    for (const target of edges.get(file) ?? []) {
      const at = open.indexOf(target);
      if (at >= 0) circles.push([...open.slice(at), target].map((f) => `src/${f}`).join(' → '));
      else if (!done.has(target)) visit(target);
    }
    open.pop();
    done.add(file);
  };
  for (const file of files) if (!done.has(file)) visit(file);
  assert.deepEqual(circles, []);
});
