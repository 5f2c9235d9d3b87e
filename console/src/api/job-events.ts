/**
 * Follows a training job through GET …/jobs/:job/events. Read with fetch()
 * rather than EventSource, which cannot send the Authorization header keys
 * need. The stream sends the job at once and on every change, then `end`
 * once it finished (or `error` if the job went with its task); a stream that
 * drops before either is opened again, after the delay the server asks for.
 */
import { apiFetch } from './client.js';
import { ApiError, apiErrorOf } from './errors.js';
import { seg } from './query.js';
import { SseParser } from './sse.js';
import type { Job, JobState } from './responses.js';

/** The states a job ends in. */
export const FINISHED: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

export interface JobWatch {
  onJob(job: Job): void;
  /** Whether the stream is open (true) or being reopened (false). */
  onConnection(live: boolean): void;
  /** A failure that reopening will not cure (404, 403): the watch stops. */
  onError(err: ApiError): void;
}

const RETRY_MS = 1000;
const MAX_RETRY_MS = 10_000;

/** Starts watching; answers the function that stops it. */
export function watchJob(taskId: string, jobId: string, watch: JobWatch): () => void {
  const abort = new AbortController();
  void follow(`/v1/tasks/${seg(taskId)}/jobs/${seg(jobId)}/events`, watch, abort.signal);
  return () => abort.abort();
}

async function follow(path: string, watch: JobWatch, signal: AbortSignal): Promise<void> {
  let delay = RETRY_MS;
  while (!signal.aborted) {
    const parser = new SseParser();
    try {
      const res = await apiFetch(path, { headers: { Accept: 'text/event-stream' }, signal, cache: 'no-store' });
      if (!res.body) throw new ApiError(0, 'no_stream', 'the browser gave no response stream');
      watch.onConnection(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const e of parser.push(value)) {
          if (e.event === 'end') return;
          // The job went with its task: the stream says so in the API's error shape, and ends.
          if (e.event === 'error') {
            watch.onError(apiErrorOf(404, 'Not Found', e.data));
            return;
          }
          if (e.event === 'job') {
            watch.onJob(JSON.parse(e.data) as Job);
            delay = RETRY_MS;
          }
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      // A 4xx other than rate limiting will answer the same again.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429 && err.status !== 408) {
        watch.onError(err);
        return;
      }
    }
    if (signal.aborted) return;
    watch.onConnection(false);
    await new Promise((ok) => setTimeout(ok, parser.retryMs ?? delay));
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  }
}
