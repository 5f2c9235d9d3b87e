/**
 * npm run bench:little-data -- --skewed [--sets banking77,trec,sst2] [--draws 5] [--share 0.85] [--size 300]
 *
 * Zero-shot that knows the class balance (issue 20), through the HTTP API of the service as `npm start` runs it.
 * Per set and draw, one label (drawn at random among those with texts enough) takes `share` of a pool of
 * unlabelled texts and of as many evaluation texts, the rest drawn at random from the other labels' texts. Pool
 * and evaluation texts are disjoint and come from the train and test splits together: zero-shot trains on
 * nothing. A task with its labels declared with descriptions (./label-descriptions.ts) predicts the evaluation
 * texts before it has a pool (version 0 alone), then after the prior is estimated on the pool.
 *
 * Goal: with the prior, accuracy ≥ the majority rate (always saying the common label) and above it without the
 * prior, on every set (means over the draws).
 */
import { availableParallelism, cpus } from 'node:os';
import { type Json, startBenchService } from './bench-service.js';
import { type Example, loadJsonl, shuffled } from './datasets.js';
import { DESCRIPTIONS } from './label-descriptions.js';
import { fmt, mean, printTable } from './stats.js';

const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const pct = (x: number) => fmt(100 * x, 1);
/** Below this many texts a side the draw would say little; a label with fewer is never the common one. */
const MIN_SIZE = 40;

interface Draw {
  set: string;
  label: string;
  size: number;
  without: number;
  withPrior: number;
  majority: number;
  /** The prior's estimate of the common label's share. */
  estimated: number;
}

export async function skewedPriorBench(opts: Map<string, string>): Promise<void> {
  const sets = (opts.get('sets') ?? 'banking77,trec,sst2').split(',');
  const draws = Number(opts.get('draws') ?? 5);
  const share = Number(opts.get('share') ?? 0.85);
  const size = Number(opts.get('size') ?? 300);
  const svc = await startBenchService('transferd-skewed-');
  const started = performance.now();
  const rows: Draw[] = [];
  try {
    for (const set of sets) {
      const all = [...loadJsonl(`${set}.train.jsonl`), ...loadJsonl(`${set}.test.jsonl`)];
      const byLabel = new Map<string, Example[]>();
      for (const e of all) {
        const texts = byLabel.get(e.label);
        if (texts) texts.push(e);
        else byLabel.set(e.label, [e]);
      }
      const labels = [...byLabel.keys()].sort();
      const described = labels.map((name) => ({ name, description: DESCRIPTIONS[set]?.[name] ?? name.replaceAll('_', ' ') }));
      const eligible = labels.filter((l) => byLabel.get(l)!.length >= 2 * Math.ceil(share * MIN_SIZE));
      for (let draw = 0; draw < draws; draw++) {
        const label = shuffled(eligible, 300 + draw)[0]!;
        const mine = shuffled(byLabel.get(label)!, 400 + draw);
        const m = Math.min(size, Math.floor(mine.length / (2 * share)));
        const common = Math.round(share * m);
        const others = shuffled(
          all.filter((e) => e.label !== label),
          500 + draw,
        ).slice(0, 2 * (m - common));
        const pool = [...mine.slice(0, common), ...others.slice(0, m - common)];
        const evaluation: Example[] = shuffled([...mine.slice(common, 2 * common), ...others.slice(m - common)], 600 + draw);
        const task = String((await svc.call('POST', '/v1/tasks', { name: `${set}-skewed-${draw}`, labels: described })).id);
        const without = await svc.accuracy(task, evaluation);
        await svc.call('POST', `/v1/tasks/${task}/pool`, { input: pool.map((e) => e.text) });
        const prior = await estimated(svc.call, task);
        const withPrior = await svc.accuracy(task, evaluation);
        const row: Draw = { set, label, size: m, without, withPrior, majority: common / m, estimated: (prior.prior as Record<string, number>)[label]! };
        rows.push(row);
        log(
          `${set} draw ${draw} (${label}, ${m} a side): without ${pct(without)} %, with ${pct(withPrior)} %, majority ${pct(row.majority)} %, estimated share ${pct(row.estimated)} %`,
        );
        await svc.call('DELETE', `/v1/tasks/${task}`).catch(() => undefined);
      }
    }
  } finally {
    await svc.stop();
  }
  const machine = `${cpus()[0]?.model.trim() ?? 'cpu'} × ${availableParallelism()}`;
  console.log(
    `\nbench:little-data --skewed — zero-shot on a pool ${pct(share)} % one label, ${draws} draws; ${machine}, ${new Date().toISOString().slice(0, 10)}, ${fmt((performance.now() - started) / 60000, 1)} min`,
  );
  let missed = 0;
  const table = sets.map((set) => {
    const r = rows.filter((x) => x.set === set);
    const [without, withPrior, majority] = [mean(r.map((x) => x.without)), mean(r.map((x) => x.withPrior)), mean(r.map((x) => x.majority))];
    const ok = withPrior >= majority && withPrior > without;
    if (!ok) missed++;
    return [
      set,
      r.map((x) => x.label).join(' '),
      pct(without),
      pct(withPrior),
      pct(majority),
      pct(mean(r.map((x) => x.estimated))),
      r.map((x) => fmt(100 * (x.withPrior - x.majority), 1)).join(' '),
      ok ? 'yes' : 'NO',
    ];
  });
  printTable(
    ['set', 'common label (each draw)', 'without the prior %', 'with it %', 'majority rate %', 'estimated share %', 'with − majority (each draw)', 'goal'],
    table,
  );
  console.log(missed ? `goal missed on ${missed} set(s)` : 'goal met: with the prior ≥ the majority rate and above without it, on every set');
}

/** The task's prior once estimated on its pool as it is (rejects after a minute). */
async function estimated(call: (method: string, path: string) => Promise<Json>, task: string): Promise<Json> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const prior = await call('GET', `/v1/tasks/${task}/prior`);
    if (prior.state === 'current' && prior.applied) return prior;
    if (prior.state === 'unavailable') throw new Error(`no prior: ${String(prior.reason)}`);
    if (Date.now() > deadline) throw new Error('the prior was still being estimated after a minute');
    await new Promise((r) => setTimeout(r, 200));
  }
}
