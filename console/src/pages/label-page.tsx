/**
 * Labelling: the pool's texts in the order the service suggests them, one at
 * a time with the head's guess; a click or a key labels it, skips it or
 * undoes the last labelling. Beside it, the session's progress, the task's
 * retrain_after and its latest job, and a box to add texts to the pool.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import { pooledId } from '../api/pool.js';
import { seg } from '../api/query.js';
import type { Example, Suggestion, Suggestions, Task } from '../api/responses.js';
import { type KeyAction, keyAction, labelKeys, ownsKey } from '../label-keys.js';
import { buttonLabels, extendOrder, refilled, suggestionCount } from '../label-session.js';
import { RetrainPanel } from '../label/retrain-panel.js';
import { SuggestionCard } from '../label/suggestion-card.js';
import { href } from '../route.js';
import { PoolForm } from '../task/pool-form.js';
import { ErrorBox, Pending } from '../ui/error-box.js';

/** Suggestions asked for at a time. */
const BATCH = 10;
/** Ask for more once this few are left behind the shown one, so the next text is there when a person gets to it. */
const REFILL_AT = 2;
/** top_k beyond any task's labels: every label's probability. */
const EVERY_LABEL = Number.MAX_SAFE_INTEGER;

/** The session, kept in one mutable place so that requests finishing out of order read and change its latest state. */
interface Session {
  /** The shown text first. */
  queue: Suggestion[];
  /** Pool ids labelled or skipped in this session: not shown again. */
  passed: Set<number>;
  skipped: Set<number>;
  /** Labellings to undo, last one last. */
  history: Array<{ item: Suggestion; example: Example }>;
  /** The version the queue's guesses came from (0: zero-shot). */
  headVersion: number | null;
  headLabels: string[];
  /** The buttons' labels in the order they got their keys. */
  order: string[];
  chosen: Set<string>;
  fetching: boolean;
  /** A refill was asked for while one ran. */
  again: boolean;
  /** The last refill saw the whole pool: asking again brings nothing new until something changes. */
  exhausted: boolean;
  busy: boolean;
  suggestError: unknown;
  actionError: unknown;
}

const newSession = (): Session => ({
  queue: [],
  passed: new Set(),
  skipped: new Set(),
  history: [],
  headVersion: null,
  headLabels: [],
  order: [],
  chosen: new Set(),
  fetching: false,
  again: false,
  exhausted: false,
  busy: false,
  suggestError: null,
  actionError: null,
});

