/**
 * The documentation holds to what it promises: the README stays a user's page, every link in it and in docs/
 * resolves (files and headings), the configuration table is the one src/config.ts renders, the API page names
 * every training field and head parameter, and no module header tells a benchmark's figures.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { HEADS } from '../../src/heads/registry.js';
import { trainingRequestSchema } from '../../src/training/request.js';
import { anchors, configTable, linkTargets, markdownFiles, read } from '../helpers/docs.js';

test('the README is a page for users: at most 30 KB, and its top gives the set-up and test commands', () => {
  const readme = read('README.md');
  assert.ok(Buffer.byteLength(readme) <= 30 * 1024, `README.md is ${Buffer.byteLength(readme)} bytes`);
  const top = readme.split('\n').slice(0, 20).join('\n');
  for (const command of ['npm ci', 'npm start', 'npm test']) assert.ok(top.includes(command), `the top names ${command}`);
});

test('every link in README.md and docs/ resolves: files in the repository and the headings they name', () => {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    for (const target of linkTargets(read(file))) {
      if (/^[a-z]+:/i.test(target)) continue; // http(s), mailto: outside the repository
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path ? normalize(join(dirname(file), path)) : file;
      if (!existsSync(resolved)) {
        broken.push(`${file}: ${target} (no ${resolved})`);
        continue;
      }
      if (anchor !== undefined && (statSync(resolved).isDirectory() || !anchors(read(resolved)).has(anchor)))
        broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the link checker sees what it checks: links, anchors, and code blocks left out', () => {
  const md = '# A `b` c?\n\n## Two words\n\n## Two words\n\n[x](docs/api.md#errors) ![i](p.png)\n\n```sh\n[not](a link)\n# not a heading\n```\n';
  assert.deepEqual(linkTargets(md), ['docs/api.md#errors', 'p.png']);
  assert.deepEqual([...anchors(md)], ['a-b-c', 'two-words', 'two-words-1']);
});

test('the configuration table in the README is the one src/config.ts renders', () => {
  const readme = read('README.md');
  const start = readme.indexOf('<!-- config table');
  const end = readme.indexOf('<!-- end of the config table -->');
  assert.ok(start >= 0 && end > start, 'the README marks its configuration table');
  const table = readme.slice(readme.indexOf('\n', start) + 1, end).trim();
  const expected = configTable();
  assert.equal(table, expected, `paste this between the markers:\n${expected}`);
});

test('docs/api.md names every field of the training request and every parameter of every head type', () => {
  const api = read('docs/api.md');
  const missing: string[] = [];
  for (const field of Object.keys(trainingRequestSchema.shape)) if (!api.includes(`\`${field}\``)) missing.push(field);
  for (const { type, params } of HEADS) {
    const shape = params instanceof z.ZodObject ? params.shape : {};
    if (!api.includes(`(\`${type}\`)`)) missing.push(`head ${type}`);
    for (const name of Object.keys(shape)) if (!api.includes(`\`${name}\``)) missing.push(`${type}.${name}`);
  }
  assert.deepEqual(missing, []);
});

/** A figure with a unit a benchmark reports, or a pointer to a benchmark's story. */
const FIGURE = /\d[\d.,]*(\s?%|×|\s*(texts|tokens|rows)\/s|\s*µs)|\bmeasured\b|\bone-off\b/i;

test("no module header cites a benchmark's figures (they live in docs/benchmarks/)", () => {
  const offenders: string[] = [];
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  for (const file of walk('src')) {
    const header = /^\s*\/\*\*?([\s\S]*?)\*\//.exec(read(file))?.[1] ?? '';
    for (const line of header.split('\n')) if (FIGURE.test(line)) offenders.push(`${file}: ${line.trim()}`);
  }
  assert.deepEqual(offenders, []);
});
