/** A progress bar whose percent is also an attribute, for tests and screen readers. */
export function ProgressBar({ percent, label, testId, state }: { percent: number; label: string; testId: string; state?: string }) {
  const p = Math.max(0, Math.min(100, percent));
  return (
    <div
      class={`progress${state ? ` progress-${state}` : ''}`}
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={p}
      aria-label={label}
      data-testid={testId}
      data-percent={String(p)}
      data-state={state}
    >
      <div class="progress-fill" style={{ width: `${p}%` }} />
      <span class="progress-text">{label}</span>
    </div>
  );
}
