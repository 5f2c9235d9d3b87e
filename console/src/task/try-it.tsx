/**
 * Try a text: every label's probability under the task's active version, and
 * whether the task's other versions and the client's other tasks' heads
 * give it the same label (one POST /v1/predict over all of them).
 */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { allTasks } from '../api/tasks.js';
import type { MultiPredictions, Task, TaskPredictions, VersionSummary } from '../api/responses.js';
import { pct } from '../format.js';
import { type AgreementRow, agreementRows, predictedName, rankedProbabilities } from '../predict-data.js';
import { ErrorBox } from '../ui/error-box.js';
import { useAction } from '../ui/use-action.js';

/** POST /v1/predict takes at most this many tasks. */
const MAX_TARGETS = 100;

interface Outcome {
  single: TaskPredictions;
  agreement: AgreementRow[] | null;
  names: Map<string, string>;
}

async function otherHeads(task: Task, versions: VersionSummary[], text: string, reference: string) {
  const others = (await allTasks()).filter((t) => t.id !== task.id && t.active_version !== null);
  const targets = [...versions.map((v) => ({ task: task.id, version: v.version })), ...others.map((t) => t.id)].slice(0, MAX_TARGETS);
  const multi = await api.post<MultiPredictions>('/v1/predict', { input: text, tasks: targets });
  return { rows: agreementRows(multi, reference), names: new Map([task, ...others].map((t) => [t.id, t.name])) };
}

export function TryIt({ task, taskPath, versions }: { task: Task; taskPath: string; versions: VersionSummary[] }) {
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const predict = useAction();
  // Asked after the task's own prediction, and failing on its own: the prediction stays shown.
  const compare = useAction();

  const run = () =>
    predict.run(async () => {
      const single = await api.post<TaskPredictions>(`${taskPath}/predict`, { input: text });
      setOutcome({ single, agreement: null, names: new Map() });
      await compare.run(async () => {
        const { rows, names } = await otherHeads(task, versions, text, predictedName(single.data[0]));
        setOutcome({ single, agreement: rows, names });
      });
    });

  const prediction = outcome?.single.data[0];
  return (
    <form
      class="card"
      data-testid="try-it"
      onSubmit={(e) => {
        e.preventDefault();
        void run();
      }}
    >
      <h2>Try it</h2>
      {task.active_version === null && <p class="muted">The task has no active version yet: train one first.</p>}
      <textarea rows={2} placeholder="Type a text to label" data-testid="try-text" value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <div class="actions">
        <button type="submit" disabled={predict.busy || compare.busy || !text.trim()} data-testid="try-submit">
          Predict
        </button>
      </div>
      <ErrorBox error={predict.error} testId="try-error" />
      {outcome && prediction && (
        <div class="two-columns">
          <div>
            <p>
              Version {outcome.single.version} says{' '}
              <strong class="predicted" data-testid="try-label">
                {predictedName(prediction)}
              </strong>
              {'score' in prediction && ` (${pct(prediction.score)})`}.
            </p>
            <table class="compact" data-testid="try-probabilities">
              <thead>
                <tr>
                  <th>Label</th>
                  <th class="num">Probability</th>
                  <th class="bar-cell" />
                </tr>
              </thead>
              <tbody>
                {rankedProbabilities(prediction.probabilities).map((p) => (
                  <tr key={p.label} data-testid="try-probability" data-label={p.label} data-probability={p.probability}>
                    <td>{p.label}</td>
                    <td class="num">{pct(p.probability)}</td>
                    <td class="bar-cell">
                      <div class="hbar" style={{ width: `${p.probability * 100}%` }} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div>
            <p>Every version of this task, and the other tasks' active heads:</p>
            <ErrorBox error={compare.error} testId="agreement-error" />
            {outcome.agreement && (
              <table class="compact" data-testid="agreement">
                <thead>
                  <tr>
                    <th>Head</th>
                    <th>Label</th>
                    <th class="num">Score</th>
                    <th>Agrees</th>
                  </tr>
                </thead>
                <tbody>
                  {outcome.agreement.map((r) => (
                    <tr key={`${r.task}/${r.version}`} data-testid="agreement-row" data-agrees={String(r.agrees)}>
                      <td>
                        {outcome.names.get(r.task) ?? r.task}, version {r.version}
                      </td>
                      <td>{r.label}</td>
                      <td class="num">{pct(r.score)}</td>
                      <td class={r.agrees ? 'agrees' : 'disagrees'}>{r.agrees ? '✓ same label' : '✗ another label'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </div>
      )}
    </form>
  );
}
