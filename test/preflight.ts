/**
 * Runs before `npm test` (see package.json): finds what the suite needs
 * outside Node — nginx, Chromium, curl and jq, the PostgreSQL server, the imported model — and
 * installs what it can, so the suite never dies half-way with a spawn error.
 * Whatever is still missing is one line on stderr saying how to get it, and
 * the exit code is 1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_INT8_MODEL, DEFAULT_MODEL } from '../src/config.js';
import { bundledCheckpointDir } from '../src/encoder/import/bundled.js';
import { importCheckpoint } from '../src/encoder/import/importer.js';
import { readManifest } from '../src/encoder/manifest.js';
import { DATASETS_DIR } from '../bench/lib/datasets.js';
import { findChromium, findNginx, PG_URL } from './helpers/tools.js';

const say = (line: string) => process.stderr.write(`npm test: ${line}\n`);

/** Whether this process may install Debian packages: root, or passwordless sudo. */
function aptInstaller(): string[] | undefined {
  if (spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status !== 0) return undefined;
  if (process.getuid?.() === 0) return [];
  return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0 ? ['sudo', '-n'] : undefined;
}

/**
 * A tool the suite runs, from Debian's package `pkg`: found, or installed when
 * it is missing and this process may install packages; otherwise the one line
 * saying how to get it. `$variable`, when set, names the only one accepted.
 * RUNLEVEL=1: a package's scripts start no system service (nginx on port 80);
 * the suite runs its own.
 */
function tool(pkg: string, variable: string | null, found: () => boolean, role: string): string | null {
  if (found()) return null;
  const set = variable && process.env[variable];
  if (set) return `${variable}=${set} is not an executable file; point it at ${pkg}, or unset it to use the one installed`;
  const how = `install Debian's ${pkg} (apt-get install -y ${pkg})${variable ? ` or set ${variable}=/path/to/${pkg}` : ''}`;
  const sudo = aptInstaller();
  if (!sudo) return `${pkg} is missing (${role}): ${how}`;
  say(`${pkg} is missing; installing Debian's ${pkg}`);
  const apt = (...args: string[]) => {
    const [command, ...rest] = [...sudo, 'env', 'RUNLEVEL=1', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args];
    return spawnSync(command!, rest, { stdio: 'ignore' }).status === 0;
  };
  const install = ['install', '-y', '--no-install-recommends', pkg];
  if (!apt(...install) && !(apt('update') && apt(...install))) return `${pkg} is missing and apt-get could not install it: ${how}`;
  return found() ? null : `${pkg} was installed but is still not found${variable ? `: set ${variable}=/path/to/${pkg}` : ' on PATH'}`;
}

/** Whether `command` is on PATH (the README's examples call curl and jq by name). */
const onPath = (command: string) => () => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

async function postgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    const where = PG_URL.replace(/\/\/[^@]*@/, '//');
    return `PostgreSQL at ${where} does not answer (${(err as Error).message}): start it, or set TRANSFERD_TEST_DATABASE_URL to one that does`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The API tests load the bundled models (fp32 and int8) from models/; `npm ci` imports them, and so does this if it did not. */
function models(): string | null {
  for (const [name, int8] of [
    [DEFAULT_MODEL, false],
    [DEFAULT_INT8_MODEL, true],
  ] as const) {
    const dir = join('models', name);
    if (readManifest(dir)) continue;
    try {
      importCheckpoint(bundledCheckpointDir(), dir, name, { maxTokens: 256, int8 });
    } catch (err) {
      return `the model ${name} is not imported and importing it failed (${(err as Error).message}): run npm ci`;
    }
  }
  return null;
}

/** The browser suite uploads questions from the shared TREC set, which the project reads in place and never copies. */
function datasets(): string | null {
  const file = join(DATASETS_DIR, 'trec.train.jsonl');
  return existsSync(file)
    ? null
    : `${file} is missing (the browser suite reads the shared data sets): set TRANSFERD_DATASETS_DIR to the folder that holds them`;
}

const major = Number(process.versions.node.split('.')[0]);
const problems = [
  major >= 20 ? null : `Node ${process.versions.node} is too old: the service needs Node 20 or later`,
  tool('nginx', 'NGINX', () => findNginx().found, 'the replicas suite runs it'),
  tool('chromium', 'CHROMIUM', () => findChromium().found, 'the browser suite runs it'),
  tool('curl', null, onPath('curl'), "the README's examples run it"),
  tool('jq', null, onPath('jq'), "the README's examples run it"),
  await postgres(),
  models(),
  datasets(),
].filter((p): p is string => p !== null);
for (const p of problems) say(p);
if (problems.length) process.exit(1);
