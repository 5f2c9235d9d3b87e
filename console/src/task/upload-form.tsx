/** Uploads a CSV or JSON Lines file of examples, with the bytes sent as a progress bar. */
import { useState } from 'preact/hooks';
import { withQuery } from '../api/query.js';
import type { UploadResult } from '../api/responses.js';
import { type UploadPhase, uploadExamples, uploadMediaType } from '../api/upload.js';
import { ErrorBox } from '../ui/error-box.js';
import { ProgressBar } from '../ui/progress-bar.js';

type Conflict = 'error' | 'skip' | 'replace';

export function UploadForm({ taskPath, onUploaded }: { taskPath: string; onUploaded: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [onConflict, setOnConflict] = useState<Conflict>('error');
  const [progress, setProgress] = useState<{ fraction: number; phase: UploadPhase } | null>(null);
  const [result, setResult] = useState<UploadResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const busy = progress !== null && result === null && error === null;

  const upload = async () => {
    if (!file) return;
    const mediaType = uploadMediaType(file.name);
    setResult(null);
    setError(null);
    if (!mediaType) {
      setError(new Error(`"${file.name}": choose a .csv (with a text,label header), .jsonl or .json file`));
      return;
    }
    try {
      const { result } = await uploadExamples(withQuery(`${taskPath}/examples`, { on_conflict: onConflict }), file, mediaType, (fraction, phase) =>
        setProgress({ fraction, phase }),
      );
      setResult(result);
      onUploaded();
    } catch (err) {
      setError(err);
    }
  };

  const percent = Math.round((progress?.fraction ?? 0) * 100);
  return (
    <form
      class="card"
      data-testid="upload-form"
      onSubmit={(e) => {
        e.preventDefault();
        void upload();
      }}
    >
      <h2>Upload examples</h2>
      <p class="muted small">
        CSV with a <code>text,label</code> header, JSON Lines of <code>{'{"text": …, "label": …}'}</code>, or a JSON array of them (multi-label tasks:{' '}
        <code>text,labels</code> with <code>|</code> between labels, or <code>{'{"text": …, "labels": [...]}'}</code>). All or nothing: a bad record refuses the
        whole file, with its line.
      </p>
      <input
        type="file"
        accept=".csv,.jsonl,.ndjson,.json,text/csv,application/json"
        data-testid="upload-file"
        onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
      />
      <label>
        A text already present with another label:{' '}
        <select value={onConflict} onChange={(e) => setOnConflict(e.currentTarget.value as Conflict)}>
          <option value="error">refuse the upload</option>
          <option value="skip">keep the stored label</option>
          <option value="replace">take the new label</option>
        </select>
      </label>
      <button type="submit" disabled={!file || busy} data-testid="upload-submit">
        Upload
      </button>
      {progress && (
        <ProgressBar
          testId="upload-progress"
          percent={percent}
          state={error ? 'failed' : result ? 'succeeded' : progress.phase}
          label={error ? 'failed' : result ? 'done' : progress.phase === 'sending' ? `sending ${percent} %` : 'sent; the service is storing the examples…'}
        />
      )}
      {result && (
        <p data-testid="upload-result" data-inserted={result.inserted}>
          {result.received} received ({result.format}): {result.inserted} added, {result.duplicates} already there
          {result.merged ? `, ${result.merged} merged into a repeated text's labels` : ''}
          {result.skipped ? `, ${result.skipped} skipped` : ''}
          {result.relabelled ? `, ${result.relabelled} relabelled` : ''}. The task has {result.example_count} examples.
        </p>
      )}
      <ErrorBox error={error} testId="upload-error" />
    </form>
  );
}
