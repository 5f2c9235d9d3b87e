/**
 * The README's examples, run as written against started services: every `sh` block of its tour (but those that
 * install or start the service) through bash, with a `curl` that fails on an HTTP error, and its `js` blocks
 * through node. Only the address changes (each service listens on a free port), and the data sets' folder where
 * TRANSFERD_DATASETS_DIR moves it. Blocks that use `$ADMIN` run against a service with keys on.
 */
import '../helpers/cleanup.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { DATASETS_DIR } from '../../bench/lib/datasets.js';
import { read } from '../helpers/docs.js';
import { type ServiceProcess, startServiceProcess, waitFor } from '../helpers/process.js';

interface Block {
  lang: string;
  code: string;
  line: number;
}

const readme = read('README.md');
const tour = readme.slice(readme.indexOf('## A tour'), readme.indexOf('\n## ', readme.indexOf('## A tour') + 1));
const blocks: Block[] = [...tour.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({
  lang: m[1]!,
  code: m[2]!,
  line: readme.slice(0, readme.indexOf(m[0])).split('\n').length,
}));
const runnable = blocks.filter((b) => (b.lang === 'sh' || b.lang === 'js') && !/\bnpm (ci|start|test)\b/.test(b.code));
const ADMIN = 'readme-examples-admin-key-0123456789abcdef';
const work = mkdtempSync(join(tmpdir(), 'readme-'));

/** The block as it will run: the service's address for README's, and the data sets where this run keeps them. */
function localize(code: string, svc: ServiceProcess): string {
  const datasets = relative(process.cwd(), resolve(DATASETS_DIR));
  return code.replaceAll('localhost:8080', `127.0.0.1:${svc.port}`).replaceAll('../shared/datasets', datasets);
}

async function run(block: Block, svc: ServiceProcess): Promise<{ code: number | null; out: string }> {
  const source = localize(block.code, svc);
  // A js block runs as a module inside the repository, so that `import 'openai'` resolves from node_modules.
  const module = resolve(`dist/readme-example-${process.pid}.mjs`);
  if (block.lang === 'js') writeFileSync(module, source);
  const [cmd, args] =
    block.lang === 'sh' ? ['bash', ['-c', `set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n${source}`]] : [process.execPath, [module]];
  try {
    return await new Promise((ok) => {
      const child = spawn(cmd, args, { env: { ...process.env, ADMIN }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      child.on('exit', (code) => ok({ code, out }));
    });
  } finally {
    rmSync(module, { force: true });
  }
}

test('the README tour has its examples: sh blocks for a task end to end, multi-label, little data and keys, and the openai client', () => {
  assert.ok(runnable.filter((b) => b.lang === 'sh').length >= 5, `sh blocks found: ${runnable.length}`);
  assert.ok(runnable.some((b) => b.lang === 'js' && b.code.includes("from 'openai'")));
  assert.ok(runnable.some((b) => b.code.includes('$ADMIN')));
});

test("the README's examples run as written and answer what they say", { timeout: 15 * 60_000 }, async () => {
  const open = await startServiceProcess({ TRANSFERD_DATA_DIR: join(work, 'open'), TRANSFERD_JOB_POLL_MS: '50' });
  const keyed = await startServiceProcess({ TRANSFERD_DATA_DIR: join(work, 'keyed'), TRANSFERD_ADMIN_KEY: ADMIN });
  await Promise.all([open, keyed].map((svc) => waitFor(`${svc.url}/readyz`, (s) => s === 200, 120_000)));
  const outputs: string[] = [];
  for (const block of runnable) {
    const { code, out } = await run(block, block.code.includes('$ADMIN') ? keyed : open);
    assert.equal(code, 0, `README line ${block.line} (${block.lang}) failed:\n${out.slice(-3000)}`);
    outputs.push(out);
  }
  const all = outputs.join('\n');
  // What the blocks print, checked against what the README says they do.
  const accuracy = /"accuracy":\s*([\d.]+)/.exec(all);
  assert.ok(accuracy && Number(accuracy[1]) > 0.85, `the TREC version's cross-validated accuracy: ${accuracy?.[1]}`);
  assert.match(all, /"kind":"single_label"[^\n]*"label":"(DESC|ENTY|ABBR|HUM|LOC|NUM)"/, 'a prediction answered with a TREC label');
  // jq's array may follow the upload's answer on its line: the API's JSON ends without a line break.
  assert.match(all, /\[(?:\n\s+"[a-z_]+",?)*\n?\]$/m, "the multi-label prediction's label set");
  assert.match(all, /^"card_arrival"$/m, 'zero-shot from the descriptions labels the card question');
  assert.match(all, /"object":"client"/, "the admin reads the client's usage");
});
