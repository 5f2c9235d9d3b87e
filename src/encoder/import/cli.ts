/**
 * `npm run import-model -- <checkpoint-dir> <name> [--max-tokens N] [--standard-attention] [--force]`
 * `npm run import-model -- --default`  (the bundled all-MiniLM-L6-v2; run by `npm ci`)
 */
import { join, resolve } from 'node:path';
import { bundledCheckpointDir } from './bundled.js';
import { importCheckpoint } from './importer.js';
import { DEFAULT_MODEL } from '../../config.js';

function usage(): never {
  console.error(
    'usage: import-model <checkpoint-dir> <name> [--max-tokens N] [--standard-attention] [--force] [--models-dir DIR]\n       import-model --default',
  );
  process.exit(2);
}

function main(argv: string[]): void {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--force' || a === '--default' || a === '--standard-attention') flags.set(a, true);
    else if (a === '--max-tokens' || a === '--models-dir') flags.set(a, argv[++i] ?? usage());
    else if (a.startsWith('--')) usage();
    else positional.push(a);
  }
  const modelsDir = resolve(String(flags.get('--models-dir') ?? process.env.TRANSFERD_MODELS_DIR ?? 'models'));
  let src: string, name: string, maxTokens: number | undefined;
  if (flags.has('--default')) {
    [src, name, maxTokens] = [bundledCheckpointDir(), DEFAULT_MODEL, 256]; // sentence-transformers' max_seq_length for this model
  } else {
    if (positional.length !== 2) usage();
    [src, name] = positional as [string, string];
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`model name "${name}": use letters, digits, ".", "_" and "-"`);
    const mt = flags.get('--max-tokens');
    maxTokens = typeof mt === 'string' ? Number(mt) : undefined;
  }
  const result = importCheckpoint(resolve(src), join(modelsDir, name), name, {
    maxTokens,
    force: flags.has('--force'),
    standardAttention: flags.has('--standard-attention'),
  });
  const m = result.manifest;
  console.log(
    result.skipped
      ? `model ${name}: already imported (${m.layers} layers, hidden ${m.hiddenSize}, max ${m.maxTokens} tokens)`
      : `model ${name}: imported in ${(result.ms / 1000).toFixed(1)} s (${m.layers} layers, hidden ${m.hiddenSize}, max ${m.maxTokens} tokens) → ${join(modelsDir, name)}`,
  );
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`import-model: ${(err as Error).message}`);
  process.exit(1);
}