export function LabelPage({ taskId }: { taskId: string }) {
  const taskPath = `/v1/tasks/${seg(taskId)}`;
  const s = useRef<Session>(newSession()).current;
  const [, setRenders] = useState(0);
  const update = () => setRenders((n) => n + 1);
  const [task, setTaskState] = useState<Task | null>(null);
  const taskRef = useRef<Task | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  // Bumped when a job may have been queued: the retrain panel looks for the task's latest job again.
  const [jobsGeneration, setJobsGeneration] = useState(0);

  /** Takes the task as the service has it now; a count of new labels that started afresh means a job was queued. */
  const setTask = (t: Task) => {
    const before = taskRef.current;
    taskRef.current = t;
    setTaskState(t);
    if (before && t.new_examples < before.new_examples) setJobsGeneration((g) => g + 1);
  };
  const loadTask = async () => {
    const t = await api.get<Task>(taskPath);
    setTask(t);
    return t;
  };

  const refill = async (): Promise<void> => {
    if (s.fetching) {
      s.again = true;
      return;
    }
    s.fetching = true;
    update();
    try {
      const t = await loadTask();
      const shown = s.queue[0];
      const k = suggestionCount(BATCH, s.skipped.size + (shown ? 1 : 0), t.pool_count);
      if (k > 0) {
        const answer = await api.post<Suggestions>(`${taskPath}/suggestions`, { k, top_k: EVERY_LABEL });
        s.headVersion = answer.version;
        s.headLabels = [...new Set(answer.data.flatMap((d) => Object.keys(d.prediction.probabilities)))];
        s.queue = refilled(s.queue[0], answer.data, s.passed);
      } else s.queue = s.queue.slice(0, 1);
      s.exhausted = k >= t.pool_count;
      s.suggestError = null;
    } catch (err) {
      s.suggestError = err;
    } finally {
      s.fetching = false;
      update();
    }
    if (s.again) {
      s.again = false;
      await refill();
    }
  };

  const refillIfShort = () => {
    if (s.queue.length <= REFILL_AT && !s.exhausted) void refill();
  };

  /** After a change to the pool or the examples: the counts, and new suggestions when the head changed or the queue runs short. */
  const afterChange = async () => {
    try {
      const t = await loadTask();
      if (s.headVersion !== null && (t.active_version ?? 0) !== s.headVersion) {
        s.exhausted = false;
        void refill();
        return;
      }
    } catch (err) {
      s.actionError = err;
      update();
    }
    refillIfShort();
  };

  const act = async (change: () => Promise<void>) => {
    if (s.busy) return;
    s.busy = true;
    s.actionError = null;
    update();
    try {
      await change();
    } catch (err) {
      s.actionError = err;
    } finally {
      s.busy = false;
      update();
    }
    await afterChange();
  };

  const label = (labels: string[]) =>
    act(async () => {
      const item = s.queue[0];
      if (!item || item.pool_id === undefined || labels.length === 0) return;
      const multi = taskRef.current?.kind === 'multi_label';
      try {
        const example = await api.post<Example>(`${taskPath}/pool/${item.pool_id}/label`, multi ? { labels } : { label: labels[0] });
        s.history.push({ item, example });
      } catch (err) {
        // Labelled or deleted elsewhere meanwhile: say so, and go on to the next text.
        if (!(err instanceof ApiError && err.code === 'pool_text_not_found')) throw err;
        s.actionError = err;
      }
      s.passed.add(item.pool_id);
      s.queue = s.queue.filter((q) => q !== item);
      s.chosen = new Set();
    });

  const undo = () =>
    act(async () => {
      const last = s.history.at(-1);
      if (!last) return;
      await api.delete(`${taskPath}/examples/${seg(last.example.id)}`);
      s.history.pop();
      await api.post(`${taskPath}/pool`, { input: [last.item.text] });
      const id = await pooledId(taskPath, last.item.text, last.item.pool_id ?? 0);
      s.queue = [{ ...last.item, pool_id: id }, ...s.queue];
      s.chosen = new Set();
    });

  const skip = () => {
    const item = s.queue[0];
    if (!item || item.pool_id === undefined || s.busy) return;
    s.passed.add(item.pool_id);
    s.skipped.add(item.pool_id);
    s.queue = s.queue.slice(1);
    s.chosen = new Set();
    update();
    refillIfShort();
  };

  const showSkipped = () => {
    for (const id of s.skipped) s.passed.delete(id);
    s.skipped.clear();
    s.exhausted = false;
    void refill();
  };

  const toggle = (l: string) => {
    s.chosen = new Set(s.chosen);
    if (!s.chosen.delete(l)) s.chosen.add(l);
    update();
  };

  const onLabel = (l: string) => (taskRef.current?.kind === 'multi_label' ? toggle(l) : void label([l]));
  const onSubmit = () => void label([...s.chosen]);

  // The page's keys; a ref, so the one listener always acts on this render's state.
  const keys = labelKeys(s.order);
  const onKey = useRef<(a: KeyAction) => void>(() => undefined);
  onKey.current = (a) => {
    if (a.kind === 'label') onLabel(a.label);
    else if (a.kind === 'skip') skip();
    else if (a.kind === 'undo') void undo();
    else if (taskRef.current?.kind === 'multi_label') onSubmit();
  };
  const keysRef = useRef(keys);
  keysRef.current = keys;
  useEffect(() => {
    const listener = (e: KeyboardEvent) => {
      // Typing in a field (the pool's texts, the retrain setting, the key dialog) is typing, not labelling.
      if (e.repeat || e.defaultPrevented || ownsKey(e.target as HTMLElement | null, e.key)) return;
      const action = keyAction(e, keysRef.current);
      if (!action) return;
      e.preventDefault();
      onKey.current(action);
    };
    addEventListener('keydown', listener);
    return () => removeEventListener('keydown', listener);
  }, []);

  useEffect(() => {
    loadTask().then(
      () => void refill(),
      (err: unknown) => setLoadError(err),
    );
  }, [taskPath]);

  if (!task) return <Pending error={loadError} />;
  s.order = extendOrder(s.order, buttonLabels(task, s.headLabels));
  const item = s.queue[0];
  const multi = task.kind === 'multi_label';
  const noHead = s.suggestError instanceof ApiError && s.suggestError.code === 'no_active_version';
  return (
    <section data-testid="label-page" data-task-id={task.id}>
      <p class="crumbs">
        <a href={href.tasks()}>Tasks</a> › <a href={href.task(task.id)}>{task.name}</a> ›
      </p>
      <h1>Label {task.name}</h1>
      <p data-testid="label-progress" data-session={s.history.length} data-pool={task.pool_count} data-new={task.new_examples}>
        Labelled this session: <strong>{s.history.length}</strong> · texts left in the pool: <strong>{task.pool_count}</strong> · new labels since the last
        training job: <strong>{task.new_examples}</strong>
        {task.retrain_after !== null && ` of ${task.retrain_after}`}
      </p>
      <ErrorBox error={s.actionError} testId="label-error" />
      {item ? (
        <SuggestionCard
          item={item}
          version={s.headVersion ?? 0}
          labels={s.order}
          keys={keys}
          multi={multi}
          chosen={s.chosen}
          busy={s.busy}
          canUndo={s.history.length > 0}
          onLabel={onLabel}
          onSubmit={onSubmit}
          onSkip={skip}
          onUndo={() => void undo()}
        />
      ) : (
        <div class="card" data-testid="label-empty">
          {s.fetching ? (
            <p class="muted" data-testid="label-loading">
              Choosing texts to label…
            </p>
          ) : noHead ? (
            <p data-testid="label-no-head">
              This task has no head to suggest with yet: describe its labels (zero-shot) or train a version on <a href={href.task(task.id)}>the task's page</a>.
            </p>
          ) : s.suggestError ? (
            <ErrorBox error={s.suggestError} testId="suggest-error" />
          ) : task.pool_count === 0 ? (
            <p data-testid="pool-empty">The pool is empty: add texts to label below (one a line), or through the API (POST …/pool).</p>
          ) : s.skipped.size > 0 ? (
            <p data-testid="only-skipped">
              Nothing left but the {s.skipped.size} texts you skipped.{' '}
              <button type="button" data-testid="show-skipped" onClick={showSkipped}>
                Show them again
              </button>
            </p>
          ) : (
            <p class="muted">Nothing to suggest.</p>
          )}
          {s.history.length > 0 && (
            <button type="button" disabled={s.busy} data-testid="label-undo" onClick={() => void undo()}>
              Undo the last labelling
            </button>
          )}
        </div>
      )}
      <div class="two-columns">
        <RetrainPanel
          task={task}
          taskPath={taskPath}
          generation={jobsGeneration}
          onTaskChanged={(t) => {
            setTask(t);
            setJobsGeneration((g) => g + 1);
          }}
          onJobEnded={() => void afterChange()}
        />
        <PoolForm
          taskPath={taskPath}
          onAdded={() => {
            s.exhausted = false;
            void afterChange();
          }}
        />
      </div>
    </section>
  );
}
