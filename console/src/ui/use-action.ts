/** Something a person does against the service: whether it is running, and the error it ended with (shown, never swallowed). */
import { useCallback, useState } from 'preact/hooks';

export interface Action {
  busy: boolean;
  error: unknown;
  run: (action: () => Promise<void>) => Promise<void>;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}
