/**
 * A task's labels and what each means: a line per label (declared at
 * creation, or with examples), saved with PATCH label_descriptions. An
 * untrained single-label task with two declared labels predicts from them
 * (zero-shot, version 0); with few examples, a job trains on them too.
 */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { Task } from '../api/responses.js';
import { ErrorBox } from '../ui/error-box.js';
import { useAction } from '../ui/use-action.js';

export function LabelDescriptions({ task, taskPath, onSaved }: { task: Task; taskPath: string; onSaved: () => void }) {
  const names = [...new Set([...task.labels.map((l) => l.name), ...Object.keys(task.label_counts ?? {})])];
  const stored = Object.fromEntries(task.labels.map((l) => [l.name, l.description ?? '']));
  const [edits, setEdits] = useState<Record<string, string>>({});
  const save = useAction();
  const changed = Object.entries(edits).filter(([name, text]) => text.trim() !== (stored[name] ?? ''));
  if (names.length === 0) return null;
  return (
    <form
      class="card"
      data-testid="label-descriptions"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run(async () => {
          await api.patch<Task>(taskPath, { label_descriptions: Object.fromEntries(changed.map(([name, text]) => [name, text.trim() || null])) });
          setEdits({});
          onSaved();
        });
      }}
    >
      <h2>What the labels mean</h2>
      <p class="muted small">
        A line per label. Until a version is trained, a task with two declared labels predicts from them (zero-shot); with few examples, training uses them as
        extra examples.
      </p>
      <table class="compact">
        <tbody>
          {names.map((name) => (
            <tr key={name}>
              <td>{name}</td>
              <td>
                <input
                  data-testid="label-description"
                  data-label={name}
                  placeholder="what this label means"
                  value={edits[name] ?? stored[name] ?? ''}
                  onInput={(e) => setEdits({ ...edits, [name]: e.currentTarget.value })}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="actions">
        <button type="submit" disabled={save.busy || changed.length === 0} data-testid="save-descriptions">
          Save descriptions
        </button>
      </div>
      <ErrorBox error={save.error} />
    </form>
  );
}
