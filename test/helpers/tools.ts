/**
 * Where the suite's outside tools are: nginx, Chromium and the PostgreSQL server. One
 * place, read by the helpers that use them and by the preflight that checks
 * them before `npm test` runs anything.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const PG_URL = process.env.TRANSFERD_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const onPath = (env: NodeJS.ProcessEnv, name: string) =>
  (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name));

/**
 * `$variable` when set (only that one, so a wrong setting is reported rather
 * than silently replaced), else the first executable of `candidates`; when
 * none is, `debian`, the path Debian's package installs, as the one to report.
 */
function findTool(env: NodeJS.ProcessEnv, variable: string, candidates: string[], debian: string): { path: string; found: boolean } {
  const set = env[variable];
  if (set) return { path: set, found: executable(set) };
  const path = candidates.find(executable);
  return path ? { path, found: true } : { path: debian, found: false };
}

/** The nginx to run: $NGINX, else the first on PATH, else Debian's /usr/sbin/nginx (sbin is often missing from a user's PATH). */
export function findNginx(env: NodeJS.ProcessEnv = process.env): { path: string; found: boolean } {
  return findTool(env, 'NGINX', [...onPath(env, 'nginx'), '/usr/sbin/nginx'], '/usr/sbin/nginx');
}

/** The Chromium the browser suite drives: $CHROMIUM, else Debian's /usr/bin/chromium, else the first `chromium` on PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): { path: string; found: boolean } {
  return findTool(env, 'CHROMIUM', ['/usr/bin/chromium', ...onPath(env, 'chromium')], '/usr/bin/chromium');
}

/** Headless, and nothing a test does not need: no sandbox (containers, root), no GPU, no calls home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
