/**
 * npm run bench:little-data -- --cold-start [--sets banking77,trec,sst2] [--draws 5] [--pool 2000] [--rounds 4]
 *   [--round-share 0.05] [--test 1000] [--strategies random,margin,mixed] [--first-draw 0]
 *
 * Suggestions from a cold start (issue 20), through the HTTP API of the service as `npm start` runs it (a child
 * process, SQLite): per data set and draw, a pool of unlabelled training texts and 2 examples a label drawn from
 * the rest; each strategy gets a task of its own with those examples, trains (a job: the default head), then
 * `rounds` times picks round-share × pool texts from the pool, labels them (their true labels, uploaded as
 * examples) and trains again. After each job the new version's accuracy on the test split (at most `test` texts,
 * the same for every strategy) through POST …/predict. Jobs activate the new version (`activate: true`) and
 * skip the evaluation: what is measured is what the picks teach the head, not the activation rule.
 *
 * Strategies: `random` (a seeded shuffle of the pool); `margin`, `typical`, `mixed` (POST …/suggestions with that
 * strategy, margin's diversity 0.1, the default uncertainty weight); `typical:W` (uncertainty_weight W);
 * `typical@H`, `mixed@H` (uncertainty_weight n / (n + H), n the median examples a label so far).
 * `--first-draw N` numbers the draws from N, to explore on other draws than those reported.
 */
import { availableParallelism, cpus } from 'node:os';
import { rng } from '../../src/heads/evaluation.js';
import { type Example, loadJsonl, shuffled } from './datasets.js';
import { startBenchService } from './bench-service.js';
import { fmt, mean, printTable } from './stats.js';

export interface ColdStartOptions {
  sets: string[];
  draws: number;
  pool: number;
  rounds: number;
  roundShare: number;
  test: number;
  strategies: string[];
  startPerLabel: number;
  /** Draws are numbered from here (their seeds follow): exploring on other draws than those reported. */
  firstDraw: number;
}

export const COLD_START_DEFAULTS: ColdStartOptions = {
  sets: ['banking77', 'trec', 'sst2'],
  draws: 5,
  pool: 2000,
  rounds: 4,
  roundShare: 0.05,
  test: 1000,
  strategies: ['random', 'margin', 'mixed'],
  startPerLabel: 2,
  firstDraw: 0,
};

export function parseColdStart(args: string[]): ColdStartOptions {
  const o = { ...COLD_START_DEFAULTS };
  const value = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const list = (name: string) => value(name)?.split(',').filter(Boolean);
  const num = (name: string) => (value(name) === undefined ? undefined : Number(value(name)));
  o.sets = list('sets') ?? o.sets;
  o.strategies = list('strategies') ?? o.strategies;
  o.draws = num('draws') ?? o.draws;
  o.pool = num('pool') ?? o.pool;
  o.rounds = num('rounds') ?? o.rounds;
  o.roundShare = num('round-share') ?? o.roundShare;
  o.test = num('test') ?? o.test;
  o.firstDraw = num('first-draw') ?? o.firstDraw;
  return o;
}

const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pts = (x: number) => `${x >= 0 ? '+' : ''}${fmt(100 * x, 1)}`;
const pct = (x: number) => `${fmt(100 * x, 1)}%`;

/** Accuracy after each job: [strategy][set][draw][round 0..rounds]. */
type Curves = Map<string, Map<string, number[][]>>;

