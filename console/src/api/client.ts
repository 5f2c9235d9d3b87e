/**
 * Calls to the service: JSON in, JSON out, the key attached when there is
 * one, and a 401 turned into a request for a key followed by the same call
 * again. Every failure is an ApiError carrying the service's own message.
 */
import { ApiError, apiErrorOf, networkError } from './errors.js';
import { askForKey, authHeaders } from './key.js';
import { withQuery } from './query.js';

/** Runs `attempt` with the stored key; when it fails with 401, asks for a key and runs it again (until the person gives up). */
export async function withKey<T>(attempt: (headers: Record<string, string>) => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt(authHeaders());
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      await askForKey(err.message).catch(() => {
        throw err;
      });
    }
  }
}

/** fetch() with the key, failing with an ApiError on a network error or a status that is not 2xx. */
export function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return withKey(async (auth) => {
    let res: Response;
    try {
      res = await fetch(path, { ...init, headers: { ...auth, ...(init.headers as Record<string, string> | undefined) } });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw networkError(err);
    }
    if (!res.ok) throw apiErrorOf(res.status, res.statusText, await res.text().catch(() => ''));
    return res;
  });
}

type Query = Record<string, string | number | boolean | undefined>;

async function json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await apiFetch(path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
    ...(signal ? { signal } : {}),
  });
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => json<T>('GET', withQuery(path, query), undefined, signal),
  post: <T>(path: string, body?: unknown) => json<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => json<T>('PATCH', path, body),
  delete: (path: string) => json<void>('DELETE', path),
};
