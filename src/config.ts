/**
 * Configuration from environment variables, validated once at start.
 * The README's configuration table is rendered from `ENV` (test/unit/docs.test.ts holds them equal).
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';

export const DEFAULT_MODEL = 'all-MiniLM-L6-v2';
/** The bundled checkpoint's int8 import (`npm ci` writes it beside the default; loaded only when TRANSFERD_MODELS names it). */
export const DEFAULT_INT8_MODEL = `${DEFAULT_MODEL}-int8`;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
/** "10mb", "512kb", "1048576". */
const bytes = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'use a size such as 1048576, 512kb or 10mb')
  .transform((v) => {
    const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(v)!;
    const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
    return Math.floor(Number(m[1]) * unit);
  });

/** Each variable: its schema (with default), its description, and `shown`: the default as the README says it, where the value depends on the machine. */
export const ENV = {
  PORT: { schema: int(0, 65535).default(8080), doc: 'HTTP port.' },
  HOST: { schema: z.string().default('0.0.0.0'), doc: 'Interface to listen on.' },
  TRANSFERD_MODELS_DIR: { schema: z.string().default('models'), doc: 'Folder of imported models (`npm run import-model`).' },
  TRANSFERD_MODELS: {
    schema: z
      .string()
      .default(DEFAULT_MODEL)
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    doc: 'Comma-separated models to load; the first is the default for requests that name none (`npm ci` imports all-MiniLM-L6-v2 and all-MiniLM-L6-v2-int8).',
  },
  TRANSFERD_ORT_THREADS: { schema: int(1, 256).default(availableParallelism()), shown: 'CPU count', doc: 'Intra-op threads of onnxruntime per model.' },
  TRANSFERD_ORT_SPIN: {
    schema: bool.default(false),
    doc: 'Let idle onnxruntime threads spin-wait for work: a little lower latency on an idle machine, CPU taken from HTTP, tokenisation and training otherwise.',
  },
  TRANSFERD_MAX_BATCH_TOKENS: {
    schema: int(16).default(8192),
    doc: 'Token budget of one encoder run: its tokens, when the model shares rows between sequences (imports by importer version 3 on), else batch size × padded length.',
  },
  TRANSFERD_MAX_BATCH_SIZE: { schema: int(1, 4096).default(64), doc: 'Most sequences in one encoder run.' },
  TRANSFERD_MAX_QUEUED_TEXTS: { schema: int(1).default(16384), doc: 'Interactive texts allowed to wait per model; beyond it requests get 429.' },
  TRANSFERD_MAX_QUEUE_WAIT_MS: {
    schema: int(0).default(2000),
    doc: 'A request whose texts would wait longer than this for the encoder, or whose rows for a predict worker (each predicted from recent runs), gets 429 at once (0: only the text bound).',
  },
  TRANSFERD_MAX_EVENT_STREAMS: {
    schema: int(1).default(1000),
    doc: 'Job event streams (GET …/jobs/{job}/events) one replica holds open at once; past it, 429. Each reads its job from the store twice a second.',
  },
  TRANSFERD_MAX_EXPORTS: {
    schema: int(1, 64).default(1),
    doc: 'ONNX exports (GET …/versions/{n}/export) one replica builds and sends at once; past it, 429. Each holds 190–500 MB while it is built (bench:export) and the file (~90 MB) until it is sent.',
  },
  TRANSFERD_MAX_INPUTS: { schema: int(1).default(2048), doc: 'Most texts in one embeddings or predict request.' },
  TRANSFERD_MAX_INPUT_CHARS: { schema: int(1).default(100_000), doc: 'Longest single text accepted, in characters.' },
  TRANSFERD_BODY_LIMIT: { schema: bytes.default(10 * 1024 ** 2), doc: 'Largest JSON request body, as sent and decompressed (bytes, or 512kb, 10mb).' },
  TRANSFERD_BODY_TIMEOUT_MS: {
    schema: int(100, 3_600_000).default(60_000),
    doc: 'Longest a request body (JSON or upload) may take to arrive; a slower one is answered 408 and its connection closed.',
  },
  DATABASE_URL: {
    schema: z.string().min(1).optional(),
    doc: 'PostgreSQL connection URL (postgres://user@host:5432/db); set it to share state between replicas. Unset: embedded SQLite.',
  },
  TRANSFERD_DATABASE_SCHEMA: {
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'lower-case letters, digits and _')
      .default('public'),
    doc: 'PostgreSQL schema for the tables (created if missing).',
  },
  TRANSFERD_DATABASE_POOL: { schema: int(1, 1000).default(10), doc: 'PostgreSQL connections per replica.' },
  TRANSFERD_DATA_DIR: { schema: z.string().default('data'), doc: 'Where the embedded SQLite store lives (`transferd.db`), when DATABASE_URL is unset.' },
  TRANSFERD_UPLOAD_LIMIT: { schema: bytes.default(256 * 1024 ** 2), doc: 'Largest example upload, as sent and decompressed (bytes; streamed, not buffered).' },
  TRANSFERD_MAX_UPLOAD_EXAMPLES: { schema: int(1).default(200_000), doc: 'Most records in one upload, valid or not.' },
  TRANSFERD_MAX_LABELS: { schema: int(2).default(10_000), doc: 'Most distinct labels in one task.' },
  TRANSFERD_FEATURE_CACHE: { schema: bytes.default(256 * 1024 ** 2), doc: 'In-memory feature cache per replica (bytes, or 256mb).' },
  TRANSFERD_TUNED_STACK_CACHE: {
    schema: bytes.default(256 * 1024 ** 2),
    doc: "Fine-tuned versions' own encoder layers each model's encoder keeps loaded (bytes of their fp32 weights: 14 MB for the top 2 layers of all-MiniLM-L6-v2); the least recently used go first and are read from the store again when next needed.",
  },
  TRANSFERD_ADMIN_KEY: {
    schema: z.string().min(32, 'use at least 32 characters (e.g. openssl rand -hex 32)').optional(),
    doc: 'Turns API keys on: this key manages clients and their keys (/v1/admin); every other route then needs a client key. Unset: one open client, no keys, no client limits.',
  },
  TRANSFERD_SHARED_FEATURE_CACHE: {
    schema: bool.default(false),
    doc: "With keys on, share cached features between clients (more reuse, but a client can time whether another sent a text). Default: each client's own.",
  },
  TRANSFERD_CLIENT_REQUESTS_PER_MINUTE: {
    schema: int(0).default(6000),
    doc: "A client's requests per minute over all replicas, unless its own limit says otherwise (0: none).",
  },
  TRANSFERD_CLIENT_TOKENS_PER_MINUTE: { schema: int(0).default(300_000), doc: "A client's encoder tokens per minute over all replicas (0: none)." },
  TRANSFERD_CLIENT_MAX_TASKS: { schema: int(0).default(1000), doc: 'Tasks a client may have (0: no limit).' },
  TRANSFERD_CLIENT_MAX_EXAMPLES: {
    schema: int(0).default(1_000_000),
    doc: "Stored texts (examples and pool texts) over all of a client's tasks (0: no limit).",
  },
  TRANSFERD_CLIENT_MAX_STORED_BYTES: {
    schema: bytes.default(1024 ** 3),
    doc: "UTF-8 bytes of a client's example texts and labels and pool texts, plus its versions' stored artifacts, evaluations and fine-tuned layers (bytes, or 1gb; 0: no limit).",
  },
  TRANSFERD_CLIENT_MAX_RUNNING_JOBS: {
    schema: int(0).default(1),
    doc: "A client's training jobs running at once over all replicas; more wait in the queue (0: no limit).",
  },
  TRANSFERD_CLIENT_MAX_ACTIVE_JOBS: {
    schema: int(0).default(10),
    doc: "A client's training jobs queued or running; a request beyond it gets 403 (0: no limit).",
  },
  TRANSFERD_TRAINING_CONCURRENCY: { schema: int(0, 64).default(1), doc: 'Training jobs this replica runs at once; 0 makes it serve-only.' },
  TRANSFERD_TRAINING_THREADS: {
    schema: int(1, 256).default(availableParallelism()),
    shown: 'CPU count',
    doc: 'Threads one training job may use (one-vs-one pairs, trees).',
  },
  TRANSFERD_TRAINING_HEAP_MB: {
    schema: int(0).default(0),
    doc: "Heap limit of a job's training process in MB (0: Node's default); a job over it fails, the service stays up.",
  },
  TRANSFERD_JOB_LEASE_MS: {
    schema: int(100).default(30_000),
    doc: 'Lease on a running job; a replica that stops renewing it for this long loses the job to another.',
  },
  TRANSFERD_JOB_POLL_MS: { schema: int(10).default(1000), doc: 'How often an idle replica looks for queued jobs.' },
  TRANSFERD_JOB_MAX_ATTEMPTS: { schema: int(1, 100).default(3), doc: 'Claims of a job before a lapsed lease fails it.' },
  TRANSFERD_PREDICT_THREADS: {
    schema: int(1, 64).default(Math.min(2, availableParallelism())),
    shown: 'min(2, CPU count)',
    doc: 'Worker threads that score features with trained heads.',
  },
  TRANSFERD_ACTIVE_VERSION_TTL_MS: {
    schema: int(0).default(1000),
    doc: "How long a replica serves a task's active version from memory before checking the store (change notices also invalidate it).",
  },
  TRANSFERD_REPLICA_ID: {
    schema: z.string().min(1).optional(),
    shown: 'host-pid-random',
    doc: 'Name of this replica in job leases: by default its host name, process id and a random suffix.',
  },
  TRANSFERD_SHUTDOWN_TIMEOUT_MS: { schema: int(0).default(15_000), doc: 'On SIGTERM, how long in-flight requests may take before exit.' },
  TRANSFERD_LOG_REQUESTS: { schema: bool.default(false), doc: 'Log one line per request to stdout.' },
} as const;

type EnvKey = keyof typeof ENV;
export type Config = { [K in EnvKey]: z.output<(typeof ENV)[K]['schema']> };

/** Parses `env`; throws one error listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, { schema }] of Object.entries(ENV)) {
    const raw = env[key];
    const r = (schema as z.ZodType).safeParse(raw === '' ? undefined : raw);
    if (r.success) out[key] = r.data;
    else problems.push(`${key}=${JSON.stringify(raw)}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) throw new Error(`bad configuration:\n  ${problems.join('\n  ')}`);
  const config = out as Config;
  if (config.TRANSFERD_MODELS.length === 0) throw new Error('bad configuration: TRANSFERD_MODELS names no model');
  return config;
}
