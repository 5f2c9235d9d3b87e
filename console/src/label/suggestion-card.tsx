/** The text to label: the head's guess, every label's probability as a bar, and a button (with its key) per label. */
import type { Suggestion } from '../api/responses.js';
import { pct } from '../format.js';
import { SKIP_KEYS, UNDO_KEYS } from '../label-keys.js';
import { predictedName, rankedProbabilities } from '../predict-data.js';

const keyName = (k: string) => (k === ' ' ? 'Space' : k);

export function SuggestionCard({
  item,
  version,
  labels,
  keys,
  multi,
  chosen,
  busy,
  canUndo,
  onLabel,
  onSubmit,
  onSkip,
  onUndo,
}: {
  item: Suggestion;
  /** The version that guessed (0: zero-shot from the label descriptions). */
  version: number;
  labels: string[];
  keys: ReadonlyMap<string, string>;
  multi: boolean;
  /** A multi-label choice so far. */
  chosen: ReadonlySet<string>;
  busy: boolean;
  canUndo: boolean;
  onLabel: (label: string) => void;
  onSubmit: () => void;
  onSkip: () => void;
  onUndo: () => void;
}) {
  const guess = predictedName(item.prediction);
  const p = item.prediction;
  return (
    <div class="card" data-testid="label-item" data-pool-id={item.pool_id} data-version={version} data-busy={String(busy)}>
      <p class="label-text" data-testid="label-text">
        {item.text}
      </p>
      <p class="muted small">
        {version === 0 ? 'Zero-shot (version 0, from the label descriptions)' : `Version ${version}`} guesses{' '}
        <strong class="predicted" data-testid="label-guess">
          {guess}
        </strong>
        {'score' in p && ` (${pct(p.score)})`} · uncertainty {item.uncertainty.toFixed(2)}
      </p>
      <table class="compact" data-testid="label-probabilities">
        <tbody>
          {rankedProbabilities(p.probabilities).map((r) => (
            <tr key={r.label} data-testid="label-probability" data-label={r.label} data-probability={r.probability}>
              <td>{r.label}</td>
              <td class="num">{pct(r.probability)}</td>
              <td class="bar-cell">
                <div class="hbar" style={{ width: `${r.probability * 100}%` }} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="label-buttons">
        {labels.map((label) => {
          const key = keys.get(label);
          const on = multi ? chosen.has(label) : label === guess;
          return (
            <button
              key={label}
              type="button"
              class={on ? 'label-button guessed' : 'label-button'}
              aria-pressed={multi ? chosen.has(label) : undefined}
              disabled={busy}
              data-testid="label-button"
              data-label={label}
              data-key={key ?? ''}
              onClick={(e) => {
                // Focus left on a button would take the page's Space and Enter.
                e.currentTarget.blur();
                onLabel(label);
              }}
            >
              {key !== undefined && <kbd>{key}</kbd>} {label}
            </button>
          );
        })}
      </div>
      <div class="actions">
        {multi && (
          <button
            type="button"
            disabled={busy || chosen.size === 0}
            data-testid="label-submit"
            onClick={(e) => {
              e.currentTarget.blur();
              onSubmit();
            }}
          >
            <kbd>Enter</kbd> {chosen.size ? `Label with ${[...chosen].join(', ')}` : 'Choose its labels'}
          </button>
        )}{' '}
        <button
          type="button"
          disabled={busy}
          data-testid="label-skip"
          onClick={(e) => {
            e.currentTarget.blur();
            onSkip();
          }}
        >
          <kbd>{SKIP_KEYS.map(keyName).join(' / ')}</kbd> Skip
        </button>{' '}
        <button
          type="button"
          disabled={busy || !canUndo}
          data-testid="label-undo"
          onClick={(e) => {
            e.currentTarget.blur();
            onUndo();
          }}
        >
          <kbd>{UNDO_KEYS.map(keyName).join(' / ')}</kbd> Undo
        </button>
      </div>
    </div>
  );
}
