/** The task's examples, a page at a time, optionally of one label. */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { ExampleList } from '../api/responses.js';
import { ErrorBox } from '../ui/error-box.js';
import { useApi } from '../ui/use-api.js';

const PAGE = 50;

export function ExamplesTable({ taskPath, labels, generation }: { taskPath: string; labels: string[]; generation: number }) {
  const [label, setLabel] = useState('');
  // The `after` cursor of every page up to the one shown: the last is this page's, the others lead back.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const after = cursors[cursors.length - 1];
  const page = useApi(
    (signal) => api.get<ExampleList>(`${taskPath}/examples`, { limit: PAGE, after, label: label || undefined }, signal),
    [taskPath, after, label, generation],
  );
  const first = cursors.length === 1;
  return (
    <div class="card" data-testid="examples">
      <h2>Examples</h2>
      <label>
        Label{' '}
        <select
          value={label}
          data-testid="examples-label"
          onChange={(e) => {
            setLabel(e.currentTarget.value);
            setCursors([undefined]);
          }}
        >
          <option value="">all</option>
          {labels.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
      </label>{' '}
      <button type="button" disabled={first} onClick={() => setCursors(cursors.slice(0, -1))} data-testid="examples-previous">
        ← Previous
      </button>{' '}
      <button
        type="button"
        disabled={!page.data?.next_after}
        onClick={() => page.data?.next_after && setCursors([...cursors, page.data.next_after])}
        data-testid="examples-next"
      >
        Next →
      </button>{' '}
      <span class="muted small">
        page {cursors.length}, {PAGE} a page
      </span>
      <ErrorBox error={page.error} />
      {page.data && (
        <table data-testid="examples-table">
          <thead>
            <tr>
              <th class="num">Id</th>
              <th>Text</th>
              <th>Label</th>
            </tr>
          </thead>
          <tbody>
            {page.data.data.map((e) => (
              <tr key={e.id} data-testid="example-row">
                <td class="num">{e.id}</td>
                <td>{e.text}</td>
                <td>{e.labels ? e.labels.join(', ') : e.label}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
