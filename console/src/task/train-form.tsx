/** Starts a training job: head, layer sweep, evaluation. The job's page follows it live. */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { Job, Task } from '../api/responses.js';
import { href } from '../route.js';
import { DEFAULT_FORM, type HeadChoice, type TrainingForm, trainingRequest } from '../training-request.js';
import { ErrorBox } from '../ui/error-box.js';
import { NumberInput } from '../ui/number-input.js';
import { useAction } from '../ui/use-action.js';

export function TrainForm({ taskId, taskPath, kind }: { taskId: string; taskPath: string; kind: Task['kind'] }) {
  // A multi-label task trains logistic regression or the MLP: the SVM and the forest are not offered.
  const [form, setForm] = useState<TrainingForm>(kind === 'multi_label' ? { ...DEFAULT_FORM, head: 'logistic_regression' } : DEFAULT_FORM);
  const start = useAction();
  const set = (patch: Partial<TrainingForm>) => setForm({ ...form, ...patch });

  return (
    <form
      class="card"
      data-testid="train-form"
      onSubmit={(e) => {
        e.preventDefault();
        void start.run(async () => {
          const job = await api.post<Job>(`${taskPath}/jobs`, trainingRequest(form));
          location.hash = href.job(taskId, job.id);
        });
      }}
    >
      <h2>Train</h2>
      <fieldset>
        <legend>Head</legend>
        <label>
          Type{' '}
          <select value={form.head} data-testid="train-head" onChange={(e) => set({ head: e.currentTarget.value as HeadChoice })}>
            {kind === 'single_label' && <option value="svm">SVM</option>}
            {kind === 'single_label' && <option value="random_forest">random forest</option>}
            <option value="logistic_regression">logistic regression</option>
            <option value="mlp">MLP</option>
            <option value="auto">auto (search the grids)</option>
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
        <legend>Learning curve</legend>
        <label>
          <input
            type="checkbox"
            checked={form.learningCurve}
            data-testid="train-learning-curve"
            onChange={(e) => set({ learningCurve: e.currentTarget.checked })}
          />{' '}
          also measure the head on 10, 25 and 50 % of the examples (what more labels would bring)
        </label>
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
              <NumberInput value={form.topConcat} min={0} max={8} testId="train-top-concat" onValue={(topConcat) => set({ topConcat })} /> layers (0: none)
            </label>
          </>
        )}
      </fieldset>
      <fieldset>
        <legend>Evaluation</legend>
        <label>
          <input type="radio" name="evaluation" checked={form.evaluation === 'cv'} onChange={() => set({ evaluation: 'cv' })} /> cross-validation,{' '}
          <NumberInput value={form.folds} min={2} max={20} testId="train-folds" onValue={(folds) => set({ evaluation: 'cv', folds })} /> folds
        </label>
        <label>
          <input
            type="radio"
            name="evaluation"
            checked={form.evaluation === 'holdout'}
            data-testid="train-holdout"
            onChange={() => set({ evaluation: 'holdout' })}
          />{' '}
          hold out <NumberInput value={form.holdoutPercent} min={1} max={99} onValue={(holdoutPercent) => set({ evaluation: 'holdout', holdoutPercent })} /> %
          of the examples
        </label>
      </fieldset>
      <label>
        <input type="checkbox" checked={form.activate} onChange={(e) => set({ activate: e.currentTarget.checked })} /> make the new version active when it
        succeeds
      </label>
      <div class="actions">
        <button type="submit" disabled={start.busy} data-testid="train-submit">
          Start training
        </button>
      </div>
      <ErrorBox error={start.error} testId="train-error" />
    </form>
  );
}
