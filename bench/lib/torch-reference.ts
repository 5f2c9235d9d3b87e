/**
 * bench:embed's PyTorch reference (issue 13): the service's tokens/s as a
 * multiple of plain eager PyTorch (Debian's python3-torch, ./torch-reference.py)
 * running the same checkpoint the importer reads on the same texts, in
 * length-sorted batches of 32, with the same thread count. Token ids are
 * handed to it, so tokenisation is excluded there as in the raw onnxruntime
 * baseline (and included in the service's figures, which pay for it).
 *
 * Per data set, PyTorch runs before and after every round of raw onnxruntime
 * (fp32, int8) and the service over HTTP (16 clients × 32 texts, fp32 then
 * int8), so drift on a shared machine moves both sides of every ratio; each
 * figure is a median. Before its first run, PyTorch's hidden states are
 * checked against the fp32 ONNX graph's on a few texts: the run fails if they
 * differ, since the ratio must compare engines, not models.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type * as ort from 'onnxruntime-node';
import { DEFAULT_INT8_MODEL, DEFAULT_MODEL } from '../../src/config.js';
import { encoderFeeds } from '../../src/encoder/feeds.js';
import { bundledCheckpointDir } from '../../src/encoder/import/bundled.js';
import { hiddenStateName, readManifest } from '../../src/encoder/manifest.js';
import { ENCODER_SETS, loadJsonl, shuffled } from './datasets.js';
import { closeConnections } from './http.js';
import { fmt, median, printTable } from './stats.js';

export interface Throughput {
  tokensPerS: number;
  textsPerS: number;
}

/** What bench/embed.ts measures with, handed over so that this table measures exactly as its others do. */
export interface EmbedBench {
  threads: number;
  /** The tokenizer's ids for a text, [CLS] and [SEP] included, not truncated. */
  encode: (text: string) => number[];
  openSession: (model: string) => Promise<ort.InferenceSession>;
  rawThroughput: (session: ort.InferenceSession, texts: string[]) => Promise<Throughput>;
  startService: (models: string[]) => Promise<{ port: number; stop: () => Promise<void> }>;
  load: (port: number, texts: string[], clients: number, perRequest: number, requests: number, model: string) => Promise<Throughput>;
}

interface TorchRun {
  torch: string;
  tokens_per_s: number;
  texts_per_s: number;
  agreement?: { texts: number; max_abs_delta: Record<string, number>; tolerance: number; ok: boolean };
}

const PYTHON = '/usr/bin/python3';
const SCRIPT = 'bench/lib/torch-reference.py';
const TMP = '.tmp/bench-embed-torch';
const ROUNDS = 3;
/** The raw baseline's sample size elsewhere in bench:embed; `BENCH_TORCH_TEXTS` shrinks it for a quick run. */
const TEXTS = Number(process.env.BENCH_TORCH_TEXTS ?? 1500);
const CLIENTS = 16;
const PER_REQUEST = 32;
/** Texts whose hidden states are compared, spread over the sample's lengths so padding is exercised. */
const AGREEMENT_TEXTS = 8;
/** Issue 13's goal: the service at ≥ 4× PyTorch's tokens/s, fp32 or int8. */
const GOAL = 4;

const execFileAsync = promisify(execFile);

function torchInstalled(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Ids as the service's worker cuts an over-long text: its head, ending in [SEP]. */
function tokenIds(bench: EmbedBench, text: string, maxTokens: number): number[] {
  const ids = bench.encode(text);
  return ids.length > maxTokens ? [...ids.slice(0, maxTokens - 1), ids[ids.length - 1]!] : ids;
}

/** The fp32 graph's hidden states `layers` on `seqs`, one batch padded to the longest, written for the Python side. */
async function writeOnnxStates(session: ort.InferenceSession, seqs: number[][], layers: number[], prefix: string): Promise<void> {
  const names = layers.map(hiddenStateName);
  const out = await session.run(encoderFeeds(seqs).feeds, names);
  const states = names.map((n) => out[n]!.data as Float32Array);
  const all = new Float32Array(states.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of states) {
    all.set(s, at);
    at += s.length;
  }
  writeFileSync(`${prefix}.json`, JSON.stringify({ ids: seqs, layers }));
  writeFileSync(`${prefix}.f32`, all);
}

/** `count` sequences at evenly spaced ranks of length, shortest to longest. */
function spreadByLength(seqs: number[][], count: number): number[][] {
  const sorted = [...seqs].sort((a, b) => a.length - b.length);
  return Array.from({ length: Math.min(count, sorted.length) }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / Math.max(1, count - 1))]!);
}

