/**
 * Starts a training job: head, layer sweep, evaluation. The head types, their
 * parameters and auto's candidates come from GET /v1/heads, so a head type
 * added to the service appears here as it is. The job's page follows it live.
 */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { HeadList, HeadType, Job, Task } from '../api/responses.js';
import { type ParamEntry, paramInput } from '../head-params.js';
import { href } from '../route.js';
import { defaultForm, FINE_TUNE, fineTunes, headsFor, type TrainingForm, trainingRequest, withHead } from '../training-request.js';
import { ErrorBox, Pending } from '../ui/error-box.js';
import { NumberInput } from '../ui/number-input.js';
import { useAction } from '../ui/use-action.js';
import { useApi } from '../ui/use-api.js';

/** `random_forest` → "random forest". */
const headName = (type: string) => type.replace(/_/g, ' ');

export function TrainForm({ taskId, taskPath, kind }: { taskId: string; taskPath: string; kind: Task['kind'] }) {
  const heads = useApi((signal) => api.get<HeadList>('/v1/heads', undefined, signal), []);
  if (!heads.data)
    return (
      <div class="card">
        <h2>Train</h2>
        <Pending error={heads.error} />
      </div>
    );
  return <TrainFields taskId={taskId} taskPath={taskPath} kind={kind} heads={headsFor(heads.data.data, kind)} />;
}

function TrainFields({ taskId, taskPath, kind, heads }: { taskId: string; taskPath: string; kind: Task['kind']; heads: HeadType[] }) {
  const [form, setForm] = useState<TrainingForm>(() => defaultForm(heads, kind));
  const start = useAction();
  const set = (patch: Partial<TrainingForm>) => setForm({ ...form, ...patch });
  const chosen = heads.find((h) => h.type === form.head);
  // Fine-tuning has no grid to search and no frozen features to sweep or subsample; it and auto with it are scored on a hold-out.
  const tuned = form.head === FINE_TUNE;
  const tunes = fineTunes(form);

  return (
    <form
      class="card"
      data-testid="train-form"
      onSubmit={(e) => {
        e.preventDefault();
        void start.run(async () => {
          const job = await api.post<Job>(`${taskPath}/jobs`, trainingRequest(form, heads));
          location.hash = href.job(taskId, job.id);
        });
      }}
    >
      <h2>Train</h2>
      <fieldset>
        <legend>Head</legend>
        <label>
          Type{' '}
          <select value={form.head} data-testid="train-head" onChange={(e) => setForm(withHead(form, heads, e.currentTarget.value))}>
            {heads.map((h) => (
              <option key={h.type} value={h.type} title={h.description}>
                {headName(h.type)}
              </option>
            ))}
            <option value="auto">auto (search the grids)</option>
          </select>
        </label>
        {chosen && !tuned && (
          <label title={chosen.search}>
            <input type="checkbox" checked={form.search} data-testid="train-search" onChange={(e) => set({ search: e.currentTarget.checked })} /> search its
            parameter grid (slower)
          </label>
        )}
        {chosen && (
          <p class="muted small" data-testid="train-head-description">
            {chosen.description}
          </p>
        )}
        {chosen && (!form.search || tuned) && (
          <HeadParams head={chosen} entries={form.params} onEntry={(name, entry) => set({ params: { ...form.params, [name]: entry } })} />
        )}
        {form.head === 'auto' && (
          <p data-testid="train-candidates">
            Search the grids of{' '}
            {heads.map((h) => (
              <label key={h.type} title={h.search}>
                <input
                  type="checkbox"
                  checked={form.candidates.includes(h.type)}
                  data-testid={`train-candidate-${h.type}`}
                  onChange={(e) => {
                    const on = e.currentTarget.checked;
                    // In the service's order, whatever order they were ticked in.
                    set({ candidates: heads.map((x) => x.type).filter((t) => (t === h.type ? on : form.candidates.includes(t))) });
                  }}
                />{' '}
                {headName(h.type)}
              </label>
            ))}
          </p>
        )}
      </fieldset>
      {!tuned && (
        <>
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
              <input type="checkbox" checked={form.layerSweep} data-testid="train-sweep" onChange={(e) => set({ layerSweep: e.currentTarget.checked })} />{' '}
              measure every candidate layer and train on the best
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
        </>
      )}
      <fieldset>
        <legend>Evaluation</legend>
        {tunes ? (
          <p class="muted small" data-testid="train-holdout-note">
            Fine-tuning is evaluated on a hold-out: cross-validating it would fine-tune the encoder once a fold.
          </p>
        ) : (
          <label>
            <input type="radio" name="evaluation" checked={form.evaluation === 'cv'} data-testid="train-cv" onChange={() => set({ evaluation: 'cv' })} />{' '}
            cross-validation, <NumberInput value={form.folds} min={2} max={20} testId="train-folds" onValue={(folds) => set({ evaluation: 'cv', folds })} />{' '}
            folds
          </label>
        )}
        <label>
          <input
            type="radio"
            name="evaluation"
            checked={tunes || form.evaluation === 'holdout'}
            data-testid="train-holdout"
            onChange={() => set({ evaluation: 'holdout' })}
          />{' '}
          hold out <NumberInput value={form.holdoutPercent} min={1} max={99} onValue={(holdoutPercent) => set({ evaluation: 'holdout', holdoutPercent })} /> %
          of the examples
        </label>
      </fieldset>
      <label>
        make the new version active{' '}
        <select value={form.activate} data-testid="train-activate" onChange={(e) => set({ activate: e.currentTarget.value as TrainingForm['activate'] })}>
          <option value="if_better">if it beats the active one on the same examples</option>
          <option value="always">always</option>
          <option value="never">never</option>
        </select>
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

/** What an input without a default shows while empty: the service chooses (its description says how). */
const UNSET = "service's choice";

/** One input per parameter of the head type's JSON Schema, its description on hover. */
function HeadParams({ head, entries, onEntry }: { head: HeadType; entries: Record<string, ParamEntry>; onEntry: (name: string, entry: ParamEntry) => void }) {
  return (
    <div class="params" data-testid="train-params" data-head={head.type}>
      {Object.entries(head.params.properties).map(([name, schema]) => {
        const input = paramInput(schema);
        const entry = entries[name] ?? '';
        // One training form on a page: the id is unique.
        const id = `train-param-${name}`;
        const onText = (e: { currentTarget: { value: string } }) => onEntry(name, e.currentTarget.value);
        return (
          <label key={name} title={schema.description} htmlFor={id}>
            {input.kind === 'toggle' ? (
              <>
                <input type="checkbox" id={id} checked={entry === true} data-testid={id} onChange={(e) => onEntry(name, e.currentTarget.checked)} /> {name}
              </>
            ) : (
              <>
                {name}{' '}
                {input.kind === 'choice' ? (
                  <select id={id} value={String(entry)} data-testid={id} onChange={onText}>
                    {head.defaults[name] === undefined && <option value="">{UNSET}</option>}
                    {input.options.map((o) => (
                      <option key={o} value={o}>
                        {o}
                      </option>
                    ))}
                  </select>
                ) : input.kind === 'number' ? (
                  <input
                    type="number"
                    id={id}
                    class="param"
                    step={input.integer ? 1 : 'any'}
                    min={input.min}
                    max={input.max}
                    value={String(entry)}
                    placeholder={head.defaults[name] === undefined ? UNSET : undefined}
                    data-testid={id}
                    onInput={onText}
                  />
                ) : (
                  <input id={id} class="param" value={String(entry)} data-testid={id} onInput={onText} />
                )}
              </>
            )}
          </label>
        );
      })}
    </div>
  );
}
