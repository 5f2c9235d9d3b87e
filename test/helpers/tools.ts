/**
 * Where the suite's outside tools are: nginx and the PostgreSQL server. One
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

/**
 * The nginx to run: $NGINX when set (only that one, so a wrong setting is
 * reported rather than silently replaced), else the first on PATH, else
 * Debian's /usr/sbin/nginx (sbin is often missing from a user's PATH).
 */
export function findNginx(env: NodeJS.ProcessEnv = process.env): { path: string; found: boolean } {
  if (env.NGINX) return { path: env.NGINX, found: executable(env.NGINX) };
  const candidates = [
    ...(env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'nginx')),
    '/usr/sbin/nginx',
  ];
  const path = candidates.find(executable);
  return path ? { path, found: true } : { path: '/usr/sbin/nginx', found: false };
}