/** One PyTorch run over `idsFile`; with `check`, the agreement with the ONNX states written there first (exits non-zero on a mismatch). */
async function torchRun(idsFile: string, threads: number, check?: string): Promise<TorchRun> {
  const n = String(threads);
  // Debian's torch runs its matrix products on OpenBLAS's own threads and the rest on OpenMP's; OpenMP's
  // default spin-wait then takes the cores OpenBLAS needs (2–4× slower on 2 shared cores). Passive waiting
  // is PyTorch at its best here, which keeps the ratio honest.
  const env = {
    ...process.env,
    OMP_NUM_THREADS: n,
    OPENBLAS_NUM_THREADS: n,
    MKL_NUM_THREADS: n,
    OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
  };
  const args = [SCRIPT, bundledCheckpointDir(), idsFile, n, ...(check ? [check] : [])];
  try {
    const { stdout } = await execFileAsync(PYTHON, args, { env, maxBuffer: 1 << 20 });
    return JSON.parse(stdout) as TorchRun;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`PyTorch reference failed: ${(e.stderr || e.message).trim()}${e.stdout ? `\n${e.stdout.trim()}` : ''}`);
  }
}

interface Measured {
  torch: TorchRun[];
  /** Per model of MODELS, in its order. */
  raw: Throughput[][];
  http: Throughput[][];
}

const MODELS = [DEFAULT_MODEL, DEFAULT_INT8_MODEL] as const;
const weightsOf = (model: string) => (model === DEFAULT_MODEL ? 'fp32' : 'int8');
const torchThroughput = (t: TorchRun): Throughput => ({ tokensPerS: t.tokens_per_s, textsPerS: t.texts_per_s });

/**
 * One data set's rounds: PyTorch first (with the agreement check), then each round raw onnxruntime and
 * the service, fp32 then int8, and PyTorch again, so that every engine sees the same drift.
 */
async function measure(bench: EmbedBench, sessions: ort.InferenceSession[], port: number, texts: string[], idsFile: string, check: string): Promise<Measured> {
  const m: Measured = { torch: [await torchRun(idsFile, bench.threads, check)], raw: MODELS.map(() => []), http: MODELS.map(() => []) };
  const requests = Math.ceil(texts.length / PER_REQUEST);
  for (const s of sessions) await bench.rawThroughput(s, texts.slice(0, 64)); // warm-up
  for (const model of MODELS) await bench.load(port, texts, CLIENTS, PER_REQUEST, Math.min(requests, 20), model); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, s] of sessions.entries()) m.raw[i]!.push(await bench.rawThroughput(s, texts));
    for (const [i, model] of MODELS.entries()) m.http[i]!.push(await bench.load(port, texts, CLIENTS, PER_REQUEST, requests, model));
    m.torch.push(await torchRun(idsFile, bench.threads));
    process.stderr.write('.');
  }
  return m;
}

interface Row {
  engine: string;
  weights: string;
  runs: Throughput[];
}

function rowsOf(m: Measured): Row[] {
  const batches = `sorted batches of ${PER_REQUEST}`;
  return [
    { engine: `PyTorch ${m.torch[0]!.torch}, eager, ${batches}`, weights: 'fp32', runs: m.torch.map(torchThroughput) },
    ...MODELS.map((model, i) => ({ engine: `raw onnxruntime, ${batches}`, weights: weightsOf(model), runs: m.raw[i]! })),
    ...MODELS.map((model, i) => ({ engine: `service over HTTP, ${CLIENTS} clients × ${PER_REQUEST} texts`, weights: weightsOf(model), runs: m.http[i]! })),
  ];
}

