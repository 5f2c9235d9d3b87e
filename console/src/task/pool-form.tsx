/** Adds unlabelled texts to a task's pool, one a line: what the labelling page suggests from. */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { PoolUpload } from '../api/responses.js';
import { poolLines } from '../label-session.js';
import { ErrorBox } from '../ui/error-box.js';
import { useAction } from '../ui/use-action.js';

export function PoolForm({ taskPath, onAdded }: { taskPath: string; onAdded: (result: PoolUpload) => void }) {
  const [text, setText] = useState('');
  const [result, setResult] = useState<PoolUpload | null>(null);
  const add = useAction();
  const lines = poolLines(text);
  return (
    <form
      class="card"
      data-testid="pool-form"
      onSubmit={(e) => {
        e.preventDefault();
        void add.run(async () => {
          const answer = await api.post<PoolUpload>(`${taskPath}/pool`, { input: lines });
          setResult(answer);
          setText('');
          onAdded(answer);
        });
      }}
    >
      <h2>Add texts to label</h2>
      <p class="muted small">One text a line. Texts the task has as examples, or pooled already, are left out.</p>
      <textarea rows={4} data-testid="pool-text" value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <div class="actions">
        <button type="submit" disabled={add.busy || lines.length === 0} data-testid="pool-submit">
          Add {lines.length || ''} {lines.length === 1 ? 'text' : 'texts'}
        </button>
      </div>
      <ErrorBox error={add.error} testId="pool-error" />
      {result && (
        <p class="muted small" data-testid="pool-result" data-added={result.added}>
          Added {result.added} of {result.received}
          {result.skipped.labelled + result.skipped.pooled + result.skipped.repeated > 0 &&
            ` (left out: ${result.skipped.labelled} labelled, ${result.skipped.pooled} pooled already, ${result.skipped.repeated} repeated)`}
          ; the pool holds {result.pool_count}.
        </p>
      )}
    </form>
  );
}
