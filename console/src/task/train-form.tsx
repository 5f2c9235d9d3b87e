/** Starts a training job: head, layer sweep, evaluation. The job's page follows it live. */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { Job } from '../api/types.js';
import { href } from '../route.js';
import { DEFAULT_FORM, type HeadChoice, type TrainingForm, trainingRequest } from '../training-request.js';
import { ErrorBox } from '../ui/error-box.js';

export function TrainForm({ taskId, taskPath }: { taskId: string; taskPath: string }) {
  const [form, setForm] = useState<TrainingForm>(DEFAULT_FORM);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<TrainingForm>) => setForm({ ...form, ...patch });

  return (
    <form
      class="card"
      data-testid="train-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        setBusy(true);
        try {
          const job = await api.post<Job>(`${taskPath}/jobs`, trainingRequest(form));
          location.hash = href.job(taskId, job.id);
        } catch (err) {
          setError(err);
          setBusy(false);
        }
      }}
    >
      <h2>Train</h2>
      <fieldset>
        <legend>Head</legend>
        <label>
          Type{' '}
          <select value={form.head} data-testid="train-head" onChange={(e) => set({ head: e.currentTarget.value as HeadChoice })}>
            <option value="svm">SVM</option>
            <option value="random_forest">random forest</option>
            <option value="auto">auto (search both grids)</option>
          </select>
        </label>
        {form.head !== 'auto' && (
          <label>
            <input type="checkbox" checked={form.search} data-testid="train-search" onChange={(e) => set({ search: e.currentTarget.checked })} /> search its
            parameter grid (slower)
          </label>
        )}
      </fieldset>
      <fieldset>
        <legend>Layer sweep</legend>
        <label>
          <input type="checkbox" checked={form.layerSweep} data-testid="train-sweep" onChange={(e) => set({ layerSweep: e.currentTarget.checked })} /> measure
          every candidate layer and train on the best
        </label>
        {form.layerSweep && (
          <>
            <label>
              Layers{' '}
              <input
                placeholder="every hidden state"
                value={form.sweepLayers}
                data-testid="train-sweep-layers"
                onInput={(e) => set({ sweepLayers: e.currentTarget.value })}
              />
            </label>
            <label>
              and the concatenation of the top{' '}
              <input
                type="number"
                min={0}
                max={8}
                class="narrow"
                value={form.topConcat}
                data-testid="train-top-concat"
                onInput={(e) => set({ topConcat: e.currentTarget.valueAsNumber })}
              />{' '}
              layers (0: none)
            </label>
          </>
        )}
      </fieldset>
      <fieldset>
        <legend>Evaluation</legend>
        <label>
          <input type="radio" name="evaluation" checked={form.evaluation === 'cv'} onChange={() => set({ evaluation: 'cv' })} /> cross-validation,{' '}
          <input
            type="number"
            min={2}
            max={20}
            class="narrow"
            value={form.folds}
            data-testid="train-folds"
            onInput={(e) => set({ evaluation: 'cv', folds: e.currentTarget.valueAsNumber })}
          />{' '}
          folds
        </label>
        <label>
          <input
            type="radio"
            name="evaluation"
            checked={form.evaluation === 'holdout'}
            data-testid="train-holdout"
            onChange={() => set({ evaluation: 'holdout' })}
          />{' '}
          hold out{' '}
          <input
            type="number"
            min={1}
            max={99}
            class="narrow"
            value={form.holdoutPercent}
            onInput={(e) => set({ evaluation: 'holdout', holdoutPercent: e.currentTarget.valueAsNumber })}
          />{' '}
          % of the examples
        </label>
      </fieldset>
      <label>
        <input type="checkbox" checked={form.activate} onChange={(e) => set({ activate: e.currentTarget.checked })} /> make the new version active when it
        succeeds
      </label>
      <div class="actions">
        <button type="submit" disabled={busy} data-testid="train-submit">
          Start training
        </button>
      </div>
      <ErrorBox error={error} testId="train-error" />
    </form>
  );
}