const medianOf = (runs: Throughput[], key: keyof Throughput) => median(runs.map((x) => x[key]));

/**
 * The PyTorch reference table, or a one-line note when Debian's torch is not
 * installed. Throws when PyTorch and the ONNX graph disagree.
 */
export async function torchReferenceTable(bench: EmbedBench): Promise<void> {
  if (!torchInstalled()) {
    console.log(`bench:embed: PyTorch reference skipped: ${PYTHON} has no torch (apt-get install -y python3-torch)`);
    return;
  }
  const manifest = readManifest(join('models', DEFAULT_MODEL));
  if (!manifest) throw new Error(`models/${DEFAULT_MODEL} is not imported (npm ci imports it)`);
  const layers = [Math.ceil(manifest.layers / 2), manifest.layers];
  mkdirSync(TMP, { recursive: true });
  const sessions = await Promise.all(MODELS.map((m) => bench.openSession(m)));
  const service = await bench.startService([...MODELS]);
  const table: Array<Array<string | number>> = [];
  const agreement: Array<Array<string | number>> = [];
  const best: string[] = [];
  let version = '';
  let met = true;
  try {
    for (const [name, file] of ENCODER_SETS) {
      const texts = shuffled(loadJsonl(file).map((e) => e.text)).slice(0, TEXTS);
      const seqs = texts.map((t) => tokenIds(bench, t, manifest.maxTokens));
      const idsFile = `${TMP}/${name}.ids.json`;
      writeFileSync(idsFile, JSON.stringify(seqs));
      const check = `${TMP}/${name}.onnx-states`;
      await writeOnnxStates(sessions[0]!, spreadByLength(seqs, AGREEMENT_TEXTS), layers, check);
      const measured = await measure(bench, sessions, service.port, texts, idsFile, check);

      version = measured.torch[0]!.torch;
      const a = measured.torch[0]!.agreement!;
      agreement.push([name, a.texts, ...layers.map((l) => a.max_abs_delta[String(l)]!.toExponential(1)), a.tolerance.toExponential(0)]);
      const base = medianOf(measured.torch.map(torchThroughput), 'tokensPerS');
      const rows = rowsOf(measured);
      for (const r of rows) {
        const tokensPerS = medianOf(r.runs, 'tokensPerS');
        table.push([name, r.engine, r.weights, r.runs.length, fmt(medianOf(r.runs, 'textsPerS'), 0), fmt(tokensPerS, 0), fmt(tokensPerS / base, 2)]);
      }
      const service16 = Math.max(...rows.filter((r) => r.engine.startsWith('service')).map((r) => medianOf(r.runs, 'tokensPerS') / base));
      best.push(`${name} ${fmt(service16, 2)}×`);
      met &&= service16 >= GOAL;
    }
  } finally {
    await service.stop();
    for (const s of sessions) await s.release();
    closeConnections();
  }
  process.stderr.write('\n');
  console.log(
    `bench:embed — PyTorch ${version} reference (${PYTHON}, plain eager BERT on the bundled checkpoint, fp16 → fp32) vs ${DEFAULT_MODEL}, ` +
      `${bench.threads} threads on every side, ${TEXTS} texts a data set; tokens/s = median (PyTorch before and after each of ${ROUNDS} rounds)`,
  );
  printTable(['dataset', 'engine', 'weights', 'runs', 'texts/s', 'tokens/s', '× PyTorch (tokens/s)'], table);
  console.log('\nPyTorch vs the fp32 ONNX graph: max abs Δ of hidden states over real tokens (the run fails above the tolerance)');
  printTable(['dataset', 'texts', ...layers.map((l) => `layer ${l} max abs Δ`), 'tolerance'], agreement);
  console.log(
    `\ngoal: the service (${CLIENTS} × ${PER_REQUEST}, fp32 or int8) ≥ ${GOAL}× PyTorch's tokens/s: ${met ? 'met' : 'MISSED'} (best: ${best.join(', ')})`,
  );
}
