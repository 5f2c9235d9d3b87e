/** The load generators' one request: a JSON POST over a keep-alive agent, timed from send to the last byte. */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Closes the agent's idle sockets, so the benchmark's process can exit. */
export function closeConnections(): void {
  agent.destroy();
}

/** Milliseconds the POST of `body` to `url` + `path` took; rejects unless the answer is 200. */
export function timedPost(url: string, path: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((ok, fail) => {
    const started = performance.now();
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => (res.statusCode === 200 ? ok(performance.now() - started) : fail(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}
