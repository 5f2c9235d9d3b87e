/**
 * The API key, when the service runs with keys on: asked for once, when a
 * call answers 401, and kept in sessionStorage, so it lives as long as the
 * tab and never reaches disk beyond the browser's session. Calls that meet a
 * 401 at the same time share one prompt.
 */

const STORAGE_KEY = 'transferd.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function authHeaders(): Record<string, string> {
  const key = storedKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** What the key dialog shows: why a key is wanted (the service's 401 message). */
export interface KeyRequest {
  reason: string;
  /** A key was already stored, so this one was refused. */
  refused: boolean;
}

type Listener = (request: KeyRequest | null) => void;

let pending: { request: KeyRequest; promise: Promise<void>; resolve: () => void; reject: () => void } | null = null;
const listeners = new Set<Listener>();

const notify = () => {
  for (const l of listeners) l(pending?.request ?? null);
};

/** Subscribes the key dialog; answers the unsubscribe. */
export function onKeyRequest(listener: Listener): () => void {
  listeners.add(listener);
  listener(pending?.request ?? null);
  return () => listeners.delete(listener);
}

/** Resolves once a key is entered; rejects when the person dismisses the dialog. */
export function askForKey(reason: string): Promise<void> {
  if (!pending) {
    let resolve!: () => void;
    let reject!: () => void;
    const promise = new Promise<void>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    pending = { request: { reason, refused: storedKey() !== null }, promise, resolve, reject };
    notify();
  }
  return pending.promise;
}

export function submitKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key.trim());
  const done = pending;
  pending = null;
  notify();
  done?.resolve();
}

export function dismissKeyRequest(): void {
  const done = pending;
  pending = null;
  notify();
  done?.reject();
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  notify();
}
