/** The shared labelled datasets (JSONL, one {"text","label"} a line), read from ../shared/datasets. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface Example {
  text: string;
  label: string;
}

export const DATASETS_DIR = resolve(process.env.TRANSFERD_DATASETS_DIR ?? join(process.cwd(), '..', 'shared', 'datasets'));

/** The test sets bench:embed times in all its tables: short intents and longer reviews. */
export const ENCODER_SETS = [
  ['banking77', 'banking77.test.jsonl'],
  ['sst2', 'sst2.test.jsonl'],
] as const;

export function loadJsonl(file: string): Example[] {
  return readFileSync(join(DATASETS_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Example);
}

/** Deterministic shuffle (mulberry32), so every run sends the same texts in the same order. */
export function shuffled<T>(items: T[], seed = 1): T[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
