/**
 * Uploads an examples file with XMLHttpRequest: fetch() reports no upload
 * progress, and a large CSV can take a while to send.
 */
import { withKey } from './client.js';
import { apiErrorOf, networkError } from './errors.js';
import type { UploadResult } from './responses.js';

/** The media type the examples route expects for a file name; undefined for one it does not take. */
export function uploadMediaType(fileName: string): string | undefined {
  const ext = fileName.toLowerCase().split('.').pop();
  if (ext === 'csv') return 'text/csv';
  if (ext === 'jsonl' || ext === 'ndjson') return 'application/x-ndjson';
  if (ext === 'json') return 'application/json';
  return undefined;
}

export type UploadPhase = 'sending' | 'processing';

export function uploadExamples(
  url: string,
  file: Blob,
  mediaType: string,
  onProgress: (fraction: number, phase: UploadPhase) => void,
): Promise<{ status: number; result: UploadResult }> {
  return withKey(
    (auth) =>
      new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', url);
        xhr.setRequestHeader('Content-Type', mediaType);
        for (const [name, value] of Object.entries(auth)) xhr.setRequestHeader(name, value);
        onProgress(0, 'sending');
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total, 'sending');
        };
        // Every byte is sent; the service now parses and stores the examples, all or nothing.
        xhr.upload.onload = () => onProgress(1, 'processing');
        xhr.onerror = () => reject(networkError(new Error('the upload failed')));
        xhr.onload = () => {
          if (xhr.status >= 200 && xhr.status < 300) {
            // A success means the whole body was read: a file too small for progress events still ends at 100 %.
            onProgress(1, 'processing');
            resolve({ status: xhr.status, result: JSON.parse(xhr.responseText) as UploadResult });
          } else reject(apiErrorOf(xhr.status, xhr.statusText, xhr.responseText));
        };
        xhr.send(file);
      }),
  );
}
