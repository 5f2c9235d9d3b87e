/** A destructive action asked twice, in the page rather than in window.confirm (which blocks the page and its tests). */
import { useState } from 'preact/hooks';

export function ConfirmButton({ label, confirm, onConfirm, testId }: { label: string; confirm: string; onConfirm: () => void; testId: string }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" class="danger" data-testid={testId} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span class="confirm">
      {confirm}{' '}
      <button
        type="button"
        class="danger"
        data-testid={`${testId}-confirm`}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Yes
      </button>{' '}
      <button type="button" onClick={() => setAsking(false)}>
        No
      </button>
    </span>
  );
}
