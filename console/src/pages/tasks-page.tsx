/** The tasks of this client: create one, open one, delete one. */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { seg } from '../api/query.js';
import { allTasks } from '../api/tasks.js';
import type { Task } from '../api/responses.js';
import { when } from '../format.js';
import { href } from '../route.js';
import { ConfirmButton } from '../ui/confirm-button.js';
import { ErrorBox } from '../ui/error-box.js';
import { useAction } from '../ui/use-action.js';
import { useApi } from '../ui/use-api.js';

function CreateTask() {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [kind, setKind] = useState<Task['kind']>('single_label');
  const [labels, setLabels] = useState('');
  const create = useAction();
  return (
    <form
      class="inline-form"
      data-testid="create-task"
      onSubmit={(e) => {
        e.preventDefault();
        void create.run(async () => {
          // One label a line, "name: what it means" (the description optional).
          const declared = labels
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean)
            .map((line) => {
              const at = line.indexOf(':');
              const label = (at < 0 ? line : line.slice(0, at)).trim();
              const meaning = at < 0 ? '' : line.slice(at + 1).trim();
              return meaning ? { name: label, description: meaning } : { name: label };
            });
          const task = await api.post<Task>('/v1/tasks', {
            name,
            kind,
            ...(description ? { description } : {}),
            ...(declared.length ? { labels: declared } : {}),
          });
          location.hash = href.task(task.id);
        });
      }}
    >
      <h2>New task</h2>
      <label>
        Name <input required data-testid="task-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Description <input data-testid="task-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      <label>
        Labels, optional (one a line, <code>name: what it means</code>; two or more predict before any training){' '}
        <textarea rows={3} data-testid="task-labels" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} />
      </label>
      <label>
        Kind{' '}
        <select value={kind} data-testid="task-kind" onChange={(e) => setKind(e.currentTarget.value as Task['kind'])}>
          <option value="single_label">one per text</option>
          <option value="multi_label">several per text (multi-label)</option>
        </select>
      </label>
      <button type="submit" disabled={create.busy} data-testid="task-create">
        Create
      </button>
      <ErrorBox error={create.error} testId="create-task-error" />
    </form>
  );
}

export function TasksPage() {
  const tasks = useApi(allTasks, []);
  const remove = useAction();
  return (
    <section>
      <h1>Tasks</h1>
      <p class="muted">
        A task is a classification problem: labelled examples, and heads trained on the frozen encoder's features. Open one to upload examples, train and
        predict.
      </p>
      <ErrorBox error={tasks.error ?? remove.error} />
      {tasks.data && tasks.data.length === 0 && <p data-testid="no-tasks">No tasks yet: create the first one below.</p>}
      {tasks.data && tasks.data.length > 0 && (
        <table data-testid="tasks-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Id</th>
              <th class="num">Examples</th>
              <th class="num">Active version</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tasks.data.map((t) => (
              <tr key={t.id} data-testid="task-row" data-task-id={t.id}>
                <td>
                  <a href={href.task(t.id)}>{t.name}</a>
                  {t.description && <div class="muted small">{t.description}</div>}
                </td>
                <td>
                  <code>{t.id}</code>
                </td>
                <td class="num">{t.example_count}</td>
                <td class="num">{t.active_version ?? '—'}</td>
                <td>{when(t.created_at)}</td>
                <td>
                  <ConfirmButton
                    label="Delete"
                    confirm={`Delete ${t.name} with its examples, jobs and versions?`}
                    testId="task-delete"
                    onConfirm={() =>
                      void remove.run(async () => {
                        await api.delete(`/v1/tasks/${seg(t.id)}`);
                        tasks.reload();
                      })
                    }
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <CreateTask />
    </section>
  );
}
