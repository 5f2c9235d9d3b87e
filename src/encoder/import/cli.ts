/**
 * `npm run import-model -- <checkpoint-dir> <name> [--max-tokens N] [--standard-attention] [--int8] [--force]`
 * `npm run import-model -- --default`  (the bundled all-MiniLM-L6-v2, fp32 and int8; run by `npm ci`)
 * `npm run import-model -- --int8`     (the bundled checkpoint's int8 model alone)
 */
import { join, resolve } from 'node:path';
import { bundledCheckpointDir } from './bundled.js';
import { type ImportOptions, importCheckpoint } from './importer.js';
import { DEFAULT_INT8_MODEL, DEFAULT_MODEL } from '../../config.js';

function usage(): never {
  console.error(
    'usage: import-model <checkpoint-dir> <name> [--max-tokens N] [--standard-attention] [--int8] [--force] [--models-dir DIR]\n       import-model --default | --int8',
  );
  process.exit(2);
}

interface Job {
  src: string;
  name: string;
  options: ImportOptions;
}

function jobs(argv: string[]): { modelsDir: string; jobs: Job[] } {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--force' || a === '--default' || a === '--standard-attention' || a === '--int8') flags.set(a, true);
    else if (a === '--max-tokens' || a === '--models-dir') flags.set(a, argv[++i] ?? usage());
    else if (a.startsWith('--')) usage();
    else positional.push(a);
  }
  const modelsDir = resolve(String(flags.get('--models-dir') ?? process.env.TRANSFERD_MODELS_DIR ?? 'models'));
  const common = { force: flags.has('--force'), standardAttention: flags.has('--standard-attention') };
  if (positional.length === 0 && (flags.has('--default') || flags.has('--int8'))) {
    // sentence-transformers' max_seq_length for this model
    const bundled = { src: bundledCheckpointDir(), options: { ...common, maxTokens: 256 } };
    const int8 = { ...bundled, name: DEFAULT_INT8_MODEL, options: { ...bundled.options, int8: true } };
    return { modelsDir, jobs: flags.has('--default') ? [{ ...bundled, name: DEFAULT_MODEL }, int8] : [int8] };
  }
  if (positional.length !== 2 || flags.has('--default')) usage();
  const [src, name] = positional as [string, string];
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`model name "${name}": use letters, digits, ".", "_" and "-"`);
  const mt = flags.get('--max-tokens');
  const maxTokens = typeof mt === 'string' ? Number(mt) : undefined;
  return { modelsDir, jobs: [{ src, name, options: { ...common, ...(maxTokens === undefined ? {} : { maxTokens }), int8: flags.has('--int8') } }] };
}

function main(argv: string[]): void {
  const { modelsDir, jobs: todo } = jobs(argv);
  for (const { src, name, options } of todo) {
    const result = importCheckpoint(resolve(src), join(modelsDir, name), name, options);
    const m = result.manifest;
    const what = `${m.layers} layers, hidden ${m.hiddenSize}, max ${m.maxTokens} tokens, ${m.weights ?? 'fp32'}`;
    console.log(
      result.skipped
        ? `model ${name}: already imported (${what})`
        : `model ${name}: imported in ${(result.ms / 1000).toFixed(1)} s (${what}) → ${join(modelsDir, name)}`,
    );
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`import-model: ${(err as Error).message}`);
  process.exit(1);
}
