/** Asks for an API key when a call answered 401; the key is kept for the tab (api/key.ts). */
import { useEffect, useState } from 'preact/hooks';
import { dismissKeyRequest, type KeyRequest, onKeyRequest, submitKey } from '../api/key.js';

export function KeyDialog() {
  const [request, setRequest] = useState<KeyRequest | null>(null);
  const [key, setKey] = useState('');
  useEffect(() => onKeyRequest(setRequest), []);
  if (!request) return null;
  return (
    <div class="modal-backdrop">
      <form
        class="modal"
        data-testid="key-dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!key.trim()) return;
          submitKey(key);
          setKey('');
        }}
      >
        <h2>API key</h2>
        <p>
          This service runs with API keys on. Enter a client key (<code>tfd.…</code>); it is kept in this tab's session storage only.
        </p>
        <p class={request.refused ? 'error' : 'muted'} data-testid="key-reason">
          {request.refused ? 'The key was refused: ' : 'The service said: '}
          {request.reason}
        </p>
        <label>
          Key{' '}
          <input
            type="password"
            autoComplete="off"
            data-testid="key-input"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
            // biome-ignore lint/a11y/noAutofocus: the dialog exists only to take this one field.
            autoFocus
          />
        </label>
        <div class="actions">
          <button type="submit" data-testid="key-submit">
            Use this key
          </button>{' '}
          <button type="button" onClick={dismissKeyRequest}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
