/**
 * A real nginx in front of service replicas: Debian's nginx run as our own
 * process on a free port with a generated configuration (least connections,
 * passive health checks, retries of idempotent requests only).
 *
 * nginx is a master and its workers. It runs in a process group of its own,
 * and is stopped as an operator would (graceful quit, then the master's exit,
 * which waits for its workers); killing the master alone would leave a worker
 * running and listening, so the last resort kills the whole group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupGone, signalGroup, track } from './process.js';
import { findNginx } from './tools.js';

export const NGINX = findNginx().path;

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** The configuration the integration suite uses; docker-compose's nginx.conf follows the same rules. */
export function nginxConfig(dir: string, port: number, upstreams: number[]): string {
  return `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream transferd {
    least_conn;
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 300m;
    location / {
      proxy_pass http://transferd;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 300s;
      # Another replica takes over when one is down or draining; POST and PATCH are never resent.
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_next_upstream_tries 3;
    }
  }
}
`;
}

export interface Nginx {
  url: string;
  proc: ChildProcess;
}

/** Starts nginx in front of `upstreams` and resolves once it accepts connections. */
export async function startNginx(upstreams: number[]): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
  chmodSync(dir, 0o777); // workers may run as another user when the suite runs as root
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, upstreams));
  // Detached: the master leads a new process group, which its workers join.
  const proc = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  track(proc, { group: true });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited (${proc.exitCode}): ${stderr} ${safeRead(join(dir, 'error.log'))}`);
    if (
      await fetch(`${url}/healthz`).then(
        () => true,
        () => false,
      )
    )
      return { url, proc };
    if (Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const hasExited = (proc: ChildProcess) => proc.exitCode !== null || proc.signalCode !== null;

function exitOf(proc: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(proc)) return Promise.resolve(true);
  return new Promise((ok) => {
    const timer = setTimeout(() => ok(false), timeoutMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      ok(true);
    });
  });
}

/**
 * Stops nginx and everything it started: SIGQUIT (workers finish their
 * requests, the master waits for them and exits), SIGTERM if that hangs, and
 * as a last resort SIGKILL to the whole process group. Resolves once no
 * process of the group is left; throws if one survives even that.
 */
export async function stopNginx(nginx: Nginx, graceMs = 10_000): Promise<void> {
  const { proc } = nginx;
  const group = proc.pid!;
  if (!hasExited(proc)) {
    proc.kill('SIGQUIT');
    if (!(await exitOf(proc, graceMs))) {
      proc.kill('SIGTERM');
      await exitOf(proc, 2000);
    }
  }
  if (await groupGone(group, 1000)) return;
  signalGroup(group, 'SIGKILL');
  if (!(await groupGone(group, 5000))) throw new Error(`nginx's process group ${group} would not die`);
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