export async function coldStartBench(o: ColdStartOptions): Promise<void> {
  const started = performance.now();
  const svc = await startBenchService('bench-cold-start-');
  const curves: Curves = new Map(o.strategies.map((s) => [s, new Map()]));
  const timeBy = new Map<string, number>();
  try {
    const { call, upload } = svc;
    const train = async (task: string) => Number((await svc.train(task, { activate: true, evaluation: { method: 'none' } })).version);
    const accuracy = (task: string, test: Example[]) => svc.accuracy(task, test);

    for (const set of o.sets) {
      const all = loadJsonl(`${set}.train.jsonl`);
      const labels = [...new Set(all.map((e) => e.label))].sort();
      const perRound = Math.max(1, Math.round(o.roundShare * o.pool));
      for (let draw = o.firstDraw; draw < o.firstDraw + o.draws; draw++) {
        const order = shuffled(all, 2000 + draw);
        const pool = order.slice(0, o.pool);
        const rest = order.slice(o.pool);
        const start = labels.flatMap((l) => rest.filter((e) => e.label === l).slice(0, o.startPerLabel));
        const test = shuffled(loadJsonl(`${set}.test.jsonl`), 3000 + draw).slice(0, o.test);
        for (const strategy of o.strategies) {
          const t0 = performance.now();
          const task = String((await call('POST', '/v1/tasks', { name: `${set}-${draw}-${strategy.replace(/[^a-z0-9]/gi, '-')}` })).id);
          await upload(task, start);
          let version = await train(task);
          const curve = [await accuracy(task, test)];
          const labelled = new Set<string>();
          const picked: Example[] = [];
          const rand = rng(4000 + draw);
          for (let round = 0; round < o.rounds; round++) {
            const left = pool.filter((e) => !labelled.has(e.text));
            let picks: Example[];
            if (strategy === 'random') {
              const idx = left.map((_, i) => i);
              for (let i = idx.length - 1; i > 0; i--) {
                const j = Math.floor(rand() * (i + 1));
                [idx[i], idx[j]] = [idx[j]!, idx[i]!];
              }
              picks = idx.slice(0, perRound).map((i) => left[i]!);
            } else {
              // typical:W sends W; typical@H sends n / (n + H), n the median examples a label so far.
              const [name, fixed] = strategy.split(/[:@]/);
              const counts = labels.map((l) => start.filter((e) => e.label === l).length + picked.filter((e) => e.label === l).length).sort((a, b) => a - b);
              const weight = strategy.includes('@') ? String(median(counts) / (median(counts) + Number(fixed))) : fixed;
              const body = {
                input: left.map((e) => e.text),
                k: perRound,
                version,
                strategy: name,
                ...(name === 'margin' || name === 'mixed' ? { diversity: 0.1 } : {}),
                ...(weight !== undefined ? { uncertainty_weight: Number(weight) } : {}),
                seed: draw,
              };
              const r = await call('POST', `/v1/tasks/${task}/suggestions`, body);
              picks = (r.data as Array<{ index: number }>).map((d) => left[d.index]!);
            }
            for (const p of picks) labelled.add(p.text);
            picked.push(...picks);
            await upload(task, picks);
            version = await train(task);
            curve.push(await accuracy(task, test));
          }
          const byStrategy = curves.get(strategy)!;
          if (!byStrategy.has(set)) byStrategy.set(set, []);
          byStrategy.get(set)!.push(curve);
          timeBy.set(strategy, (timeBy.get(strategy) ?? 0) + (performance.now() - t0));
          log(`cold start: ${set} draw ${draw} ${strategy}: ${curve.map(pct).join(' → ')}`);
          await call('DELETE', `/v1/tasks/${task}`).catch(() => undefined);
        }
      }
    }
  } finally {
    await svc.stop();
  }

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(
    `bench:little-data --cold-start — \`npm run bench:little-data -- --cold-start\`, ${availableParallelism()} CPUs (${cpu}), ${new Date().toISOString().slice(0, 10)}; total ${fmt((performance.now() - started) / 60000)} min`,
  );
  const perRound = Math.max(1, Math.round(o.roundShare * o.pool));
  console.log(
    `\nCold start through the HTTP API: ${o.startPerLabel} examples a label, then ${o.rounds} rounds of ${perRound} texts (${fmt(100 * o.roundShare, 0)} % of a pool of ${o.pool}); default head; test accuracy (at most ${o.test} test texts) after each job, mean of ${o.draws} draws (median in brackets).`,
  );
  const header = ['data set', 'picks', 'start', ...Array.from({ length: o.rounds }, (_, r) => `round ${r + 1}`), `last − random (each draw)`];
  const rows: string[][] = [];
  const finals = new Map<string, number[]>();
  for (const set of o.sets) {
    const random = curves.get('random')?.get(set);
    for (const strategy of o.strategies) {
      const cs = curves.get(strategy)?.get(set);
      if (!cs) continue;
      const cells = cs[0]!.map((_, r) => `${pct(mean(cs.map((c) => c[r]!)))} (${pct(median(cs.map((c) => c[r]!)))})`);
      const diffs = random ? cs.map((c, d) => c[o.rounds]! - random[d]![o.rounds]!) : [];
      rows.push([set, strategy, ...cells, random && strategy !== 'random' ? `${pts(mean(diffs))} (${diffs.map(pts).join(' ')})` : '']);
      finals.set(`${strategy}|${set}`, diffs);
    }
  }
  printTable(header, rows);
  console.log('\nMean over the data sets, and the first round against the start (points of accuracy, mean of the draws; the lowest set in brackets).');
  const summary: string[][] = [];
  for (const strategy of o.strategies) {
    const finalsOver = o.sets.map((set) =>
      mean(
        curves
          .get(strategy)!
          .get(set)!
          .map((c) => c[o.rounds]!),
      ),
    );
    const vsRandom = strategy === 'random' ? [] : o.sets.map((set) => mean(finals.get(`${strategy}|${set}`) ?? [0]));
    const firstRound = o.sets.map((set) =>
      mean(
        curves
          .get(strategy)!
          .get(set)!
          .map((c) => c[1]! - c[0]!),
      ),
    );
    summary.push([
      strategy,
      pct(mean(finalsOver)),
      strategy === 'random' ? '' : `${pts(mean(vsRandom))} (${pts(Math.min(...vsRandom))})`,
      `${pts(mean(firstRound))} (${pts(Math.min(...firstRound))})`,
      `${fmt((timeBy.get(strategy) ?? 0) / 60000, 1)} min`,
    ]);
  }
  printTable(['picks', 'after the last round', 'last − random', 'round 1 − start', 'time'], summary);
}
