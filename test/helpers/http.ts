/** A small JSON client over fetch, for tests that talk to real processes. */
export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the service answered
  body: any;
}

export async function call(base: string, method: string, path: string, body?: unknown, type = 'application/json'): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': type },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body: parsed };
}

/** Polls a job until it ends. */
export async function jobEnd(base: string, taskId: string, jobId: string, timeoutMs = 180_000): Promise<Reply['body']> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call(base, 'GET', `/v1/tasks/${taskId}/jobs/${jobId}`);
    if (r.status === 200 && ['succeeded', 'failed', 'cancelled'].includes(r.body.state)) return r.body;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not end in ${timeoutMs} ms: ${JSON.stringify(r.body)}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}
