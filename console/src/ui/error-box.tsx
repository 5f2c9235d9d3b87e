/** An API error as the person sees it: the service's message, its code and field, and an upload's line-by-line problems. */
import { ApiError } from '../api/errors.js';

/** An upload's bad records ({at, message}) or a label conflict's texts ({text, existing_label, new_label}), one line each. */
function problemsOf(err: ApiError): string[] {
  const list = err.details.errors ?? err.details.conflicts;
  if (!Array.isArray(list)) return [];
  return list.map((p: Record<string, unknown>) =>
    'existing_label' in p
      ? `"${String(p.text).slice(0, 80)}" is "${String(p.existing_label)}", the upload says "${String(p.new_label)}"`
      : `${String(p.at)}: ${String(p.message)}`,
  );
}

export function ErrorBox({ error, testId = 'error' }: { error: unknown; testId?: string }) {
  if (error === null || error === undefined) return null;
  if (!(error instanceof ApiError)) {
    return (
      <div class="error" role="alert" data-testid={testId}>
        {error instanceof Error ? error.message : String(error)}
      </div>
    );
  }
  const problems = problemsOf(error);
  const more = typeof error.details.more === 'number' ? error.details.more : 0;
  return (
    <div class="error" role="alert" data-testid={testId} data-code={error.code}>
      <div>
        {error.message}
        <span class="error-code">
          {' '}
          ({error.status ? `${error.status} ` : ''}
          {error.code}
          {error.param ? `, ${error.param}` : ''})
        </span>
      </div>
      {problems.length > 0 && (
        <ul>
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
          {more > 0 && <li>… and {more} more</li>}
        </ul>
      )}
    </div>
  );
}

/** What a page shows before its data arrives: the error that stopped it, or that it is loading. */
export function Pending({ error }: { error: unknown }) {
  return error ? <ErrorBox error={error} /> : <p class="muted">Loading…</p>;
}
