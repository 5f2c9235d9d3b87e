/**
 * The examples behind one confusion-matrix cell: out-of-fold predictions
 * (each example predicted by a head that never saw it) of a true label
 * predicted as another, from the version's evaluation endpoint.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { EvaluationPage, EvaluationRow } from '../api/responses.js';
import { ErrorBox } from '../ui/error-box.js';
import { notStored } from './not-stored.js';

const PAGE = 50;

export interface CellChoice {
  actual: string;
  predicted: string;
  count: number;
}

/** Keyed by its cell in the page: a new cell starts a new list. */
export function MisclassifiedList({ versionPath, cell }: { versionPath: string; cell: CellChoice }) {
  const [rows, setRows] = useState<EvaluationRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);

  const load = async (after: string | undefined, signal?: AbortSignal) => {
    setError(null);
    try {
      const page = await api.get<EvaluationPage>(
        `${versionPath}/evaluation`,
        { true_label: cell.actual, predicted_label: cell.predicted, limit: PAGE, after },
        signal,
      );
      setRows((before) => [...before, ...page.data]);
      setNext(page.next_after);
      setLoaded(true);
    } catch (err) {
      if (!signal?.aborted) setError(err);
    }
  };
  // The first page, once: the page mounts a new list for another cell.
  useEffect(() => {
    const abort = new AbortController();
    void load(undefined, abort.signal);
    return () => abort.abort();
  }, []);

  const correct = cell.actual === cell.predicted;
  return (
    <div class="card" data-testid="misclassified" data-true={cell.actual} data-predicted={cell.predicted}>
      <h3>
        {correct ? (
          <>
            Correctly labelled <b>{cell.actual}</b>
          </>
        ) : (
          <>
            True <b>{cell.actual}</b>, predicted <b>{cell.predicted}</b>
          </>
        )}{' '}
        <span class="muted">({cell.count} examples, each predicted by a head trained without it)</span>
      </h3>
      {notStored(error) ? (
        <p class="muted" data-testid="evaluation-not-stored">
          This version was trained before the service kept its out-of-fold predictions: train again to list the examples behind a cell.
        </p>
      ) : (
        <ErrorBox error={error} testId="misclassified-error" />
      )}
      {loaded && rows.length === 0 && <p class="muted">No examples in this cell.</p>}
      {rows.length > 0 && (
        <ol class="examples-list" data-testid="misclassified-items">
          {rows.map((r) => (
            <li
              key={r.example_id}
              data-testid="misclassified-item"
              data-label={'label' in r ? r.label : r.labels.join(', ')}
              data-predicted={'predicted' in r ? r.predicted : r.predicted_labels.join(', ')}
            >
              {r.text ?? <i class="muted">deleted since</i>} <span class="muted small">#{r.example_id}</span>
            </li>
          ))}
        </ol>
      )}
      {next && (
        <button type="button" data-testid="misclassified-more" onClick={() => void load(next)}>
          More
        </button>
      )}
    </div>
  );
}
